"""The wall on small phones (320 and 390 px): the filters within the first screen, the number
of matches, the actions following the filters, where the pages are, and no sideways scroll;
and a pledge page in French that marks, in French, what is shown untranslated."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from pledges.extensions import db
from pledges.models import Pledge
from tests.browser.conftest import AXE_OPTIONS, BLOCKING, PHONE, WCAG_TAGS, describe
from tests.factories import FRENCH_COMMITMENTS, translate

SHOTS = Path(os.environ.get("PLEDGES_SCREENSHOTS") or "/tmp/wallang-shots")  # noqa: S108
COUNTRIES = ["KE", "PK", "LK", "BI", "NL"]


def assert_no_sideways_scroll(page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide at {width}px"


def assert_axe_passes(page, name: str) -> None:
    page.evaluate("document.fonts.ready.then(() => true)")
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    violations = [{**v, "width": page.viewport_size["width"]} for v in results["violations"]]
    blocking = [v for v in violations if WCAG_TAGS & set(v["tags"]) or v["impact"] in BLOCKING]
    assert not blocking, f"axe on {name}:\n{describe(violations)}"


@pytest.mark.parametrize("width", [320, 390])
def test_phone_wall_filters_first_with_counts_and_pages(open_page, axe_source, live_server, width):
    pledge = live_server.pledge(title="Allies for peace in every district of the country")
    for n in range(12):
        live_server.signer(
            pledge.slug,
            actions=1 if n in (0, 1) else 0,
            name=f"Signer {n:02d} Wanjiru-Odhiambo-Ndayishimiye",
            country=COUNTRIES[n % len(COUNTRIES)],
            role="woman" if n % 2 else "man",
            show_role=True,
            organization="Women Peacemakers Program and Friends of Gender-Sensitive Peace",
            personal_note="Peace starts at home, in how we raise our sons and daughters.",
        )
    page = open_page(
        init_script=axe_source, **{**PHONE, "viewport": {"width": width, "height": 640}}
    )
    page.goto(f"{pledge.path}/wall")
    expect(page.get_by_role("heading", level=1)).to_have_text(pledge.title)

    # The filters are within the first screen, before the lists they narrow.
    country = page.get_by_label("Country")
    show = page.get_by_role("button", name="Show")
    box = show.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 640, box
    expect(page.locator(".results")).to_have_text("12 signers are shown on the wall.")
    assert_no_sideways_scroll(page, width)
    assert_axe_passes(page, f"wall at {width}px")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"wall-{width}.png", full_page=True, scale="css")

    # Filter by Kenya: the count, the signers and the actions all follow.
    country.select_option("KE")
    show.tap()
    expect(page).to_have_url(re.compile(r"country=KE"))
    expect(page.locator(".results")).to_contain_text("Fewer than 5 signers match these filters.")
    names = page.locator(".signer-name").all_inner_texts()
    assert names and all(n.startswith(("Signer 00", "Signer 05", "Signer 10")) for n in names)
    actions = page.locator(".follow-through .action")
    expect(actions).to_have_count(1)
    expect(actions).to_contain_text("Kenya")
    assert_no_sideways_scroll(page, width)
    assert_axe_passes(page, f"filtered wall at {width}px")
    page.screenshot(path=SHOTS / f"wall-{width}-kenya.png", full_page=True, scale="css")

    # Everyone again, paged by five: the pager says where we are.
    page.get_by_role("link", name="Show everyone").tap()
    pager = page.get_by_role("navigation", name="Pages of signers")
    expect(pager).to_contain_text("Signers 1–5 of 12")
    pager.get_by_role("link", name="Older →").tap()
    expect(pager).to_contain_text("Signers 6–10 of 12")
    expect(page.locator(".signers .position").first).to_have_text("Signers 6–10 of 12")
    assert_no_sideways_scroll(page, width)
    assert_axe_passes(page, f"second page at {width}px")
    page.screenshot(path=SHOTS / f"wall-{width}-page-2.png", full_page=True, scale="css")


def test_phone_pledge_in_french_marks_what_is_not_translated(open_page, axe_source, live_server):
    seeded = live_server.pledge(title="Allies for peace, untranslated guidelines")
    with live_server.app.app_context():
        pledge = db.session.execute(db.select(Pledge).filter_by(slug=seeded.slug)).scalar_one()
        translate(
            pledge,
            "fr",
            "Allié·es pour la paix",
            "Hommes et femmes, ensemble.",
            [FRENCH_COMMITMENTS[0], "", FRENCH_COMMITMENTS[2]],
        )
    page = open_page(init_script=axe_source, **PHONE)
    page.goto(f"{seeded.path}?lang=fr")
    note = "Ce texte n’a pas encore été traduit en français ; il est affiché en anglais."
    guidelines = page.locator(".guidelines")
    expect(guidelines).to_have_attribute("lang", "en")
    expect(guidelines.locator(".content-fallback")).to_have_text(note)
    expect(guidelines.locator(".content-fallback")).to_have_attribute("lang", "fr")
    untranslated = page.locator(".commitment", has_text="I will challenge violent ideas")
    expect(untranslated).to_have_attribute("lang", "en")
    expect(page.locator(".commitments .content-fallback")).to_contain_text(
        "Certains engagements n’ont pas encore été traduits en français"
    )
    assert_no_sideways_scroll(page, PHONE["viewport"]["width"])
    assert_axe_passes(page, "French pledge with untranslated parts")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "pledge-fr-fallback-390.png", full_page=True, scale="css")
