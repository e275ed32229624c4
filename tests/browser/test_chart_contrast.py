"""Every word and number inside the dashboard's SVG charts is readable: its colour against
the colour of what it is drawn on has a WCAG contrast ratio of at least 4.5:1.

axe does not look inside an image, so the chart documents are opened on their own in
Chromium, which resolves their styles: for each text, its computed fill, and beneath its
middle the topmost painted shape (a bar, the plot, the background) and that shape's fill.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, log_in

MINIMUM = 4.5

# For each <text>: its fill, and the fill of the topmost painted shape under its middle.
TEXT_ON_SHAPES = """() => {
  const painted = (el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) return false;  // a line: a stroke with no area
    return style.fill !== 'none' && parseFloat(style.fillOpacity) > 0
      && parseFloat(style.opacity) > 0 && style.visibility !== 'hidden'
      && !(el.closest('.tooltip'));
  };
  return [...document.querySelectorAll('text')]
    .filter((text) => text.textContent.trim() && getComputedStyle(text).visibility !== 'hidden')
    .map((text) => {
      const box = text.getBoundingClientRect();
      const x = box.left + box.width / 2, y = box.top + box.height / 2;
      const under = document.elementsFromPoint(x, y)
        .filter((el) => el !== text && el.tagName !== 'text' && el.tagName !== 'svg')
        .find(painted);
      return {
        text: text.textContent.trim(),
        fill: getComputedStyle(text).fill,
        under: under ? getComputedStyle(under).fill : 'rgb(255, 255, 255)',
        shape: under ? under.tagName + '.' + under.getAttribute('class') : 'page',
      };
    });
}"""


def luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_computed_as_wcag_defines_it():
    assert contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)") == pytest.approx(21)
    # The old chart: black numbers on the dark teal bars.
    assert contrast("rgb(0, 0, 0)", "rgb(15, 82, 87)") < MINIMUM


@pytest.mark.parametrize("chart", ["per-day", "countries", "roles", "statuses"])
def test_every_text_in_the_charts_is_readable(chart, live_server, open_page):
    slug = live_server.pledge(title="Chart contrast").slug
    # Tall and short bars, and empty ones (0): numbers sit on bars and beside them.
    for country, count in (("KE", 9), ("UG", 1), ("PK", 3)):
        for _ in range(count):
            live_server.signer(slug, country=country, role="man" if count == 1 else "woman")
    live_server.signer(slug, confirmed=False)
    email = live_server.user(f"charts-{chart}@example.org", runs=(slug,))
    page = open_page(**DESKTOP)
    log_in(page, email)
    response = page.goto(f"/organize/{slug}/dashboard/{chart}.svg")
    assert response.status == 200
    if os.environ.get("PLEDGES_SCREENSHOTS"):  # to look at
        page.screenshot(path=str(Path(os.environ["PLEDGES_SCREENSHOTS"]) / f"chart-{chart}.png"))
    texts = page.evaluate(TEXT_ON_SHAPES)
    assert len(texts) > 5, texts  # the title, the labels, the numbers
    assert any(t["shape"].startswith("rect.rect") for t in texts) or chart == "per-day"
    poor = [
        (t["text"], t["fill"], t["under"], t["shape"], round(contrast(t["fill"], t["under"]), 2))
        for t in texts
        if contrast(t["fill"], t["under"]) < MINIMUM
    ]
    assert not poor, poor
