"""An organizer writes an update, previews, publishes and emails it; a signer who asked gets
it and stops updates in one click; the public reads it on the pledge page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, log_in
from tests.browser.test_first_minutes import keep_screenshot
from tests.helpers import text_of


def test_organizer_writes_publishes_and_emails_an_update(
    open_axe_page, live_server, phone, tmp_path
):
    pledge = live_server.pledge(title="Allies for peace in the Rift Valley")
    keen = live_server.signer(pledge.slug, wants_updates=True, name="Wanjiru Kamau")
    quiet = live_server.signer(pledge.slug, name="Otieno Ouma")
    email = live_server.user("amani.writer@example.org", runs=(pledge.slug,))
    page = open_axe_page()
    log_in(page, email)

    page.goto(f"/organize/{pledge.slug}/")
    page.get_by_role("navigation", name="This pledge").get_by_role("link", name="Updates").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Updates")
    expect(page.get_by_text("1 signer asked to be emailed your updates.")).to_be_visible()
    page.get_by_role("link", name="Write an update").click()
    page.get_by_label("Title (English)").fill("We met the district commissioner")
    page.get_by_label("Text (English)").fill("She listened for an hour.\n\nNext: the region.")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Draft saved. Preview it, then publish it.")).to_be_visible()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    assert_accessible(page, "an update's preview")

    # Not public while a draft.
    assert (
        "We met the district commissioner"
        not in page.context.request.get(f"{live_server.url}{pledge.path}").text()
    )
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published on the pledge page, the wall and the feed.")).to_be_visible()
    page.get_by_role("button", name="Email this update").click()
    expect(page.get_by_text("Sending: the emails go out")).to_be_visible()

    # The job runs in the background; the outbox delivers; the page shows the progress.
    for _ in range(50):
        messages = [m for m in live_server.inbox(keen.email) if "commissioner" in m["Subject"]]
        if messages:
            break
        page.wait_for_timeout(200)
    assert len(messages) == 1
    assert not [m for m in live_server.inbox(quiet.email) if "commissioner" in m["Subject"]]
    page.reload()
    expect(page.locator("dt:text-is('Sent') + dd")).to_have_text("1")
    assert_accessible(page, "an update's sending")

    # The public sees it on the pledge page; the signer stops updates from the email.
    phone.goto(pledge.path)
    news = phone.get_by_role("region", name="News from the organizers")
    expect(news).to_contain_text("We met the district commissioner")
    news.screenshot(path=tmp_path / "updates-pledge-page-news.png")
    keep_screenshot(phone, tmp_path, "updates-pledge-page")
    news.get_by_role("link", name="We met the district commissioner").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("We met the district commissioner")
    keep_screenshot(phone, tmp_path, "updates-public-update")

    link = re.search(r"<([^>]+)>", messages[0]["List-Unsubscribe"]).group(1)
    assert link in text_of(messages[0])
    phone.goto(link)
    keep_screenshot(phone, tmp_path, "updates-stop-emails")
    phone.get_by_role("button", name="Stop update emails").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Update emails stopped")


def test_organizer_sets_goals_and_a_reached_goal_waits_as_a_draft(
    open_axe_page, live_server, tmp_path
):
    pledge = live_server.pledge(title="Allies for peace in the Sahel")
    email = live_server.user("moussa.goals@example.org", runs=(pledge.slug,))
    page = open_axe_page()
    log_in(page, email)
    page.goto(f"/organize/{pledge.slug}/updates")
    page.get_by_label("Next goals").fill("1, 5")
    page.get_by_role("button", name="Save the goals").click()
    expect(page.get_by_text("Saved: your next goals.")).to_be_visible()
    live_server.signer(pledge.slug)
    page.reload()
    expect(page.get_by_role("link", name="We reached 1 signer")).to_be_visible()
    expect(page.get_by_label("Next goals")).to_have_value("5")
    page.set_viewport_size({"width": 390, "height": 844})
    keep_screenshot(page, tmp_path, "updates-organizer")
    assert_accessible(page, "updates with a reached goal")
