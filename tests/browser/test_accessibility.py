"""axe-core on every page a signer or visitor meets, in Chromium, with the real CSP in force.

No WCAG 2.2 A/AA violation of any impact is allowed, nor a serious or critical one of axe's
best practices; every finding is listed in the message when a page fails (conftest's
assert_accessible). Organizer and admin pages: test_organizer_accessibility.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    LiveServer,
    SeededPledge,
    SeededSigner,
    assert_accessible,
    goto,
)


@dataclass(frozen=True)
class Site:
    pledge: SeededPledge
    signer: SeededSigner
    pending: SeededSigner
    unsubscribe: str


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> Site:
    """A pledge with a few signers, public actions, and one signer yet to confirm."""
    pledge = live_server.pledge(title="Allies for peace in the Great Lakes")
    signer = live_server.signer(pledge.slug, actions=2, visibility="initial")
    for visibility in ("full", "anonymous"):
        live_server.signer(pledge.slug, visibility=visibility, personal_note="For my sisters.")
    pending = live_server.signer(pledge.slug, confirmed=False)
    return Site(
        pledge=pledge,
        signer=signer,
        pending=pending,
        unsubscribe=live_server.unsubscribe_link(signer.email),
    )


def sign_with_errors(page, site: Site) -> None:
    page.goto(site.pledge.path)
    page.get_by_role("button", name="Sign the pledge").click()
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")


def lost_link_sent(page, site: Site) -> None:
    page.goto("/lost-link")
    page.get_by_label("Your email address").fill(site.signer.email)
    page.get_by_role("button", name="Email me my links").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")


def lost_link_with_errors(page, site: Site) -> None:
    page.goto("/lost-link")
    page.get_by_role("button", name="Email me my links").click()
    expect(page.locator("#email-error")).to_have_text("Enter the email address you signed with.")


def confirmed(page, site: Site) -> None:
    page.goto(site.pending.confirm)
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your signature is confirmed")


#: How to reach each page: a function of (page, site) that leaves the browser on it.
PAGES: dict[str, Callable[..., None]] = {
    "home": goto(lambda site: "/"),
    "pledge": goto(lambda site: site.pledge.path),
    "pledge with errors": sign_with_errors,
    "check your inbox": goto(lambda site: f"{site.pledge.path}/thanks"),
    "confirm": goto(lambda site: site.pending.confirm),
    "confirmed": confirmed,
    "next steps": goto(lambda site: f"{site.signer.confirm}/next"),
    "lost your link": goto(lambda site: "/lost-link"),
    "lost your link with errors": lost_link_with_errors,
    "lost your link sent": lost_link_sent,
    "stop reminders": goto(lambda site: site.unsubscribe),
    "wall": goto(lambda site: f"{site.pledge.path}/wall"),
    "actions feed": goto(lambda site: f"{site.pledge.path}/actions"),
    "private page": goto(lambda site: site.signer.me),
    "log an action": goto(lambda site: f"{site.signer.me}/actions/new"),
    "verify lookup": goto(lambda site: "/verify"),
    "verify": goto(lambda site: f"/verify/{site.signer.verification_code}"),
    "about": goto(lambda site: "/about"),
    "login": goto(lambda site: "/login"),
    "not found": goto(lambda site: "/no-such-page"),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(name, axe_page, site):
    """Checked at desktop and phone widths: the layouts differ (wall columns, wrapping)."""
    PAGES[name](axe_page, site)
    assert_accessible(axe_page, name)
