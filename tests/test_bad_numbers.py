"""Numbers from the outside world (ids in paths, pages, cursors, limits, form times, whole
numbers typed in forms) that are too big or not quite digits get a 404, a 400 or the first
page: never a 500."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import timedelta

import pytest
from flask_wtf import FlaskForm
from markupsafe import escape
from sqlalchemy import func, select
from wtforms import DecimalField, FloatField, IntegerField
from wtforms.fields.core import UnboundField

import pledges
from pledges.actions.forms import ActionForm
from pledges.domain.signers import issue_private_link_token
from pledges.domain.tallies import recount, tally_for
from pledges.extensions import db
from pledges.forms import WholeNumberField
from pledges.infrastructure.converters import MAX_ID, positive_int
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.security import hash_token
from pledges.models import (
    Action,
    AuditEntry,
    DialogueSession,
    Partner,
    PartnerStatus,
    Pledge,
    Signature,
    SignatureStatus,
)
from pledges.organize.forms import PledgeForm
from pledges.sessions.forms import SessionForm
from tests.factories import confirmed_signature, make_pledge, make_user, run_by
from tests.helpers import action_form_data, csrf_token, log_in

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


# Whole numbers typed into forms (issue 21). int() reads every one of these, or a float
# check (WTForms' NumberRange calls math.isnan) cannot take them: each gets the field's own
# message. A browser's number input sends none of the spaced or signed ones; other clients do.
NOT_WHOLE_NUMBERS = [
    "-0",
    "-1",
    "1e3",
    "12.0",
    "٣",  # ARABIC-INDIC DIGIT THREE
    "²",
    "+5",
    " 12 ",
    "12\n",
    "1_000",
    "0x10",
    str(10**309),  # the smallest whole number a float cannot hold
    "1" + "0" * 4000,  # 10**4000
    "9" * 5000,  # past int()'s 4,300-digit limit
]

# Every form field that takes a whole number, and the pages that post it. A new number
# field fails test_every_number_field_is_listed_here until it is added (and so tested).
NUMBER_FIELD_ROUTES = {
    (PledgeForm, "goal"): ["/organize/new", "/organize/{slug}/edit"],
    (PledgeForm, "checkin_cadence_days"): ["/organize/new", "/organize/{slug}/edit"],
    (ActionForm, "people_reached"): ["/me/{me}/actions/new", "/me/{me}/actions/{action}/edit"],
    (SessionForm, "duration_minutes"): ["/organize/{slug}/sessions"],
    (SessionForm, "occurrences"): ["/organize/{slug}/sessions"],
}


def number_fields() -> dict[tuple[type, str], UnboundField]:
    """Every number field declared on a form anywhere in the app, by (form, field name)."""
    for module in pkgutil.walk_packages(pledges.__path__, "pledges."):
        importlib.import_module(module.name)
    found = {}
    pending = [FlaskForm]
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        if not form_class.__module__.startswith("pledges."):
            continue
        for name, value in inspect.getmembers(form_class):
            if isinstance(value, UnboundField) and issubclass(
                value.field_class, (IntegerField, DecimalField, FloatField)
            ):
                found[(form_class, name)] = value
    return found


def test_every_number_field_is_a_whole_number_field_listed_here(app):
    fields = number_fields()
    assert set(fields) == set(NUMBER_FIELD_ROUTES)
    for (form_class, name), field in fields.items():
        assert issubclass(field.field_class, WholeNumberField), f"{form_class.__name__}.{name}"
    adapter = app.url_map.bind("pledges.test")
    for paths in NUMBER_FIELD_ROUTES.values():
        for path in paths:
            adapter.match(path.format(slug="s", me="t", action=1), method="POST")


def test_a_whole_number_field_reads_plain_digits_within_its_range(app):
    with app.test_request_context():
        form = PledgeForm(meta={"csrf": False})
        goal, cadence = form.goal, form.checkin_cadence_days
        people = ActionForm([], meta={"csrf": False}).people_reached
    assert 'max="100000000" min="1"' in goal()  # the browser's number input knows the range
    assert 'max="10000000" min="0"' in people()
    assert goal.whole_number("500") == 500
    assert goal.whole_number("007") == 7
    assert goal.whole_number(str(goal.max)) == goal.max
    assert cadence.whole_number(str(cadence.max + 1)) is None
    assert people.whole_number("0") == 0
    assert goal.whole_number("0") is None
    for text in NOT_WHOLE_NUMBERS:
        assert goal.whole_number(text) is None, text
        assert people.whole_number(text) is None, text


PLEDGE_FORM = {
    "title": "Men for peace at home",
    "slug": "",
    "preamble": "Peace starts at home.\n\nWe act together.",
    "guidelines": "Pick what you can keep.",
    "goal": "500",
    "checkin_cadence_days": "30",
}


def session_form() -> dict:
    """A dialogue session as an organizer schedules it, ten days from now."""
    return {
        "title": "Listening first",
        "start_date": (utcnow() + timedelta(days=10)).date().isoformat(),
        "start_time": "17:00",
        "timezone": "Africa/Nairobi",
        "duration_minutes": "90",
        "place": "Nakuru",
        "online_url": "",
        "language": "en",
        "occurrences": "1",
    }


def stored_state() -> tuple:
    """What a refused form must leave as it was: every number, every row count."""
    return (
        db.session.scalar(select(func.count()).select_from(Pledge)),
        db.session.scalar(select(func.count()).select_from(Action)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
        db.session.scalar(select(func.count()).select_from(DialogueSession)),
        db.session.execute(
            select(Pledge.id, Pledge.goal, Pledge.checkin_cadence_days).order_by(Pledge.id)
        ).all(),
        db.session.execute(select(Action.id, Action.people_reached).order_by(Action.id)).all(),
    )


@pytest.mark.parametrize(
    ("form_field", "route"),
    [(key, route) for key, routes in NUMBER_FIELD_ROUTES.items() for route in routes],
    ids=lambda value: value[1] if isinstance(value, tuple) else value,
)
def test_a_number_that_is_not_plain_digits_in_range_gets_the_fields_message(
    app, client, form_field, route
):
    form_class, name = form_field
    with app.app_context():
        slug, me = setup_everything()
        pledge = db.session.scalar(select(Pledge).where(Pledge.slug == slug))
        commitment = str(pledge.commitments[0].id)
    log_in(client, ADMIN)
    token = csrf_token(client.get(f"/me/{me}").text)
    valid_action = {**action_form_data(pledge), "commitment_id": commitment, "csrf_token": token}
    assert client.post(f"/me/{me}/actions/new", data=valid_action).status_code == 302
    with app.app_context():
        action = db.session.scalar(select(Action.id))
    path = route.format(slug=slug, me=me, action=action)
    valid = (
        {**PLEDGE_FORM, "slug": slug if "{slug}" in route else "", "csrf_token": token}
        if form_class is PledgeForm
        else {**session_form(), "csrf_token": token}
        if form_class is SessionForm
        else valid_action
    )
    rule = number_fields()[form_field].kwargs  # the field's own min, max and message
    with app.test_request_context():
        message = str(escape(rule["message"]))
    with app.app_context():
        before = stored_state()
    for text in [*NOT_WHOLE_NUMBERS, str(rule["min"] - 1), str(rule["max"] + 1)]:
        response = client.post(path, data={**valid, name: text})
        assert response.status_code == 400, text
        assert message in response.text, text
        assert "Not a valid integer value" not in response.text, text
        with app.app_context():
            assert stored_state() == before, text
    # The same form with a number in range is taken: the refusals above were the number's.
    assert client.post(path, data={**valid, name: str(rule["max"])}).status_code == 302
