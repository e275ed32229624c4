"""The first minutes of a signer, on a phone (390 px): confirming leads somewhere, a lost
link can be had again, and a reminder can be stopped in one press."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.test_signer_journeys import assert_fits_the_screen


def keep_screenshot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot; also copied to $PLEDGES_SCREENSHOTS when set, to look at."""
    path = tmp_path / f"{name}.png"
    page.screenshot(path=path, full_page=True, scale="css")
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
