"""Signer safety in a real browser, at phone width: "Leave this page quickly" with and
without script, and taking oneself off the public wall from an email's link."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, assert_accessible

QUICK_EXIT_URL = "https://www.bbc.com/weather"
NEUTRAL_PAGE = "<!doctype html><html lang='en'><title>Weather</title><h1>Weather</h1></html>"


@pytest.fixture
def neutral_site():
    """The quick exit's neutral site, answered here: this network reaches no other site."""

    def route(page) -> None:
        page.context.route(
            re.compile(r"https://www\.bbc\.com/.*"),
            lambda r: r.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE),
        )

    return route


def test_the_quick_exit_link_works_without_script(open_page, live_server, neutral_site):
    pledge = live_server.pledge()
    page = open_page(java_script_enabled=False, **PHONE)
    neutral_site(page)
    page.goto(pledge.path)
    link = page.get_by_role("link", name="Leave this page quickly")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", QUICK_EXIT_URL)
    # The Shift shortcut is not offered where it cannot work.
    expect(page.get_by_text("Or press Shift three times.")).to_be_hidden()
    box = link.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    link.tap()
    expect(page).to_have_url(QUICK_EXIT_URL)


def test_shift_three_times_leaves_and_back_does_not_return(phone, live_server, neutral_site):
    pledge = live_server.pledge()
    signer = live_server.signer(pledge.slug, name="Amina Odhiambo")
    page = phone
    neutral_site(page)
    page.goto(f"{pledge.path}/wall")
    page.goto(signer.me)
    expect(page.get_by_text("Or press Shift three times.")).to_be_visible()
    expect(page.get_by_role("link", name="Leave this page quickly")).to_have_attribute(
        "aria-describedby", "quick-exit-hint"
    )
    for _ in range(3):
        page.keyboard.press("Shift")
    expect(page).to_have_url(QUICK_EXIT_URL)
    page.go_back()
    # The private page was replaced, not left behind in the history.
    expect(page).to_have_url(re.compile(re.escape(f"{pledge.path}/wall") + "$"))


def test_two_shift_presses_and_a_letter_do_not_leave(phone, live_server, neutral_site):
    pledge = live_server.pledge()
    page = phone
    neutral_site(page)
    page.goto(pledge.path)
    page.get_by_label("Your full name").focus()
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    page.keyboard.type("A")  # typing a capital letter is not a third press
    page.keyboard.press("Shift")
    expect(page).to_have_url(re.compile(re.escape(pledge.path) + "$"))


def test_the_quick_exit_is_reached_first_and_shows_its_focus(phone, live_server):
    pledge = live_server.pledge()
    page = phone
    page.goto(pledge.path)
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Leave this page quickly"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_off_the_wall_from_an_email_link_and_back_from_the_private_page(
    axe_page, live_server, tmp_path
):
    pledge = live_server.pledge()
    signer = live_server.signer(pledge.slug, name="Babar Bashir", country="PK")
    page = axe_page
    page.set_viewport_size(PHONE["viewport"])
    page.goto(signer.hide)
    expect(page.get_by_role("heading", level=1)).to_have_text("Take me off the public wall")
    assert_accessible(page, "hide link page")
    page.set_viewport_size(PHONE["viewport"])
    page.screenshot(path=tmp_path / "hide.png", full_page=True)
    page.get_by_role("button", name="Take me off the public wall now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are off the public wall")
    expect(page.get_by_role("button")).to_have_count(0)  # no undo from an email's link
    assert_accessible(page, "hide link page, done")

    page.goto(signer.me)
    section = page.locator("#public")
    expect(section).to_contain_text("you took yourself off the public wall")
    assert_accessible(page, "private page, off the wall")
    page.get_by_role("button", name="Put me back on the public wall").click()
    expect(page.locator(".flash")).to_contain_text("You are back on the public wall")
    expect(page.locator("#public")).to_contain_text("Babar Bashir · Pakistan")
    page.get_by_role("button", name="Take me off the public wall now").click()
    expect(page.locator("#public")).to_contain_text("you took yourself off the public wall")


def test_the_sign_form_explains_each_choice_and_is_accessible(axe_page, live_server):
    pledge = live_server.pledge()
    page = axe_page
    page.goto(pledge.path)
    role_box = page.get_by_role("checkbox", name=re.compile("^Show that I sign as"))
    expect(role_box).to_be_checked()  # the default, initial, shows it
    page.get_by_role("radio", name="Anonymous (only my country)").check()
    expect(role_box).not_to_be_checked()  # the script follows the visibility
    page.get_by_role("radio", name="My full name").check()
    expect(role_box).to_be_checked()
    role_box.uncheck()
    page.get_by_role("radio", name="My first name and last initial").check()
    expect(role_box).not_to_be_checked()  # once touched, the signer's choice stays
    expect(page.locator("#entry-examples")).to_contain_text("Anonymous ally")
    expect(page.get_by_role("radio", name="As soon as I confirm")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Send me discreet emails")).not_to_be_checked()
    assert_accessible(page, "sign form")


def test_screenshots_at_phone_width(open_page, live_server, tmp_path):
    """For a person to look at (in PLEDGES_SCREENSHOTS, if set): the sign form after an
    error, and the private page."""
    folder = Path(os.environ.get("PLEDGES_SCREENSHOTS") or tmp_path)
    pledge = live_server.pledge()
    signer = live_server.signer(pledge.slug, name="Amina Wanjiru Odhiambo", visibility="initial")
    page = open_page(**PHONE)
    page.goto(pledge.path)
    page.get_by_label("Your full name").fill("Jens van Tricht")
    page.get_by_label("Country", exact=True).select_option(label="Netherlands")
    page.get_by_role("radio", name="Man", exact=True).check()
    page.get_by_role("radio", name="7 days after I confirm").check()
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.locator("#your-entry")).to_be_visible()
    page.screenshot(path=folder / "sign-form-390.png", full_page=True, scale="css")
    page.goto(signer.me)
    page.screenshot(path=folder / "private-page-390.png", full_page=True, scale="css")
