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
from sqlalchemy import select

from pledges.accounts.service import reset_token
from pledges.extensions import db
from pledges.models import Action, Signature, User
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
    action_id: int
    partner: str  # the private page of the signer's accountability partner
    reset: str  # a password reset link
    unsubscribe: str  # the one-click link that stops the signer's reminders
    update: str  # a published update of the pledge
    update_unsubscribe: str  # the one-click link that stops the signer's update emails


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> Site:
    """A pledge with a few signers, public actions, one signer yet to confirm, an
    accountability partner, and an organizer who asked for a new password."""
    pledge = live_server.pledge(title="Allies for peace in the Great Lakes")
    signer = live_server.signer(pledge.slug, actions=2, visibility="initial")
    for visibility in ("full", "anonymous"):
        live_server.signer(pledge.slug, visibility=visibility, personal_note="For my sisters.")
    pending = live_server.signer(pledge.slug, confirmed=False)
    partner = live_server.partner(signer.email, "grace.partner@example.org")
    email = live_server.user("forgetful@example.org")
    with live_server.app.app_context():
        action_id = db.session.scalar(
            select(Action.id).join(Signature).where(Signature.email == signer.email).limit(1)
        )
        token = reset_token(db.session.scalar(select(User).where(User.email == email)))
    return Site(
        pledge=pledge,
        signer=signer,
        pending=pending,
        action_id=action_id,
        partner=partner,
        reset=f"/password/reset/{token}",
        unsubscribe=live_server.unsubscribe_link(signer.email),
        update=live_server.published_update(
            pledge.slug, "We met the district commissioner", "She listened.\n\nNext: the region."
        ),
        update_unsubscribe=live_server.update_unsubscribe_link(signer.email),
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


def me(path: str) -> Callable[..., None]:
    """A page under the signer's private page."""
    return goto(lambda site: site.signer.me + path.format(action=site.action_id))


#: Each page: the endpoint that serves it (None: no route), how to reach it (a function of
#: (page, site) that leaves the browser on it), and the HTTP status it answers with.
PAGES: dict[str, tuple[str | None, Callable[..., None], int]] = {
    "home": ("main.index", goto(lambda site: "/"), 200),
    "pledge": ("signing.sign", goto(lambda site: site.pledge.path), 200),
    "pledge with errors": ("signing.sign", sign_with_errors, 400),
    "check your inbox": (
        "signing.check_inbox",
        goto(lambda site: f"{site.pledge.path}/thanks"),
        200,
    ),
    "confirm": ("signing.confirm", goto(lambda site: site.pending.confirm), 200),
    "confirmed": ("signing.next_steps", confirmed, 200),
    "next steps": ("signing.next_steps", goto(lambda site: f"{site.signer.confirm}/next"), 200),
    "lost your link": ("signing.lost_link", goto(lambda site: "/lost-link"), 200),
    "lost your link with errors": ("signing.lost_link", lost_link_with_errors, 400),
    "lost your link sent": ("signing.lost_link", lost_link_sent, 200),
    "stop reminders": ("checkins.unsubscribe", goto(lambda site: site.unsubscribe), 200),
    "stop update emails": ("updates.unsubscribe", goto(lambda site: site.update_unsubscribe), 200),
    "updates": ("updates.public_list", goto(lambda site: f"{site.pledge.path}/updates"), 200),
    "an update": ("updates.public_update", goto(lambda site: site.update), 200),
    "wall": ("wall.wall", goto(lambda site: f"{site.pledge.path}/wall"), 200),
    "actions feed": ("wall.actions", goto(lambda site: f"{site.pledge.path}/actions"), 200),
    "embed": ("wall.embed", goto(lambda site: f"{site.pledge.path}/embed"), 200),
    "reported": ("moderation.reported", goto(lambda site: f"{site.pledge.path}/reported"), 200),
    "private page": ("me.manage", me(""), 200),
    "take me off the wall": ("me.hide", goto(lambda site: site.signer.hide), 200),
    "log an action": ("actions.new", me("/actions/new"), 200),
    "edit an action": ("actions.edit", me("/actions/{action}/edit"), 200),
    "comments and reply": ("partners.reply", me("/actions/{action}/comments"), 200),
    "invite a partner": ("partners.invite", me("/partners"), 200),
    "reminders": ("checkins.reminders", me("/reminders"), 200),
    "signed pledge preview": ("me.signed_pledge_preview", me("/pledge.html"), 200),
    "partner page": ("partners.page", goto(lambda site: site.partner), 200),
    "verify lookup": ("verify.lookup", goto(lambda site: "/verify"), 200),
    "verify": (
        "verify.verify",
        goto(lambda site: f"/verify/{site.signer.verification_code}"),
        200,
    ),
    "about": ("main.about", goto(lambda site: "/about"), 200),
    "login": ("accounts.login", goto(lambda site: "/login"), 200),
    "password reset": ("accounts.reset_password", goto(lambda site: site.reset), 200),
    "not found": (None, goto(lambda site: "/no-such-page"), 404),
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violations(name, axe_page, site, live_server):
    """Checked at desktop and phone widths: the layouts differ (wall columns, wrapping)."""
    endpoint, reach, status = PAGES[name]
    reach(axe_page, site)
    if endpoint:
        assert live_server.endpoint(axe_page.url) == endpoint, axe_page.url
    assert_accessible(axe_page, name, status)
