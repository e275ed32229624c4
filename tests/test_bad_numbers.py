"""Numbers from the outside world (ids in paths, pages, cursors, limits, form times) that
are too big or not quite digits get a 404, a 400 or the first page: never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pledges.converters import MAX_ID, positive_int
from pledges.database import utcnow
from pledges.extensions import db
from pledges.models import Partner, PartnerStatus, Signature, SignatureStatus
from pledges.security import hash_token
from pledges.signers import issue_private_link_token
from pledges.tallies import recount, tally_for
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import csrf_token, log_in

ADMIN = "admin@example.org"
PARTNER_TOKEN = "partner-token-for-bad-numbers"

# Past PostgreSQL's integer, past SQLite's 64 bits, and past both by far.
TOO_BIG = [str(MAX_ID + 1), str(2**63), "9" * 30]
# isdigit() is true for these, int() refuses them or the databases cannot hold them.
NOT_PLAIN_DIGITS = ["²", "9" * 5000, "99999999999999999999"]


def test_positive_int_reads_only_plain_digits_within_bounds():
    assert positive_int("42") == 42
    assert positive_int(str(MAX_ID)) == MAX_ID
    assert positive_int("007") == 7
    for raw in [None, "", "0", "-1", "+1", " 1", "abc", "²", "٣", str(MAX_ID + 1), "9" * 5000]:
        assert positive_int(raw) is None, raw
    assert positive_int("10", maximum=9) is None


def setup_everything():
    """A pledge run by an admin, a confirmed signer with a private link and a partner."""
    pledge = make_pledge()
    admin = make_user(ADMIN, role="admin")
    run_by(pledge, admin)
    signature = confirmed_signature(pledge)
    signature.partners.append(
        Partner(
            name="Grace Mukami",
            email="grace@example.org",
            email_normalized="grace@example.org",
            token_hash=hash_token(PARTNER_TOKEN),
            status=PartnerStatus.INVITED,
            invited_at=utcnow(),
        )
    )
    me = issue_private_link_token(signature)
    db.session.commit()
    return pledge.slug, me


def test_out_of_range_ids_in_paths_are_not_found(app, client):
    with app.app_context():
        slug, me = setup_everything()
    log_in(client, ADMIN)
    token = csrf_token(client.get("/organize/").text)
    for number in [str(MAX_ID), *TOO_BIG]:
        for path in [
            f"/organize/{slug}/moderation/{number}/hide",
            f"/organize/{slug}/signatures/{number}/pledge.pdf",
            f"/organize/{slug}/dossier/{number}.pdf",
            f"/p/{slug}/report/{number}",
            f"/me/{me}/actions/{number}/edit",
            f"/me/{me}/actions/{number}/comments",
        ]:
            assert client.get(path).status_code == 404, path
        for path in [
            f"/organize/{slug}/moderation/{number}/approve",
            f"/organize/{slug}/moderation/{number}/hide",
            f"/organize/{slug}/reports/{number}",
            f"/admin/users/{number}/deactivate",
            f"/me/{me}/actions/{number}/delete",
            f"/me/{me}/partners/{number}/remove",
            f"/partner/{PARTNER_TOKEN}/actions/{number}/confirm",
        ]:
            response = client.post(path, data={"csrf_token": token, "reason": "Spam"})
            assert response.status_code == 404, path


def test_page_and_before_numbers_fall_back_to_the_first_page(app, client):
    with app.app_context():
        slug, _ = setup_everything()
    log_in(client, ADMIN)
    for raw in NOT_PLAIN_DIGITS:
        for path in [
            f"/organize/{slug}/moderation?page={raw}",
            f"/organize/{slug}/reports?page={raw}",
            f"/organize/{slug}/audit?before={raw}",
            f"/admin/audit?before={raw}",
        ]:
            assert client.get(path).status_code == 200, path


def test_marking_shown_as_reviewed_ignores_ids_that_are_not_numbers(app, client):
    with app.app_context():
        pledge = make_pledge()
        pledge.premoderation = True
        run_by(pledge, make_user(ADMIN, role="admin"))
        held = confirmed_signature(pledge)
        slug, sid = pledge.slug, held.id
    log_in(client, ADMIN)
    token = csrf_token(client.get(f"/organize/{slug}/moderation").text)
    for raw in [*NOT_PLAIN_DIGITS, f"²,{sid}9999999999999999999"]:
        response = client.post(
            f"/organize/{slug}/moderation/reviewed", data={"csrf_token": token, "shown-ids": raw}
        )
        assert response.status_code == 302, raw
    with app.app_context():
        assert db.session.get(Signature, sid).status == SignatureStatus.HELD


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}/wall?before=1-99999999999999999999",
        "/p/{slug}/wall?after=1-²",
        "/p/{slug}/actions?before=1-99999999999999999999",
        "/p/{slug}/actions?before=1-2147483648",
        "/api/v1/pledges?limit=²",
        "/api/v1/pledges?limit=" + "9" * 5000,
        "/api/v1/pledges?cursor=²",
        "/api/v1/pledges?cursor=99999999999999999999",
        "/api/v1/pledges?cursor=2147483648",
        "/api/v1/pledges/{slug}/signatures?cursor=1-99999999999999999999",
        "/api/v1/pledges/{slug}/signatures?limit=²",
    ],
)
def test_bad_cursors_and_limits_get_a_400(app, client, path):
    with app.app_context():
        slug = make_pledge().slug
    response = client.get(path.format(slug=slug))
    assert response.status_code == 400
    assert "Traceback" not in response.text


def test_bulk_hide_by_a_typed_time_window_previews_then_hides(app, client):
    with app.app_context():
        pledge = make_pledge()
        run_by(pledge, make_user(ADMIN, role="admin"))
        early = confirmed_signature(pledge, country="KE")
        flood = [confirmed_signature(pledge, country="SO") for _ in range(3)]
        late = confirmed_signature(pledge, country="KE")
        start = (utcnow() - timedelta(hours=3)).replace(second=0, microsecond=0)
        early.signed_at = start - timedelta(hours=2)
        for n, signature in enumerate(flood):
            signature.signed_at = start + timedelta(minutes=n)
        late.signed_at = start + timedelta(hours=2)
        db.session.commit()
        slug, pledge_id = pledge.slug, pledge.id
    log_in(client, ADMIN)
    page = f"/organize/{slug}/moderation/bulk"
    window = {
        "csrf_token": csrf_token(client.get(page).text),
        # What a browser's datetime-local input sends; the form says the times are UTC.
        "signed_from": start.strftime("%Y-%m-%dT%H:%M"),
        "signed_until": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
    }
    preview = client.post(page, data={**window, "step": "preview"})
    assert preview.status_code == 200 and "<strong>3</strong>" in preview.text
    widest = {**window, "signed_from": "0001-01-01T00:00", "signed_until": "9999-12-31T23:59"}
    everyone = client.post(page, data={**widest, "step": "preview"})
    assert everyone.status_code == 200 and "<strong>5</strong>" in everyone.text
    with app.app_context():
        assert tally_for(pledge_id).total == 5  # nothing hidden by a preview
    done = client.post(page, data={**window, "step": "hide", "reason": "Flood"})
    assert done.status_code == 302
    with app.app_context():
        assert tally_for(pledge_id).by_country == {"KE": 2}
        kept = tally_for(pledge_id)
        recount(pledge_id)
        db.session.commit()
        assert tally_for(pledge_id) == kept
        hidden = db.session.scalars(
            select(Signature.country).where(Signature.status == SignatureStatus.HIDDEN)
        ).all()
        assert hidden == ["SO"] * 3
