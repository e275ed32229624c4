"""Dialogue sessions in a real browser: an organizer schedules a series, a signer on a phone
says they come, and the public sees a count and a map, never a name."""

from __future__ import annotations

from datetime import date, timedelta

from playwright.sync_api import expect

from tests.browser.conftest import PHONE, log_in
from tests.browser.test_first_minutes import keep_screenshot


def test_organizer_schedules_a_series_and_a_signer_on_a_phone_says_they_come(
    desktop, open_page, live_server, tmp_path
):
    def shot(page, name: str) -> None:
        keep_screenshot(page, tmp_path, name)

    pledge = live_server.pledge(title="Allies for peace in Nakuru")
    email = live_server.user("session.organizer@example.org", runs=(pledge.slug,))
    for country in ("KE", "KE", "KE", "KE", "KE", "UG"):
        live_server.signer(pledge.slug, country=country)
    signer = live_server.signer(pledge.slug, name="Achieng Otieno", country="KE")

    page = desktop
    log_in(page, email)
    page.goto(f"/organize/{pledge.slug}/")
    page.get_by_role("navigation", name="This pledge").get_by_role(
        "link", name="Dialogue sessions"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dialogue sessions")
    first_day = date.today() + timedelta(days=20)
    page.get_by_label("Title").fill("Listening first")
    page.get_by_label("Date").fill(first_day.isoformat())
    page.get_by_label("Start time").fill("17:30")
    page.get_by_label("Time zone").select_option("Africa/Nairobi")
    page.get_by_label("Place (optional)").fill("Peace hall, Nakuru")
    page.get_by_label("Online link (optional)").fill("https://meet.example.org/listening")
    page.locator("#facilitators-0-name").fill("Wanjiru Kamau")
    page.locator("#facilitators-0-role").select_option("woman")
    page.locator("#facilitators-1-name").fill("Otieno Ochieng")
    page.locator("#facilitators-1-role").select_option("man")
    page.get_by_label("Number of sessions in the series").fill("3")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_text("3 sessions scheduled.")).to_be_visible()
    coming = page.get_by_role("region", name="Coming sessions")
    expect(coming.get_by_role("link", name="Listening first")).to_have_count(3)
    expect(coming).to_contain_text("5:30\u202fPM")
    expect(coming).to_contain_text("(Africa/Nairobi)")
    shot(page, "organizer-sessions-desktop")

    phone = open_page(**PHONE)
    phone.goto(signer.me)
    section = phone.get_by_role("region", name="Dialogue sessions")
    expect(section).to_contain_text("Wanjiru Kamau (Woman ally), Otieno Ochieng (Man ally)")
    expect(section.get_by_role("link", name="Online link").first).to_have_attribute(
        "href", "https://meet.example.org/listening"
    )
    first = section.locator(".session-item").first
    expect(first).to_contain_text("You have not answered yet.")
    shot(phone, "signer-sessions-390-before")
    first.get_by_role("button", name="I will come").click()
    expect(phone.get_by_text("Thank you: we count you in.")).to_be_visible()
    first = phone.get_by_role("region", name="Dialogue sessions").locator(".session-item").first
    expect(first).to_contain_text("You said you come.")
    expect(first.get_by_role("button", name="I will come")).to_have_attribute(
        "aria-pressed", "true"
    )
    first.scroll_into_view_if_needed()
    shot(phone, "signer-sessions-390-after")

    # The organizer sees who is coming; the public sees "fewer than 5", and no name.
    page.reload()
    page.get_by_role("region", name="Coming sessions").get_by_role(
        "link", name="Listening first"
    ).first.click()
    expect(page.get_by_role("region", name="Attendance")).to_contain_text("Achieng Otieno")
    public = open_page(**PHONE)
    public.goto(f"/p/{pledge.slug}/sessions")
    expect(public.get_by_role("main")).to_contain_text("Signers coming: fewer than 5")
    expect(public.get_by_role("main")).not_to_contain_text("Achieng")
    expect(public.get_by_role("main")).not_to_contain_text("Wanjiru")
    expect(public.get_by_role("main")).not_to_contain_text("meet.example.org")
    shot(public, "public-sessions-390")

    # The wall's map at phone width: the image loads, and its table gives the figures.
    public.goto(f"/p/{pledge.slug}/wall")
    map_section = public.get_by_role("region", name="Signers on the map")
    map_section.scroll_into_view_if_needed()
    response = public.request.get(f"/p/{pledge.slug}/map.svg")
    assert response.ok and response.headers["content-type"] == "image/svg+xml; charset=utf-8"
    image = map_section.get_by_role("img")
    expect(image).to_be_visible()
    public.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    table = map_section.get_by_role("table", name="Signers by country")
    expect(table).to_contain_text("Uganda")
    expect(table).to_contain_text("fewer than 5")
    shot(public, "wall-map-390")
