"""Arabic and Urdu interfaces in a real browser: right to left on the sign form, the wall,
the private page and an organizer page, at a phone's 390 px and on a desktop; axe-core and
the Nu Html Checker clean; nothing wider than the phone's screen. Screenshots are saved in
$RTL_SHOTS (default /tmp/rtl-shots) to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, LiveServer, assert_accessible, log_in

SHOTS = Path(os.environ.get("RTL_SHOTS", "/tmp/rtl-shots"))  # noqa: S108 (looked at by hand)
ORGANIZER = "rania.organizer@example.org"

# How each page says who it is for, in each language: a heading the page shows.
HEADINGS = {
    "ar": {
        "sign": "وقّع التعهد",
        "wall": "ابحث عن موقّعين",
        "me": "ما التزمت به",
        "organizer": "لوحة المتابعة",
    },
    "ur": {
        "sign": "عہد پر دستخط کریں",
        "wall": "دستخط کنندگان تلاش کریں",
        "me": "میں نے کیا وعدہ کیا",
        "organizer": "ڈیش بورڈ",
    },
}


def _check_page(page, language: str, name: str) -> None:
    assert_accessible(page, f"{name} in {language}")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", language)
    expect(html).to_have_attribute("dir", "rtl")
    # The text starts on the right: the main heading's right edge is near the page's.
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP["viewport"]), ("phone", PHONE["viewport"])):
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} in {language} overflows at {size['width']} px"
        heading = page.locator("main h1").first.bounding_box()
        main = page.locator("main").bounding_box()
        assert heading["x"] + heading["width"] > main["x"] + main["width"] * 0.6, (
            f"{name} in {language}: the heading does not start on the right"
        )
        page.screenshot(path=str(SHOTS / f"{language}-{name}-{label}.png"), full_page=True)


@pytest.mark.parametrize("language", ["ar", "ur"])
def test_signer_pages_read_right_to_left(open_axe_page, live_server: LiveServer, language):
    pledge = live_server.pledge()
    signer = live_server.signer(pledge.slug, actions=1, name="فاطمہ بی بی", country="PK")
    page = open_axe_page()

    page.goto(f"{pledge.path}?lang={language}")
    expect(page.get_by_role("button", name=HEADINGS[language]["sign"])).to_be_visible()
    # The pledge's own words keep their language and direction inside the page.
    expect(page.locator("main h1")).to_have_attribute("dir", "ltr")
    _check_page_content_aware(page, language, "sign-form")

    page.goto(f"{pledge.path}/wall")
    expect(page.get_by_role("heading", name=HEADINGS[language]["wall"]).first).to_be_visible()
    _check_page_content_aware(page, language, "wall")

    page.goto(signer.me)
    expect(page.get_by_role("heading", name=HEADINGS[language]["me"])).to_be_visible()
    code = page.locator("code[dir=ltr]")
    expect(code).to_have_text(signer.verification_code)
    _check_page_content_aware(page, language, "private-page")


def _check_page_content_aware(page, language: str, name: str) -> None:
    """As _check_page, for a page whose h1 is the pledge's own (English) title: check the
    page's direction on its footer's language menu instead."""
    assert_accessible(page, f"{name} in {language}")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    menu = page.get_by_role("contentinfo").locator("nav.languages")
    expect(menu.locator('a[lang="ar"]')).to_have_attribute("dir", "rtl")
    expect(menu.locator('a[lang="ar"]')).to_have_text("العربية")
    expect(menu.locator('a[lang="ur"]')).to_have_text("اردو")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP["viewport"]), ("phone", PHONE["viewport"])):
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} in {language} overflows at {size['width']} px"
        # The footer's first language sits on the right in a right-to-left page.
        first = menu.locator("a").first.bounding_box()
        nav = menu.bounding_box()
        assert first["x"] + first["width"] > nav["x"] + nav["width"] * 0.6
        page.screenshot(path=str(SHOTS / f"{language}-{name}-{label}.png"), full_page=True)


@pytest.mark.parametrize("language", ["ar", "ur"])
def test_an_organizer_page_reads_right_to_left(open_axe_page, live_server: LiveServer, language):
    pledge = live_server.pledge()
    for n, country in enumerate(("KE", "PK", "LK", "KE")):
        live_server.signer(pledge.slug, name=f"Signer {n}", country=country)
    live_server.user(ORGANIZER + language, runs=(pledge.slug,))
    page = open_axe_page()
    log_in(page, ORGANIZER + language)
    page.goto(f"/organize/{pledge.slug}/dashboard?lang={language}")
    expect(
        page.get_by_role("heading", name=HEADINGS[language]["organizer"], exact=True)
    ).to_be_visible()
    _check_page(page, language, "organizer-dashboard")
