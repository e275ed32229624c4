"""An organizer's story in a real browser: building a pledge, a dossier, and moderating."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import log_in


def test_organizer_builds_opens_a_pledge_and_downloads_its_dossier(desktop, live_server, tmp_path):
    email = live_server.user("nadia.builder@example.org")
    page = desktop
    log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pledges you run")

    page.get_by_role("link", name="New pledge").click()
    page.get_by_label("Title").fill("Fathers for peace in Kivu")
    page.get_by_label("Preamble").fill("Fathers can carry care work.\n\nAnd peace with it.")
    page.get_by_label("Goal (optional)").fill("250")
    page.get_by_role("button", name="Create the draft").click()
    expect(page.get_by_text("Draft created.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commitments")

    page.get_by_label("New commitment").fill("I will share the care of my children.")
    page.get_by_label("Required: part of every signature").check()
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("Commitment added.")).to_be_visible()
    expect(page.locator(".commitment-text")).to_have_text(["I will share the care of my children."])

    pledge_nav = page.get_by_role("navigation", name="This pledge")
    pledge_nav.get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Status: Draft")).to_be_visible()
    page.get_by_role("button", name="Open for signatures").click()
    expect(page.get_by_text("The pledge is open: it takes signatures.")).to_be_visible()
    public_links = page.get_by_role("region", name="Public links")
    expect(public_links).to_contain_text("/p/fathers-for-peace-in-kivu")

    pledge_nav.get_by_role("link", name="Dossier").click()
    expect(page).to_have_url(re.compile(r"/organize/fathers-for-peace-in-kivu/dossier$"))
    page.get_by_role("radio", name=re.compile("Funders", re.IGNORECASE)).check()
    page.get_by_role("button", name="Build the dossier").click()
    expect(page.get_by_text("The dossier is ready to download.")).to_be_visible()
    with page.expect_download() as download_info:
        page.locator(".dossier-list").get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(saved).pages)
    assert "Fathers for peace in Kivu" in text
    assert "I will share the care of my children." in text


def test_organizer_hides_a_signature_with_a_reason_and_it_leaves_the_wall(desktop, live_server):
    pledge = live_server.pledge()
    live_server.signer(pledge.slug, name="Wanjiru Kamau", visibility="full")
    live_server.signer(pledge.slug, name="Buy Cheap Watches", visibility="full")
    email = live_server.user("moderator.hides@example.org", runs=(pledge.slug,))
    page = desktop

    # The wall is seen (and cached) first: hiding must reach it all the same.
    page.goto(f"{pledge.path}/wall")
    # Signers of one day are listed in random order (their order would date them).
    expect(page.locator(".signer-name")).to_have_count(2)
    assert sorted(page.locator(".signer-name").all_inner_texts()) == [
        "Buy Cheap Watches",
        "Wanjiru Kamau",
    ]

    log_in(page, email)
    page.goto(f"/organize/{pledge.slug}/moderation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderation")
    page.get_by_role("link", name=re.compile(r"^Hide\s*: Buy Cheap Watches$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hide this signature")
    page.get_by_label("Why hide this signature?").fill("Advertising, not a signer.")
    page.get_by_role("button", name="Hide it").click()
    expect(page.get_by_text("Hidden: the signature is off the wall")).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^\s*Hidden")).click()
    hidden = page.locator(".signer")
    expect(hidden).to_have_count(1)
    expect(hidden).to_contain_text("Buy Cheap Watches")
    expect(hidden).to_contain_text("Hidden because: Advertising, not a signer.")
    history = page.get_by_role("region", name="Recent moderation")
    expect(history).to_contain_text("Advertising, not a signer.")

    page.goto(f"{pledge.path}/wall")
    expect(page.locator(".signer-name")).to_have_text(["Wanjiru Kamau"])
    expect(page.locator(".goal-text").first).to_contain_text("1 of 100")
