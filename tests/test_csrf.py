"""Every POST route of the app, found in the URL map, refuses a form sent without its CSRF
token: 400, the page that says so, and not a row changed anywhere.

The routes get real ids and real links, made through the flows a person follows (signing,
confirming, logging an action, inviting a partner, asking for a password reset), so each
POST would reach its view if the token were there; a control sends the token and is served.
A new POST route is covered as it is added, and fails here until tests/world.py (or the
links below) can fill its arguments.
"""

from __future__ import annotations

from sqlalchemy import select

from pledges.accounts.service import reset_token
from pledges.checkins.service import unsubscribe_token
from pledges.domain.signers import issue_hide_token
from pledges.errors import CSRF_MESSAGE
from pledges.extensions import db
from pledges.models import Dossier, Partner, Pledge, Signature, User
from pledges.updates.service import unsubscribe_token as update_unsubscribe_token
from tests.helpers import (
    PARTNER_LINK_RE,
    csrf_token,
    deliver_and_read,
    links_in,
    log_action,
    logged_in,
    sign_via_form,
    signer_page,
    table_counts,
    text_of,
)
from tests.world import build_world, world_routes

# Routes that take a POST without a session's token, on purpose, and why.
EXEMPT = {
    "checkins.unsubscribe": "one-click unsubscribe (RFC 8058): a mail client posts with no "
    "session to forge, and the unguessable link is the key",
    "updates.unsubscribe": "one-click unsubscribe from update emails (RFC 8058), as above",
}

# Their work undoes what the other routes need (a withdrawn signer's page is gone, a
# logged-out client is refused): sent last in the control.
LAST = (
    "sessions.delete",
    "partners.decline",
    "partners.remove",
    "actions.delete",
    "me.withdraw",
    "accounts.logout",
)


def _mail_to(app, outbox_dir, address: str):
    with app.app_context():
        return [m for m in deliver_and_read(outbox_dir) if address in m["To"]][-1]


def test_every_post_route_refuses_a_form_without_its_csrf_token(app, outbox_dir):
    # Each client's requests in an app context of their own: Flask-WTF keeps the token it
    # made in ``g``, which would hand one client's token to the next within one context.
    with app.app_context():
        world = build_world()
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == world.slug))
        signer = app.test_client()
        me = signer_page(signer, outbox_dir, pledge, email="amina@example.org")
        action_id = log_action(signer, me, pledge).id
    with app.app_context():
        invited = signer.post(
            f"{me}/partners",
            data={
                "pt-csrf_token": csrf_token(signer.get(me).text),
                "pt-name": "Grace Mukami",
                "pt-email": "grace@example.org",
            },
        )
        assert invited.status_code == 302
    partner = PARTNER_LINK_RE.search(text_of(_mail_to(app, outbox_dir, "grace@example.org")))
    with app.app_context():
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == world.slug))
        signed = sign_via_form(app.test_client(), pledge, email="unconfirmed@example.org")
        assert signed.status_code == 302
    confirm = links_in(_mail_to(app, outbox_dir, "unconfirmed@example.org"))["confirm"]
    with app.app_context():
        partner_id = db.session.scalar(select(Partner.id))
        code = db.session.scalar(
            select(Signature.verification_code).where(Signature.email == "amina@example.org")
        )
        dossier_code = db.session.scalar(select(Dossier.verification_code))
        unsubscribe = unsubscribe_token(
            db.session.scalar(select(Signature).where(Signature.email == "amina@example.org"))
        )
        update_unsubscribe = update_unsubscribe_token(
            db.session.scalar(select(Signature).where(Signature.email == "amina@example.org"))
        )
        reset = reset_token(db.session.scalar(select(User).where(User.email == world.admin)))
        hide = issue_hide_token(
            db.session.scalar(select(Signature).where(Signature.email == "amina@example.org"))
        )
        db.session.commit()
    fillers = {
        ("signing.confirm", "token"): lambda w: confirm.rsplit("/", 1)[1],
        ("signing.open_private_page", "token"): lambda w: confirm.rsplit("/", 1)[1],
        ("checkins.unsubscribe", "token"): lambda w: unsubscribe,
        ("updates.unsubscribe", "token"): lambda w: update_unsubscribe,
        ("accounts.reset_password", "token"): lambda w: reset,
        ("verify.verify", "code"): lambda w: code,
        ("dossier.verify", "code"): lambda w: dossier_code,
        ("moderation.report", "signature_id"): lambda w: w.signature_id,
    }
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/partner/"):
            fillers[(rule.endpoint, "token")] = lambda w: partner.group(1).rsplit("/", 1)[1]
        elif rule.endpoint == "me.hide":
            fillers[(rule.endpoint, "token")] = lambda w: hide
        elif rule.rule.startswith("/me/"):
            fillers[(rule.endpoint, "token")] = lambda w: me.rsplit("/", 1)[1]
        if "action_id" in rule.arguments:
            fillers[(rule.endpoint, "action_id")] = lambda w: action_id
        if "partner_id" in rule.arguments:
            fillers[(rule.endpoint, "partner_id")] = lambda w: partner_id
    posts = world_routes(app, world, ("/",), fillers, methods=frozenset({"POST"}))
    assert set(EXEMPT) <= {r.endpoint for r in posts}, "an exempt route is gone"
    posts = [r for r in posts if r.endpoint not in EXEMPT]
    assert len(posts) >= 55
    assert {"/logout", "/account", "/password/forgot", f"/p/{world.slug}"} <= {r.url for r in posts}
    # Logged in (as an admin, who may reach every organizer route), with the session cookie
    # that a forged form would ride on.
    client = logged_in(app, world.admin)
    for route in posts:
        with app.app_context():
            before = table_counts()
        response = client.post(route.url, data={"reason": "A reason", "email": world.owner})
        assert response.status_code == 400, (route.url, route.endpoint, response.status_code)
        assert str(CSRF_MESSAGE) in response.text, (route.url, route.endpoint)
        with app.app_context():
            assert table_counts() == before, (route.url, route.endpoint)

    # The control: the same URLs with the session's token are served (a form's own errors
    # aside), so the refusals above were the token's doing, on routes that exist.
    for route in sorted(posts, key=lambda r: LAST.index(r.endpoint) if r.endpoint in LAST else -1):
        # Read afresh: ending one's other sessions starts a new one, with a new token.
        token = csrf_token(client.get("/account").text)
        response = client.post(route.url, data={"csrf_token": token})
        assert response.status_code not in (404, 500), (route.url, response.status_code)
        assert str(CSRF_MESSAGE) not in response.text, (route.url, route.endpoint)
