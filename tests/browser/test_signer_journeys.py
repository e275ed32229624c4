"""A signer's story in a real browser: on a phone, with a keyboard, without JavaScript."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Signature
from tests.browser.conftest import PHONE

LONG_PARAGRAPH = (
    "Peace is not only the absence of war. Men and women who work for it together, as allies "
    "and without paternalism, listen first, share the risks, and keep their commitments in "
    "cycles, returning to them when the news has moved on."
)


def assert_fits_the_screen(page) -> None:
    """Nothing wider than the phone: no sideways scrolling to read or to press a button."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def test_phone_signer_signs_confirms_and_appears_as_chosen(phone, live_server, tmp_path):
    pledge = live_server.pledge()
    page = phone
    page.goto(pledge.path)

    expect(page.get_by_role("heading", level=1)).to_have_text(pledge.title)
    expect(page.locator(".preamble")).to_contain_text("Men and women, together.")
    assert_fits_the_screen(page)
    page.get_by_role("link", name="Sign the pledge").tap()
    expect(page).to_have_url(re.compile("#sign$"))

    # Phones offer the signer's own details to fill in (WCAG 1.3.5).
    for label, purpose in [("Your full name", "name"), ("Email", "email"), ("Country", "country")]:
        expect(page.get_by_label(label, exact=True)).to_have_attribute("autocomplete", purpose)
    # A required commitment is part of the pledge: listed as such, with no box to untick.
    expect(page.locator(".commitment-fixed")).to_contain_text(pledge.commitments[0])
    expect(
        page.get_by_role("checkbox", name=re.compile(re.escape(pledge.commitments[0])))
    ).to_have_count(0)
    page.get_by_label(pledge.commitments[2]).tap()
    page.get_by_label("Your full name").tap()
    page.keyboard.type("Amina Wanjiru Odhiambo")
    page.keyboard.press("Tab")
    page.keyboard.type("amina.phone@example.org")
    page.get_by_label("Country", exact=True).select_option(label="Kenya")
    page.get_by_role("radio", name="Woman").tap()
    page.get_by_role("radio", name=re.compile("^My first name and last initial")).tap()
    page.get_by_role("checkbox", name=re.compile("^I agree")).tap()
    page.screenshot(path=tmp_path / "phone-sign.png", full_page=True, scale="css")
    page.get_by_role("button", name="Sign the pledge").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    links = live_server.links("amina.phone@example.org")
    page.goto(links["confirm"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your signature")
    page.get_by_role("button", name="Confirm my signature").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature is confirmed")

    page.get_by_role("link", name="See the wall").tap()
    signers = page.locator(".signer")
    expect(signers).to_have_count(1)
    expect(signers.locator(".signer-name")).to_have_text("Amina O.")
    expect(signers.locator(".signer-meta")).to_contain_text("Kenya")
    html = page.content()
    assert "amina.phone@example.org" not in html
    assert "Odhiambo" not in html and "Wanjiru" not in html
    assert_fits_the_screen(page)
    page.screenshot(path=tmp_path / "phone-wall.png", full_page=True, scale="css")


def test_missing_answers_are_flagged_on_their_fields_and_typed_answers_kept(phone, live_server):
    # A preamble as long as a real one: the form starts well below the first screen.
    pledge = live_server.pledge(preamble="\n\n".join([LONG_PARAGRAPH] * 8))
    page = phone
    page.goto(pledge.path)
    page.get_by_label("Your full name").fill("Tariq Mahmood")
    page.get_by_label("Email", exact=True).fill("tariq.phone@example.org")
    page.get_by_role("radio", name="Man", exact=True).tap()
    page.get_by_label("Why I sign (optional)").fill("For my daughters.")
    # No country, and the consent box left empty.
    page.get_by_role("button", name="Sign the pledge").tap()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check the form")
    # The page opens at the form, not at the top of a long pledge.
    expect(summary).to_be_in_viewport()

    country = page.get_by_label("Country", exact=True)
    expect(country).to_have_attribute("aria-invalid", "true")
    expect(country).to_have_accessible_description(re.compile("Choose your country"))
    consent = page.get_by_role("checkbox", name=re.compile("^I agree"))
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(consent).to_have_accessible_description(re.compile("Please agree"))
    expect(page.get_by_label("Your full name")).not_to_have_attribute("aria-invalid", "true")

    summary.get_by_role("link", name="Country").tap()
    expect(country).to_be_focused()

    expect(page.get_by_label("Your full name")).to_have_value("Tariq Mahmood")
    expect(page.get_by_label("Email", exact=True)).to_have_value("tariq.phone@example.org")
    expect(page.get_by_role("radio", name="Man", exact=True)).to_be_checked()
    expect(page.get_by_label("Why I sign (optional)")).to_have_value("For my daughters.")

    with live_server.app.app_context():
        stored = select(func.count()).where(Signature.email == "tariq.phone@example.org")
        assert db.session.scalar(stored) == 0
    assert live_server.inbox("tariq.phone@example.org") == []


def test_private_page_logs_an_action_without_javascript(open_page, live_server):
    pledge = live_server.pledge()
    signer = live_server.signer(pledge.slug, email="leila.private@example.org")
    page = open_page(java_script_enabled=False, **PHONE)

    page.goto(signer.me)
    expect(page.get_by_role("heading", level=1)).to_have_text(pledge.title)
    expect(page.get_by_text("Nothing logged yet")).to_be_visible()
    page.locator("#summary").get_by_role("link", name="Log an action").tap()

    page.get_by_label("Which commitment did this keep?").select_option(label=pledge.commitments[0])
    page.get_by_label("What kind of action").select_option(label="Training or workshop")
    page.get_by_label("When").fill(utcnow().date().isoformat())
    page.get_by_label("What you did").fill("Ran a listening session with the youth group.")
    page.get_by_label("People reached (optional)").fill("12")
    page.get_by_role("radio", name=re.compile("^Public")).tap()
    page.get_by_role("button", name="Log this action").tap()

    expect(page).to_have_url(re.compile(r"/me/[\w-]+#actions$"))
    expect(page.get_by_text("Action logged.")).to_be_visible()
    action = page.locator("#actions .action")
    expect(action).to_have_count(1)
    expect(action).to_contain_text("Ran a listening session with the youth group.")
    expect(action).to_contain_text("12 people reached")
    assert page.console.errors() == []
    assert page.console.csp_violations() == []


def test_first_tab_reaches_the_skip_link_which_moves_focus_to_main(desktop, live_server):
    pledge = live_server.pledge()
    page = desktop
    page.goto(pledge.path)

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    page.keyboard.press("Tab")
    focused_in_main = page.evaluate(
        "document.querySelector('main').contains(document.activeElement)"
    )
    assert focused_in_main, "the next Tab after the skip link should stay in the main content"


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until ``selector`` has the focus, checking every stop on the way shows it."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """selector => {
                const el = document.activeElement;
                const style = getComputedStyle(el);
                return {
                    visible: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
                    matches: el.matches(selector),
                    what: el.outerHTML.slice(0, 80),
                };
            }""",
            selector,
        )
        assert stop["visible"], f"focus is not visible on {stop['what']}"
        if stop["matches"]:
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def choose_with_arrows(page, group: str, value: str) -> None:
    """Arrow keys move through a radio group, choosing as they go."""
    checked = f"document.querySelector('input[name={group}]:checked')?.value"
    for _ in range(8):
        if page.evaluate(checked) == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never reached {value} in {group}")


def test_signing_works_by_keyboard_alone(desktop, live_server):
    """Tab, type, arrows, Space and Enter: no mouse, no touch, every stop visibly focused."""
    pledge = live_server.pledge()
    page = desktop
    page.goto(pledge.path)

    tab_to(page, "input[name=commitments]:not(:checked)")  # the first optional commitment
    page.keyboard.press("Space")
    tab_to(page, "#name")
    page.keyboard.type("Kamala Perera")
    tab_to(page, "#email")
    page.keyboard.type("kamala.keys@example.org")
    tab_to(page, "#country")
    page.keyboard.type("Sri")  # a closed <select> jumps to what is typed
    tab_to(page, "input[name=role]")
    choose_with_arrows(page, "role", "woman")
    tab_to(page, "input[name=visibility]")
    choose_with_arrows(page, "visibility", "anonymous")
    tab_to(page, "#consent")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    errors = page.locator(".form-errors")
    assert errors.count() == 0, errors.inner_text()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    with live_server.app.app_context():
        signature = db.session.scalar(
            select(Signature).where(Signature.email == "kamala.keys@example.org")
        )
        assert (signature.full_name, signature.country) == ("Kamala Perera", "LK")
        assert (signature.role, signature.visibility) == ("woman", "anonymous")
        assert len(signature.chosen) == 2  # the required commitment and the one ticked


def test_every_public_page_fits_a_320_pixel_screen(open_page, live_server):
    """The narrowest phones still in use: nothing scrolls sideways, in any language."""
    pledge = live_server.pledge(preamble=LONG_PARAGRAPH)
    page = open_page(viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    for lang in ("en", "fr", "es"):
        for path in (
            "/",
            pledge.path,
            f"{pledge.path}/wall",
            f"{pledge.path}/actions",
            "/about",
            "/verify",
            "/login",
        ):
            page.goto(f"{path}?lang={lang}")
            assert_fits_the_screen(page)
