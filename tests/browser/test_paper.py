"""Where connections are poor: the sign form without JavaScript or web fonts, and an
organizer typing a paper sheet in on a phone, by keyboard."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pledges.extensions import db
from pledges.models import Signature, SignatureStatus
from tests.browser.conftest import DESKTOP, PHONE, assert_accessible, log_in


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the screenshots go: PLEDGES_SCREENSHOTS to keep them, else the test's own folder."""
    folder = Path(os.environ.get("PLEDGES_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_sign_form_works_without_javascript_and_loads_no_web_font(
    open_page, live_server, shots
):
    pledge = live_server.pledge()
    page = open_page(java_script_enabled=False, **PHONE)
    loaded = []
    page.on("requestfinished", lambda request: loaded.append(request))
    page.goto(pledge.path)
    page.wait_for_load_state("load")

    # Readable with the system's own fonts: nothing of the kind is fetched.
    assert [r.url for r in loaded if r.resource_type == "font"] == []
    transferred = sum(
        r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"] for r in loaded
    )
    kinds = sorted({r.resource_type for r in loaded})
    print(f"sign page: {len(loaded)} requests ({', '.join(kinds)}), {transferred} bytes")
    assert transferred < 80_000, transferred

    page.get_by_label("Your full name").fill("Grace Akinyi")
    page.get_by_label("Email", exact=True).fill("grace.noscript@example.org")
    page.get_by_role("radio", name="Woman").check()
    # No country, no consent: the server answers with the errors, on their fields.
    page.get_by_role("button", name="Sign the pledge").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check the form")
    expect(page.get_by_label("Country", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your full name")).to_have_value("Grace Akinyi")
    page.screenshot(path=shots / "no-js-sign-errors.png", full_page=True, scale="css")

    page.get_by_label("Country", exact=True).select_option(label="Kenya")
    page.get_by_role("checkbox", name=re.compile("^I agree")).check()
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    assert live_server.inbox("grace.noscript@example.org")
    # The page with the errors came with its 400 status; nothing else went wrong.
    assert [m for m in page.console.errors() if "status of 400" not in m] == []


def test_an_organizer_types_a_sheet_in_by_keyboard_on_a_phone(
    open_page, live_server, axe_source, shots
):
    pledge = live_server.pledge(title="Allies around the well")
    email = live_server.user("amani.paper@example.org", runs=(pledge.slug,))
    page = open_page(init_script=axe_source, **PHONE)
    log_in(page, email)

    page.goto(f"/organize/{pledge.slug}/")
    page.get_by_role("link", name="print paper sign-up sheets").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Paper sheets")
    assert_accessible(page, "paper sheets")
    page.get_by_role("button", name="Make a sheet").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Sheet [0-9A-Z]{3}-[0-9A-Z]{3}$"))
    code = heading.inner_text().removeprefix("Sheet ")
    assert_accessible(page, "a paper sheet")

    page.get_by_role("link", name="Type in the signed rows").click()
    expect(page.get_by_role("group", name="Line 1", exact=True)).to_be_visible()
    expect(page.locator("fieldset.paper-row")).to_have_count(12)
    name = page.locator("#rows-0-name")
    expect(name).to_be_focused()  # the first cell, ready to type

    # Line 1, across, by keyboard alone, in the sheet's column order.
    keyboard = page.keyboard
    keyboard.type("Halima Yusuf")
    keyboard.press("Tab")  # organization
    keyboard.press("Tab")
    keyboard.type("so")  # Somalia, by its code
    keyboard.press("Tab")
    expect(page.locator("#rows-0-visibility")).to_be_focused()
    page.locator("#rows-0-visibility").select_option("initial")
    keyboard.press("Tab")
    keyboard.type("halima.paper@example.org")
    keyboard.press("Tab")  # discreet emails
    keyboard.press("Tab")
    keyboard.type("1, 3")
    keyboard.press("Tab")
    keyboard.press("Space")  # signed on the sheet
    expect(page.locator("#rows-0-signed")).to_be_checked()
    keyboard.press("Tab")
    expect(page.locator("#rows-1-name")).to_be_focused()  # the next line

    # Line 2, with an address that cannot be one.
    keyboard.type("Omar Farah")
    page.locator("#rows-1-country").fill("SO")
    page.locator("#rows-1-email").fill("omar at example")
    page.locator("#rows-1-signed").check()
    page.screenshot(path=shots / "entry-typed.png", full_page=True, scale="css")
    page.get_by_role("button", name="Save the signed rows").click()

    # Line 1 is saved; line 2 comes back alone, as typed, with why.
    expect(page.get_by_role("alert")).to_contain_text("1 row was not saved")
    expect(page.locator(".flash")).to_contain_text("1 signature saved.")
    expect(page.locator("fieldset.paper-row")).to_have_count(1)
    line_2 = page.get_by_role("group", name="Line 2", exact=True)
    email_cell = line_2.get_by_label("Email (optional)")
    expect(email_cell).to_have_value("omar at example")
    expect(email_cell).to_have_attribute("aria-invalid", "true")
    expect(email_cell).to_have_accessible_description(re.compile("valid email address"))
    expect(email_cell).to_be_focused()
    expect(line_2.get_by_label("Name")).to_have_value("Omar Farah")
    page.screenshot(path=shots / "entry-errors.png", full_page=True, scale="css")
    assert_accessible(page, "sheet entry with errors", status=422)

    email_cell.fill("")
    page.get_by_role("button", name="Save the signed rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Sheet {code}")
    expect(page.locator(".flash")).to_contain_text("1 without email")
    entered = page.get_by_role("region", name="Entered from this sheet")
    expect(entered).to_contain_text("Halima Yusuf")
    expect(entered).to_contain_text("Omar Farah")
    page.screenshot(path=shots / "sheet-page.png", full_page=True, scale="css")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    # On a wide screen each line reads across, as on the sheet.
    page.set_viewport_size(DESKTOP["viewport"])
    page.goto(f"/organize/{pledge.slug}/paper/{code}/entry")
    first, second = page.locator("#rows-0-name"), page.locator("#rows-0-signed")
    assert abs(first.bounding_box()["y"] - second.bounding_box()["y"]) < 40
    page.screenshot(path=shots / "entry-desktop.png", full_page=False)

    with live_server.app.app_context():
        rows = db.session.scalars(
            select(Signature).where(Signature.full_name.in_(["Halima Yusuf", "Omar Farah"]))
        ).all()
        assert {(s.full_name, s.country, s.status) for s in rows} == {
            ("Halima Yusuf", "SO", SignatureStatus.CONFIRMED),
            ("Omar Farah", "SO", SignatureStatus.CONFIRMED),
        }
    assert live_server.inbox("halima.paper@example.org")
    assert [m for m in page.console.errors() if "status of 422" not in m] == []
