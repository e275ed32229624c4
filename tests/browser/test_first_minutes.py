"""The first minutes of a signer, on a phone (390 px): confirming leads somewhere, a lost
link can be had again, and a reminder can be stopped in one press."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import func, select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Pledge, Signature
from tests.browser.conftest import PHONE, assert_accessible
from tests.browser.test_signer_journeys import LONG_PARAGRAPH, assert_fits_the_screen

# As long as a real pledge's: the form starts far below the first screen.
LONG_PREAMBLE = "\n\n".join([LONG_PARAGRAPH] * 8)


def keep_screenshot(page, tmp_path: Path, name: str, full_page: bool = True) -> None:
    """A screenshot (of the whole page, or of the screen as the person sees it); also
    copied to $PLEDGES_SCREENSHOTS when set, to look at."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=full_page, scale="css")
    if os.environ.get("PLEDGES_SCREENSHOTS"):
        shutil.copy(path, Path(os.environ["PLEDGES_SCREENSHOTS"]) / path.name)


def test_phone_confirming_leads_to_the_next_steps(phone, live_server, tmp_path):
    pledge = live_server.pledge(title="Allies for the next cycle")
    signer = live_server.signer(pledge.slug, confirmed=False)
    page = phone
    page.goto(signer.confirm)
    page.get_by_role("button", name="Confirm my signature").tap()

    expect(page).to_have_url(
        f"{live_server.url}{signer.confirm.removeprefix(live_server.url)}/next"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature is confirmed")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(page.get_by_text("at the end of your first cycle")).to_be_visible()
    expect(page.get_by_role("link", name="Share on WhatsApp")).to_be_visible()
    qr = page.locator("svg.qr-code")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 100  # large enough for a phone camera across a table
    assert_fits_the_screen(page)
    keep_screenshot(page, tmp_path, "phone-next-steps")

    page.get_by_role("button", name="Invite a partner").tap()
    expect(page).to_have_url(re.compile(r"/me/[\w-]+#partners$"))
    expect(page.get_by_role("heading", name="Accountability partners")).to_be_visible()


def test_phone_lost_link_is_emailed_again(phone, live_server, tmp_path):
    pledge = live_server.pledge(title="Allies who lose emails")
    signer = live_server.signer(pledge.slug, email="forgetful@example.org")
    page = phone
    page.goto(pledge.path)
    page.get_by_role("link", name=re.compile("lost your link")).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lost your link?")
    page.get_by_label("Your email address").fill("Forgetful@Example.org")
    assert_fits_the_screen(page)
    keep_screenshot(page, tmp_path, "phone-lost-link")
    page.get_by_role("button", name="Email me my links").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    keep_screenshot(page, tmp_path, "phone-lost-link-sent")
    fresh = live_server.links("forgetful@example.org")["me"]
    assert fresh != signer.me
    page.goto(fresh)
    expect(page.get_by_text(pledge.title).first).to_be_visible()


def test_phone_one_press_stops_reminders(phone, live_server, tmp_path):
    pledge = live_server.pledge(title="Allies who need a rest")
    signer = live_server.signer(pledge.slug, email="resting@example.org")
    page = phone
    page.goto(live_server.url + live_server.unsubscribe_link(signer.email))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop check-in reminders")
    keep_screenshot(page, tmp_path, "phone-unsubscribe")
    page.get_by_role("button", name="Stop reminders").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reminders stopped")
    assert_fits_the_screen(page)
    keep_screenshot(page, tmp_path, "phone-unsubscribed")


def test_phone_signer_from_the_form_to_a_logged_action(phone, live_server, tmp_path):
    """Sign, confirm, next steps, the private page's summary in the first screen, then log
    an action and land on the message, in view."""
    pledge = live_server.pledge(title="Allies all the way through", preamble=LONG_PREAMBLE)
    page = phone
    page.goto(pledge.path)
    # The form is a tap away from the top, however long the preamble.
    jump = page.get_by_role("link", name="Sign the pledge")
    expect(jump).to_be_in_viewport()
    jump.tap()
    expect(page.get_by_role("heading", name="Sign the pledge")).to_be_in_viewport()
    # A required commitment is part of the pledge, not a box one could untick.
    expect(
        page.get_by_role("checkbox", name=re.compile(re.escape(pledge.commitments[0])))
    ).to_have_count(0)
    expect(page.locator(".commitment-fixed")).to_contain_text(pledge.commitments[0])
    page.get_by_label("Your full name").fill("Nimmi Fernando")
    page.get_by_label("Email", exact=True).fill("nimmi.phone@example.org")
    page.get_by_label("Country", exact=True).select_option(label="Sri Lanka")
    page.get_by_role("radio", name="Woman").tap()
    page.get_by_role("radio", name=re.compile("^My first name and last initial")).tap()
    page.get_by_role("checkbox", name=re.compile("^I agree")).tap()
    keep_screenshot(page, tmp_path, "phone-sign-form")
    page.get_by_role("button", name="Sign the pledge").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    page.goto(live_server.links("nimmi.phone@example.org")["confirm"])
    page.get_by_role("button", name="Confirm my signature").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature is confirmed")
    page.get_by_role("button", name="Open my private page").tap()

    expect(page).to_have_url(re.compile(r"/me/[\w-]+$"))
    summary = page.locator("#summary")
    expect(summary.get_by_text("Confirmed on")).to_be_in_viewport()
    expect(summary.locator(".signer-name")).to_have_text("Nimmi F.")
    expect(summary.get_by_text("Next check-in")).to_be_in_viewport()
    for name in ("Log an action", "Share the pledge", "Download signed PDF"):
        expect(
            summary.locator(".summary-actions").get_by_role("link", name=name)
        ).to_be_in_viewport()
    menu = page.get_by_role("navigation", name="On this page")
    expect(menu.get_by_role("link", name="What I have done")).to_be_visible()
    # Day one of the cycle: nothing to renew yet.
    expect(page.get_by_role("heading", name="Renew for the next cycle")).to_have_count(0)
    assert_fits_the_screen(page)
    keep_screenshot(page, tmp_path, "phone-private-first-screen", full_page=False)

    summary.get_by_role("link", name="Log an action").tap()
    page.get_by_label("Which commitment did this keep?").select_option(label=pledge.commitments[0])
    page.get_by_label("What kind of action").select_option(label="Training or workshop")
    page.get_by_label("When").fill(utcnow().date().isoformat())
    page.get_by_label("What you did").fill("Ran a listening circle with the women's network.")
    page.get_by_role("radio", name=re.compile("^Public")).tap()
    page.get_by_role("button", name="Log this action").tap()

    expect(page).to_have_url(re.compile(r"/me/[\w-]+#actions$"))
    message = page.locator("#actions").get_by_role("status")
    expect(message).to_have_text("Action logged. Thank you for following through.")
    expect(message).to_be_in_viewport()
    # Said once, where the person landed, not also at the top of the page.
    expect(page.get_by_text("Action logged.")).to_have_count(1)
    keep_screenshot(page, tmp_path, "phone-action-logged", full_page=False)


def test_renewal_near_the_cycles_end_with_its_required_commitment_fixed(
    axe_page, live_server, tmp_path
):
    pledge = live_server.pledge(title="Allies into a second cycle")
    signer = live_server.signer(pledge.slug, email="renewing@example.org")
    with live_server.app.app_context():
        signature = db.session.scalar(select(Signature).filter_by(email=signer.email))
        # Confirmed 20 days ago: 10 days left in the 30-day cycle.
        signature.confirmed_at -= timedelta(days=20)
        db.session.commit()
    page = axe_page
    page.goto(signer.me)
    page.get_by_role("navigation", name="On this page").get_by_role("link", name="Renew").click()
    expect(page.get_by_role("heading", name="Renew for the next cycle")).to_be_in_viewport()
    renew = page.locator("#renew")
    expect(renew.locator(".commitment-fixed")).to_contain_text(pledge.commitments[0])
    expect(renew.get_by_role("checkbox")).to_have_count(len(pledge.commitments) - 1)
    assert_accessible(page, "private page with renewal")
    page.set_viewport_size(PHONE["viewport"])
    keep_screenshot(page, tmp_path, "phone-private-page-renewal")


def test_phone_every_mistake_is_said_at_once(phone, live_server, tmp_path):
    """A disposable address, a missing country and a missing organization: one round."""
    pledge = live_server.pledge(preamble=LONG_PREAMBLE)
    page = phone
    page.goto(pledge.path)
    page.get_by_label("Your full name").fill("Tariq Mahmood")
    page.get_by_label("Email", exact=True).fill("tariq@mailinator.com")
    page.get_by_role("radio", name="Man", exact=True).tap()
    page.get_by_role("radio", name=re.compile("^Only my organization")).tap()
    page.get_by_role("checkbox", name=re.compile("^I agree")).tap()
    page.get_by_role("button", name="Sign the pledge").tap()

    summary = page.get_by_role("alert")
    expect(summary).to_be_in_viewport()
    expect(summary.get_by_role("listitem")).to_have_count(3)
    expect(summary).to_contain_text("Please use a permanent address")
    expect(summary).to_contain_text("Choose your country.")
    expect(summary).to_contain_text("To be shown by your organization, tell us its name.")
    organization = page.get_by_label("Organization", exact=True)
    expect(organization).to_have_attribute("aria-invalid", "true")
    expect(organization).to_have_accessible_description(re.compile("Needed if you choose"))
    keep_screenshot(page, tmp_path, "phone-sign-errors", full_page=False)
    assert_fits_the_screen(page)
    with live_server.app.app_context():
        # This pledge's own: the live server's database is shared with other tests.
        stored = (
            select(func.count())
            .select_from(Signature)
            .join(Pledge)
            .where(Pledge.slug == pledge.slug)
        )
        assert db.session.scalar(stored) == 0
