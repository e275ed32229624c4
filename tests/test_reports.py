"""Public reports of wall entries: the link on the wall, the form, its rate limit, and the
organizers' reports queue."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pledges.domain.tallies import recount, tally_for
from pledges.extensions import db
from pledges.infrastructure.abuse import hash_ip
from pledges.models import AuditEntry, Report, Signature, SignatureStatus
from pledges.moderation import service
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import csrf_token, log_in

OWNER = "owner@example.org"


def reports() -> int:
    return db.session.scalar(select(func.count()).select_from(Report))


def report(client, slug, sid, **data):
    page = client.get(f"/p/{slug}/report/{sid}")
    return client.post(
        f"/p/{slug}/report/{sid}",
        data={"csrf_token": csrf_token(page.text), "reason": "unsafe", **data},
    )


def test_every_wall_entry_links_to_the_same_report_form(app, client):
    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge, name="Named Person")
        slug, sid, db_id = pledge.slug, signature.public_id, signature.id
    wall = client.get(f"/p/{slug}/wall").text
    assert f'href="/p/{slug}/report/{sid}"' in wall
    form = client.get(f"/p/{slug}/report/{sid}").text
    assert "Showing this person puts them in danger" in form and "Named Person" in form
    response = report(client, slug, sid, details="Her village will see this.")
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{slug}/reported"
    assert "moderators will look at it" in client.get(response.headers["Location"]).text
    with app.app_context():
        stored = db.session.scalar(select(Report))
        assert (stored.signature_id, stored.reason) == (db_id, "unsafe")
        assert stored.details == "Her village will see this."
        assert stored.ip_hash == hash_ip("127.0.0.1") and stored.resolved_at is None


def test_reports_need_a_reason_csrf_and_an_empty_honeypot(app, client):
    with app.app_context():
        pledge = make_pledge()
        sid = confirmed_signature(pledge).public_id
        slug = pledge.slug
    assert client.post(f"/p/{slug}/report/{sid}", data={"reason": "spam"}).status_code == 400
    assert report(client, slug, sid, reason="").status_code == 400
    assert report(client, slug, sid, website="http://spam").status_code == 400
    assert report(client, slug, sid, details="x" * 2001).status_code == 400
    with app.app_context():
        assert reports() == 0


def test_only_visible_entries_of_that_pledge_can_be_reported(app, client):
    with app.app_context():
        pledge = make_pledge()
        other = make_pledge()
        hidden = confirmed_signature(pledge)
        service.hide(hidden, "unsafe")
        theirs = confirmed_signature(other)
        shown = confirmed_signature(pledge)
        db.session.commit()
        slug, hidden_id, theirs_id = pledge.slug, hidden.public_id, theirs.public_id
        shown_db_id = shown.id
    assert client.get(f"/p/{slug}/report/{hidden_id}").status_code == 404
    assert client.get(f"/p/{slug}/report/{theirs_id}").status_code == 404
    # The database id is no public reference.
    assert client.get(f"/p/{slug}/report/{shown_db_id}").status_code == 404
    assert client.get(f"/p/{slug}/report/999999").status_code == 404


@pytest.mark.config(REPORT_LIMIT_PER_IP="2 per hour")
def test_reports_are_rate_limited_per_address(app, client):
    with app.app_context():
        pledge = make_pledge()
        sid = confirmed_signature(pledge).public_id
        slug = pledge.slug
    assert report(client, slug, sid).status_code == 302
    assert report(client, slug, sid).status_code == 302
    blocked = report(client, slug, sid)
    assert blocked.status_code == 429
    assert client.get(f"/p/{slug}/report/{sid}").status_code == 200  # reading is not limited
    with app.app_context():
        assert reports() == 2


def test_organizers_dismiss_or_hide_reported_entries(app, client):
    with app.app_context():
        pledge = make_pledge()
        run_by(pledge, make_user(OWNER))
        run_by(make_pledge(), make_user("other@example.org"))
        quiet = confirmed_signature(pledge, name="Quiet Reported")
        danger = confirmed_signature(pledge, name="In Danger", email="in.danger@private.example")
        service.file_report(quiet, "spam", "", "198.51.100.1")
        for _ in range(3):
            service.file_report(danger, "unsafe", "Please take her off", "198.51.100.2")
        db.session.commit()
        slug, pid, quiet_id, danger_id = pledge.slug, pledge.id, quiet.id, danger.id
    assert client.get(f"/organize/{slug}/reports").status_code == 302
    log_in(client, "other@example.org")
    assert client.get(f"/organize/{slug}/reports").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_token(client.get("/organize/").text)})

    log_in(client, OWNER)
    page = client.get(f"/organize/{slug}/reports").text
    assert "3 open</strong> of 3 reports" in page and "1 open</strong> of 1 report" in page
    assert "Showing this person puts them in danger" in page
    assert "in.danger@" not in page and "private.example" in page
    token = csrf_token(page)
    no_reason = client.post(
        f"/organize/{slug}/reports/{danger_id}",
        data={"csrf_token": token, f"r{danger_id}-resolution": "hidden"},
    )
    assert no_reason.status_code == 400
    hidden = client.post(
        f"/organize/{slug}/reports/{danger_id}",
        data={
            "csrf_token": token,
            f"r{danger_id}-resolution": "hidden",
            f"r{danger_id}-reason": "Named person at risk",
        },
    )
    assert hidden.status_code == 302
    dismissed = client.post(
        f"/organize/{slug}/reports/{quiet_id}",
        data={"csrf_token": token, f"r{quiet_id}-resolution": "dismissed"},
    )
    assert dismissed.status_code == 302
    assert "In Danger" not in client.get(f"/p/{slug}/wall").text
    with app.app_context():
        assert db.session.get(Signature, danger_id).status == SignatureStatus.HIDDEN
        assert db.session.get(Signature, quiet_id).status == SignatureStatus.CONFIRMED
        assert db.session.scalar(select(func.count()).where(Report.resolved_at.is_(None))) == 0
        resolutions = dict(db.session.execute(select(Report.signature_id, Report.resolution)).all())
        assert resolutions == {quiet_id: "dismissed", danger_id: "hidden"}
        kept = tally_for(pid)
        assert kept.total == 1 and recount(pid) == kept
        audit = [
            (e.action, e.target_id, e.reason, e.actor)
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.pledge_id == pid).order_by(AuditEntry.id)
            )
        ]
        assert audit == [
            ("signature.hide", danger_id, "Named person at risk", OWNER),
            ("reports.hide", danger_id, "Named person at risk", OWNER),
            ("reports.dismiss", quiet_id, "", OWNER),
        ]
    again = client.post(
        f"/organize/{slug}/reports/{quiet_id}",
        data={"csrf_token": token, f"r{quiet_id}-resolution": "dismissed"},
    )
    assert again.status_code == 400
