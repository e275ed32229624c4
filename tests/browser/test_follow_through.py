"""After signing: logging what one did, a partner confirming it, and the signed pledge PDF."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from pypdf import PdfReader

from pledges.infrastructure.database import utcnow
from tests.browser.conftest import PHONE


def test_a_partner_accepts_the_invitation_and_confirms_a_logged_action(open_page, live_server):
    pledge = live_server.pledge()
    signer = live_server.signer(
        pledge.slug, name="Grace Achieng Otieno", email="grace.follow@example.org"
    )
    page = open_page(**PHONE)

    page.goto(signer.me)
    page.locator("#summary").get_by_role("link", name="Log an action").tap()
    page.get_by_label("Which commitment did this keep?").select_option(label=pledge.commitments[0])
    page.get_by_label("What kind of action").select_option(label="Training or workshop")
    page.get_by_label("When").fill(utcnow().date().isoformat())
    page.get_by_label("What you did").fill("Co-led a workshop on shared care with the elders.")
    page.get_by_role("radio", name=re.compile("^Public")).tap()
    page.get_by_role("button", name="Log this action").tap()
    expect(page.get_by_text("Action logged.")).to_be_visible()
    action = page.locator("#actions .action")
    expect(action).not_to_contain_text("Confirmed")

    partners = page.get_by_role("region", name="Accountability partners")
    partners.get_by_label("Their name").fill("Joseph Mwangi")
    partners.get_by_label("Their email").fill("joseph.partner@example.org")
    partners.get_by_role("button", name="Send the invitation").tap()
    expect(page.get_by_text("Invitation sent to Joseph Mwangi.")).to_be_visible()

    # The partner is someone else, on a device of their own, coming from their email.
    partner_page = open_page(**PHONE)
    partner_page.goto(live_server.partner_link("joseph.partner@example.org"))
    expect(partner_page.get_by_role("heading", level=1)).to_have_text("Grace Achieng Otieno")
    expect(partner_page.get_by_role("button", name=re.compile("^Confirm"))).to_have_count(0)
    partner_page.get_by_role("button", name="Accept the role").tap()
    expect(partner_page.get_by_text("Thank you for accepting.")).to_be_visible()
    partner_action = partner_page.locator("#actions .action")
    expect(partner_action).to_contain_text("Co-led a workshop on shared care with the elders.")
    partner_action.get_by_role("button", name=re.compile("^Confirm")).tap()
    expect(partner_page.get_by_text("Confirmed. Thank you")).to_be_visible()
    expect(partner_action).to_contain_text("Confirmed by you")

    page.reload()
    expect(action).to_contain_text(re.compile(r"Confirmed\s+by\s+Joseph Mwangi"))
    assert page.console.errors() == [] and partner_page.console.errors() == []


def test_signer_downloads_their_signed_pledge_as_a_pdf(desktop, live_server, tmp_path):
    pledge = live_server.pledge(title="Allies for peace in Mindanao")
    signer = live_server.signer(
        pledge.slug, name="Rosa Dimaculangan Reyes", email="rosa.pdf@example.org"
    )
    page = desktop
    page.goto(signer.me)

    with page.expect_download() as download_info:
        page.locator("#summary").get_by_role("link", name="Download signed PDF").click()
    download = download_info.value
    assert download.suggested_filename == (
        f"{pledge.slug}-signed-pledge-{signer.verification_code}.pdf"
    )
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    reader = PdfReader(saved)
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Rosa Dimaculangan Reyes" in text
    assert signer.verification_code in text
    assert pledge.title in text
