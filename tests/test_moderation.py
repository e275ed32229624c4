"""Moderation: the queue, hiding and showing again, pre-moderation, bulk invalidation and
the audit log, with the counters checked against a recount after every act."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pledges.actions import service as actions
from pledges.domain.tallies import adjust_follow_through, recount, tally_for
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.me import service as me_service
from pledges.models import (
    AuditEntry,
    ReviewState,
    Signature,
    SignatureStatus,
)
from pledges.moderation import service
from pledges.moderation.service import ModerationError
from tests.factories import confirmed_signature, logged_action, make_pledge, make_user, run_by
from tests.helpers import (
    confirm_via_link,
    counters,
    csrf_token,
    deliver_and_read,
    links_in,
    log_in,
    sign_via_form,
)

OWNER = "owner@example.org"
OTHER = "other@example.org"
ADMIN = "admin@example.org"


def assert_agrees_with_recount(pledge_id: int) -> None:
    kept = counters(pledge_id)
    recount(pledge_id)
    assert counters(pledge_id) == kept
    db.session.commit()


def log(signature, people=None, confirmed_by_partner=False):
    action = logged_action(signature, people)
    if confirmed_by_partner:  # as transitions.review_action does
        action.review_state = ReviewState.CONFIRMED
        adjust_follow_through(signature.pledge_id, confirmed_actions=1)
    db.session.commit()
    return action


def setup_pledge(premoderation=False):
    """A pledge run by OWNER, with OTHER running another and ADMIN an admin."""
    pledge = make_pledge()
    pledge.premoderation = premoderation
    db.session.commit()
    run_by(pledge, make_user(OWNER))
    run_by(make_pledge(), make_user(OTHER))
    make_user(ADMIN, role="admin")
    return pledge


def page_token(client, path: str) -> str:
    return csrf_token(client.get(path).text)


# Who may open what.


def test_moderation_pages_are_for_the_pledges_organizers_only(app, client):
    with app.app_context():
        pledge = setup_pledge()
        signature = confirmed_signature(pledge)
        slug, sid = pledge.slug, signature.id
    pages = [
        f"/organize/{slug}/moderation",
        f"/organize/{slug}/moderation?view=hidden",
        f"/organize/{slug}/moderation?view=all",
        f"/organize/{slug}/moderation/{sid}/hide",
        f"/organize/{slug}/moderation/{sid}/unhide",
        f"/organize/{slug}/moderation/bulk",
        f"/organize/{slug}/audit",
        f"/organize/{slug}/reports",
    ]
    posts = [
        f"/organize/{slug}/moderation/{sid}/approve",
        f"/organize/{slug}/moderation/reviewed",
        f"/organize/{slug}/reports/{sid}",
    ]
    anonymous_token = page_token(client, "/login")
    for path in [*pages, *posts, "/admin/audit"]:
        if path in posts:
            response = client.post(path, data={"csrf_token": anonymous_token})
        else:
            response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path

    log_in(client, OTHER)
    for path in pages:
        assert client.get(path).status_code == 404, path
    token = page_token(client, "/organize/")
    for path in posts:
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    assert client.get("/admin/audit").status_code == 403
    client.post("/logout", data={"csrf_token": token})

    log_in(client, OWNER)
    for path in pages:
        assert client.get(path).status_code == 200, path
    assert client.get("/admin/audit").status_code == 403
    # A signature of another pledge is not found under this one.
    with app.app_context():
        stranger = confirmed_signature(make_pledge())
        assert client.get(f"/organize/{slug}/moderation/{stranger.id}/hide").status_code == 404
    client.post("/logout", data={"csrf_token": page_token(client, "/organize/")})

    log_in(client, ADMIN)
    for path in [*pages, "/admin/audit"]:
        assert client.get(path).status_code == 200, path


def test_every_form_needs_its_csrf_token(app, client):
    with app.app_context():
        pledge = setup_pledge(premoderation=True)
        held = confirmed_signature(pledge)
        slug, sid = pledge.slug, held.id
        assert held.status == SignatureStatus.HELD
    log_in(client, OWNER)
    for path, data in [
        (f"/organize/{slug}/moderation/{sid}/approve", {}),
        (f"/organize/{slug}/moderation/{sid}/hide", {"reason": "spam"}),
        (f"/organize/{slug}/moderation/{sid}/unhide", {"reason": "ok"}),
        (f"/organize/{slug}/moderation/reviewed", {"shown-ids": str(sid)}),
        (f"/organize/{slug}/moderation/bulk", {"email_domain": "example.org", "step": "hide"}),
        (f"/organize/{slug}/reports/{sid}", {f"r{sid}-resolution": "dismissed"}),
    ]:
        assert client.post(path, data=data).status_code == 400, path
    with app.app_context():
        assert db.session.get(Signature, sid).status == SignatureStatus.HELD
        assert (
            db.session.scalar(select(AuditEntry).where(AuditEntry.action != "user.create")) is None
        )


# Hiding and showing again.


def test_hiding_takes_a_signature_and_its_actions_out_of_every_figure(app, client):
    with app.app_context():
        pledge = setup_pledge()
        kept = confirmed_signature(pledge, name="Kept Signer", country="KE", role="woman")
        bad = confirmed_signature(pledge, name="Troll McSpam", country="UG", role="man")
        log(kept, people=5)
        log(bad, people=40, confirmed_by_partner=True)
        log(bad, people=2)
        slug, bad_id = pledge.slug, bad.id
        before = tally_for(pledge.id)
        assert (before.total, before.actions, before.people_reached) == (2, 3, 47)
        assert before.active_signers == 2
        assert "Troll McSpam" in client.get(f"/p/{slug}/wall").text

    log_in(client, OWNER)
    hide_page = f"/organize/{slug}/moderation/{bad_id}/hide"
    token = page_token(client, hide_page)
    missing = client.post(hide_page, data={"csrf_token": token, "reason": "  "})
    assert missing.status_code == 400 and "Say why" in missing.text
    response = client.post(hide_page, data={"csrf_token": token, "reason": "Fake name, abusive"})
    assert response.status_code == 302

    with app.app_context():
        tally = tally_for(pledge.id)
        assert (tally.total, tally.by_role, tally.by_country) == (1, {"woman": 1}, {"KE": 1})
        assert (tally.actions, tally.confirmed_actions, tally.people_reached) == (1, 0, 5)
        assert tally.active_signers == 1
        assert_agrees_with_recount(pledge.id)
        bad = db.session.get(Signature, bad_id)
        assert bad.status == SignatureStatus.HIDDEN and bad.hidden_reason == "Fake name, abusive"
        assert len(bad.actions) == 2  # kept, only uncounted
        assert bad.reviewed_by_id is not None and bad.reviewed_at is not None
    for public in (f"/p/{slug}/wall", f"/p/{slug}/actions", f"/p/{slug}/feed.atom"):
        assert "Troll McSpam" not in client.get(public).text, public
    assert "Troll McSpam" not in client.get(f"/api/v1/pledges/{slug}/signatures").text

    # Hiding it again changes nothing.
    again = client.post(hide_page, data={"csrf_token": token, "reason": "twice"})
    assert again.status_code == 400

    unhide_page = f"/organize/{slug}/moderation/{bad_id}/unhide"
    response = client.post(unhide_page, data={"csrf_token": token, "reason": "Checked: real"})
    assert response.status_code == 302
    with app.app_context():
        assert tally_for(pledge.id) == before
        assert_agrees_with_recount(pledge.id)
        assert db.session.get(Signature, bad_id).hidden_reason == ""
    assert "Troll McSpam" in client.get(f"/p/{slug}/wall").text

    with app.app_context():
        actions_by = [
            (e.action, e.reason, e.target_id, e.actor)
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.pledge_id == pledge.id).order_by(AuditEntry.id)
            )
        ]
        assert actions_by == [
            ("signature.hide", "Fake name, abusive", bad_id, OWNER),
            ("signature.unhide", "Checked: real", bad_id, OWNER),
        ]


def test_a_hidden_signer_can_still_withdraw_and_delete_actions(app_ctx):
    pledge = setup_pledge()
    confirmed_signature(pledge)
    one = confirmed_signature(pledge)
    two = confirmed_signature(pledge)
    log(one, people=3)
    action = log(two, people=7)
    log(two, people=1)
    service.hide(one, "spam")
    service.hide(two, "spam")
    db.session.commit()
    me_service.withdraw(one)
    actions.delete_action(two, action)
    db.session.commit()
    tally = tally_for(pledge.id)
    assert (tally.total, tally.actions, tally.people_reached) == (1, 0, 0)
    assert_agrees_with_recount(pledge.id)
    service.unhide(two, "fine after all")
    db.session.commit()
    tally = tally_for(pledge.id)
    assert (tally.total, tally.actions, tally.people_reached) == (2, 1, 1)
    assert_agrees_with_recount(pledge.id)


def test_two_moderators_hiding_at_once_count_it_once(app_ctx):
    pledge = setup_pledge()
    signature = confirmed_signature(pledge)
    confirmed_signature(pledge)
    stale = db.session.get(Signature, signature.id)
    service.hide(signature, "first moderator")
    with pytest.raises(ModerationError):
        service.hide(stale, "second moderator")
    assert service.bulk_invalidate(pledge, email_domain="example.org", reason="again") == 1
    db.session.commit()
    assert tally_for(pledge.id).total == 0
    assert_agrees_with_recount(pledge.id)


# Pre-moderation.


def test_premoderated_signatures_wait_for_approval(app, client, outbox_dir):
    with app.app_context():
        pledge = setup_pledge(premoderation=True)
        slug, pid = pledge.slug, pledge.id
        sign_via_form(client, pledge, name="Waiting Person", email="waiting@example.org")
        links = links_in(deliver_and_read(outbox_dir)[-1])
    confirmed = confirm_via_link(client, links["confirm"])
    page = client.get(confirmed.headers["Location"]).text
    assert "appear on the public wall" in page and "once they have approved it" in page
    private = client.get(links["me"]).text
    assert "waiting for the pledge's moderators" in private
    assert "Log an action" not in private
    with app.app_context():
        signature = db.session.scalar(select(Signature))
        sid, code = signature.id, signature.verification_code
        assert signature.status == SignatureStatus.HELD and signature.confirmed_at
        assert tally_for(pid).total == 0
        assert_agrees_with_recount(pid)
    assert "Waiting Person" not in client.get(f"/p/{slug}/wall").text
    assert client.get(f"/p/{slug}/report/{sid}").status_code == 404
    assert "Awaiting review" in client.get(f"/verify/{code}").text
    pdf = client.get(links["me"] + "/pledge.pdf")
    assert pdf.status_code == 403 and "approved your signature" in pdf.text
    assert client.get(links["me"] + "/actions/new").status_code == 403

    log_in(client, OWNER)
    queue = client.get(f"/organize/{slug}/moderation").text
    assert "Waiting Person" in queue and "Approve" in queue
    assert "waiting@example.org" not in queue and "example.org" in queue
    response = client.post(
        f"/organize/{slug}/moderation/{sid}/approve", data={"csrf_token": csrf_token(queue)}
    )
    assert response.status_code == 302
    with app.app_context():
        signature = db.session.get(Signature, sid)
        assert signature.status == SignatureStatus.CONFIRMED and signature.reviewed_at
        assert signature.next_checkin_at > utcnow()
        assert tally_for(pid).total == 1
        assert_agrees_with_recount(pid)
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "signature.approve")
        )
        assert (entry.actor, entry.target_id) == (OWNER, sid)
    assert "Waiting Person" in client.get(f"/p/{slug}/wall").text
    assert "Nothing waiting for review" in client.get(f"/organize/{slug}/moderation").text


def test_queue_lists_held_first_and_marks_all_shown_reviewed(app, client):
    with app.app_context():
        pledge = setup_pledge()
        confirmed_signature(pledge, name="Shown Already", email="a@flood.example")
        pledge.premoderation = True
        db.session.commit()
        confirmed_signature(pledge, name="Held Newcomer", email="b@flood.example")
        for sig in db.session.scalars(select(Signature)):
            sig.ip_hash = "same-network"
        db.session.commit()
        slug = pledge.slug
    log_in(client, OWNER)
    queue = client.get(f"/organize/{slug}/moderation").text
    assert queue.index("Held Newcomer") < queue.index("Shown Already")
    assert "1 other signature on this pledge came from the same network address" in queue
    response = client.post(
        f"/organize/{slug}/moderation/reviewed",
        data={"csrf_token": csrf_token(queue), "shown-ids": csrf_ids(queue)},
    )
    assert response.status_code == 302
    with app.app_context():
        assert {s.status for s in db.session.scalars(select(Signature))} == {"confirmed"}
        assert all(s.reviewed_at for s in db.session.scalars(select(Signature)))
        assert tally_for(pledge.id).total == 2
        assert_agrees_with_recount(pledge.id)
    assert "Nothing waiting for review" in client.get(f"/organize/{slug}/moderation").text
    assert "Held Newcomer" in client.get(f"/organize/{slug}/moderation?view=all").text


def csrf_ids(html: str) -> str:
    marker = 'name="shown-ids" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_queue_is_paginated(app, client):
    with app.app_context():
        pledge = setup_pledge()
        for n in range(53):
            confirmed_signature(pledge, name=f"Signer Number {n:02d}")
        slug = pledge.slug
    log_in(client, OWNER)
    first = client.get(f"/organize/{slug}/moderation").text
    assert first.count('class="signer"') == 50 and "Next →" in first
    second = client.get(f"/organize/{slug}/moderation?page=2").text
    assert second.count('class="signer"') == 3 and "Signer Number 52" in second


# Bulk invalidation.


def test_bulk_hide_by_domain_previews_then_hides_with_one_audit_entry(app, client):
    with app.app_context():
        pledge = setup_pledge()
        for n in range(3):
            confirmed_signature(pledge, email=f"bot{n}@spam.example", country="UG")
        confirmed_signature(pledge, email="bot@mail.spam.example", country="UG")
        confirmed_signature(pledge, email="real@notspam.example", country="KE")
        pledge.premoderation = True
        db.session.commit()
        confirmed_signature(pledge, email="held@spam.example")
        confirmed_signature(pledge, email="someone@example.org")
        log(db.session.scalar(select(Signature).order_by(Signature.id)), people=9)
        slug = pledge.slug
    log_in(client, OWNER)
    page = f"/organize/{slug}/moderation/bulk"
    token = page_token(client, page)
    preview = client.post(
        page, data={"csrf_token": token, "email_domain": "@Spam.Example", "step": "preview"}
    )
    assert preview.status_code == 200 and "<strong>5</strong>" in preview.text
    with app.app_context():
        assert tally_for(pledge.id).total == 5  # nothing hidden by a preview
    no_reason = client.post(
        page, data={"csrf_token": token, "email_domain": "spam.example", "step": "hide"}
    )
    assert no_reason.status_code == 400
    done = client.post(
        page,
        data={
            "csrf_token": token,
            "email_domain": "spam.example",
            "step": "hide",
            "reason": "Bot flood",
        },
    )
    assert done.status_code == 302
    with app.app_context():
        tally = tally_for(pledge.id)
        assert (tally.total, tally.by_country, tally.actions) == (1, {"KE": 1}, 0)
        assert_agrees_with_recount(pledge.id)
        statuses = dict(db.session.execute(select(Signature.email, Signature.status)).all())
        assert statuses["real@notspam.example"] == "confirmed"
        assert statuses["someone@example.org"] == "held"
        assert statuses["held@spam.example"] == "hidden"
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action != "user.create")
        ).all()
        assert len(entries) == 1
        entry = entries[0]
        assert (entry.action, entry.actor, entry.reason) == (
            "signatures.bulk_hide",
            OWNER,
            "Bot flood",
        )
        assert entry.details["count"] == 5 and entry.details["held"] == 1
        assert entry.details["email_domain"] == "spam.example"
    nothing = client.post(page, data={"csrf_token": token, "step": "preview"})
    assert nothing.status_code == 400 and "email domain, a time window" in nothing.text
    # A NUL byte (which PostgreSQL cannot even compare) is refused, not searched for.
    nul = client.post(
        page, data={"csrf_token": token, "email_domain": "spam\x00.example", "step": "preview"}
    )
    assert nul.status_code == 400
    assert "Remove the invisible control characters from this text." in nul.text


def test_bulk_hide_by_time_window(app_ctx):
    pledge = setup_pledge()
    early = confirmed_signature(pledge, country="KE")
    flood = [confirmed_signature(pledge, country="SO") for _ in range(3)]
    late = confirmed_signature(pledge, country="KE")
    start = utcnow() - timedelta(hours=3)
    early.signed_at = start - timedelta(hours=2)
    for n, signature in enumerate(flood):
        signature.signed_at = start + timedelta(minutes=n)
    late.signed_at = start + timedelta(hours=2)
    db.session.commit()
    criteria = service.BulkCriteria.of(None, start, start + timedelta(minutes=30))
    assert service.bulk_preview(pledge, criteria) == 3
    count = service.bulk_invalidate(
        pledge, signed_from=start, signed_until=start + timedelta(minutes=30), reason="Flood"
    )
    db.session.commit()
    assert count == 3
    assert tally_for(pledge.id).by_country == {"KE": 2}
    assert_agrees_with_recount(pledge.id)
    with pytest.raises(ModerationError):
        service.bulk_invalidate(pledge, signed_from=late.signed_at, signed_until=start, reason="x")


# The audit log.


def test_audit_log_lists_entries_for_admins_with_filters(app, client):
    with app.app_context():
        pledge = setup_pledge()
        other = make_pledge(title="Elsewhere")
        mine = confirmed_signature(pledge, email="private.person@secret.example")
        theirs = confirmed_signature(other)
        service.hide(mine, "Unsafe to show")
        service.hide(theirs, "Spam")
        db.session.commit()
        slug, other_slug = pledge.slug, other.slug
    log_in(client, ADMIN)
    everything = client.get("/admin/audit").text
    assert "Unsafe to show" in everything and "Spam" in everything
    assert everything.index("Spam") < everything.index("Unsafe to show")  # newest first
    only_mine = client.get(f"/admin/audit?pledge={slug}").text
    assert "Unsafe to show" in only_mine and "Spam</td>" not in only_mine
    by_action = client.get("/admin/audit?action=user.create").text
    assert "Unsafe to show" not in by_action and "user.create" in by_action
    assert "private.person" not in everything
    client.post("/logout", data={"csrf_token": csrf_token(everything)})

    log_in(client, OWNER)
    history = client.get(f"/organize/{slug}/audit").text
    assert "Unsafe to show" in history and "Spam" not in history
    assert client.get(f"/organize/{other_slug}/audit").status_code == 404


def test_moderation_pages_show_only_the_email_domain(app, client):
    with app.app_context():
        pledge = setup_pledge()
        signature = confirmed_signature(pledge, email="Amina.Private@Secret-Domain.example")
        service.file_report(signature, "unsafe", "Her family is in danger", "203.0.113.9")
        db.session.commit()
        slug, sid = pledge.slug, signature.id
    log_in(client, OWNER)
    for path in [
        f"/organize/{slug}/moderation",
        f"/organize/{slug}/moderation?view=all",
        f"/organize/{slug}/moderation/{sid}/hide",
        f"/organize/{slug}/reports",
        f"/organize/{slug}/audit",
    ]:
        html = client.get(path).text.lower()
        assert "amina.private" not in html, path
    assert "secret-domain.example" in client.get(f"/organize/{slug}/moderation").text
