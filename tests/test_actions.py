"""Following through: a confirmed signer logs, edits and deletes actions from their page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pledges.actions.service import latest_allowed_date
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import Action, OutboxEmail, Signature
from pledges.organize import service as builder
from tests.factories import make_pledge
from tests.helpers import action_form_data, count, csrf_token, log_action, signer_page

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def action_data(pledge, **overrides) -> dict:
    return action_form_data(pledge, **overrides)


def post_action(client, me: str, pledge, path: str = "/actions/new", **overrides):
    token = csrf_token(client.get(f"{me}{path}").text)
    return client.post(
        f"{me}{path}", data={**action_data(pledge, **overrides), "csrf_token": token}
    )


def actions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Action))


def test_a_confirmed_signer_logs_an_action(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    response = post_action(
        client,
        me,
        pledge,
        kind="training",
        people_reached="25",
        evidence_url="https://example.org/workshop-report",
    )
    assert response.status_code == 302
    action = db.session.scalar(select(Action))
    assert (action.kind, action.people_reached, action.visibility) == ("training", 25, "public")
    assert action.commitment_id == pledge.commitments[0].id
    assert action.pledge_id == pledge.id
    page = client.get(me).text
    assert "Talked with my brothers" in page
    assert "Training or workshop" in page and "25 people reached" in page
    assert (
        'href="https://example.org/workshop-report" rel="nofollow ugc noopener noreferrer"' in page
    )


def test_a_pending_signature_cannot_log_actions(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, confirm=False)
    assert client.get(f"{me}/actions/new").status_code == 403
    token = csrf_token(client.get(me).text)
    response = client.post(f"{me}/actions/new", data={**action_data(pledge), "csrf_token": token})
    assert response.status_code == 403
    assert actions_count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("done_on", (utcnow().date() + timedelta(days=2)).isoformat(), "cannot be in the future"),
        ("done_on", "yesterday", "Not a valid date value"),
        ("evidence_url", "file:///etc/passwd", "must be a web address starting with http"),
        ("evidence_url", "javascript:alert(1)", "must be a web address starting with http"),
        ("evidence_url", "ftp://example.org/report", "must be a web address starting with http"),
        ("evidence_url", "https://", "must be a web address starting with http"),
        ("evidence_url", "https://example.org/a b", "cannot contain spaces"),
        ("evidence_url", "https://example.org/" + "x" * 500, "longer than 500 characters"),
        ("description", "", "Describe what you did"),
        ("description", "d" * 2001, "Field cannot be longer than 2000 characters."),
        ("people_reached", "-4", "whole number from 0"),
        ("people_reached", "many", "Give a whole number from 0 to 10,000,000."),
        ("kind", "meditation", "Not a valid choice"),
    ],
)
def test_bad_actions_get_clear_errors_and_store_nothing(
    client, outbox_dir, field, value, message, app_ctx
):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    response = post_action(client, me, pledge, **{field: value})
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert actions_count() == 0


def test_today_in_the_earliest_time_zone_is_not_the_future(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    response = post_action(client, me, pledge, done_on=latest_allowed_date().isoformat())
    assert response.status_code == 302


def test_only_commitments_the_signer_chose(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    other_pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)  # chose only the required first one
    not_chosen = pledge.commitments[1]
    for commitment_id in (not_chosen.id, other_pledge.commitments[0].id):
        response = post_action(client, me, pledge, commitment_id=str(commitment_id))
        assert response.status_code == 400
        assert "Not a valid choice" in response.text
    assert actions_count() == 0

    # The database holds the rule too.
    signature = db.session.scalar(select(Signature))
    db.session.add(
        Action(
            pledge_id=pledge.id,
            signature_id=signature.id,
            commitment_id=not_chosen.id,
            kind="other",
            done_on=utcnow().date(),
            description="x",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_edit_and_delete_own_actions_only(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    mine = signer_page(client, outbox_dir, pledge, email="mine@example.org")
    theirs = signer_page(client, outbox_dir, pledge, email="theirs@example.org")
    post_action(client, mine, pledge, description="My first action")
    action_id = db.session.scalar(select(Action.id))

    # Another signer's link cannot reach my action.
    assert client.get(f"{theirs}/actions/{action_id}/edit").status_code == 404
    token = csrf_token(client.get(theirs).text)
    stolen = client.post(f"{theirs}/actions/{action_id}/delete", data={"csrf_token": token})
    assert stolen.status_code == 404
    assert actions_count() == 1

    edit_page = client.get(f"{mine}/actions/{action_id}/edit").text
    assert "My first action" in edit_page
    response = post_action(
        client,
        mine,
        pledge,
        path=f"/actions/{action_id}/edit",
        description="Reworded",
        visibility="private",
    )
    assert response.status_code == 302
    db.session.expire_all()
    action = db.session.get(Action, action_id)
    assert (action.description, action.visibility) == ("Reworded", "private")

    token = csrf_token(client.get(mine).text)
    no_token = client.post(f"{mine}/actions/{action_id}/delete", data={})
    assert no_token.status_code == 400
    assert actions_count() == 1
    deleted = client.post(f"{mine}/actions/{action_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert actions_count() == 0


def test_download_everything_held_about_me(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(
        client, outbox_dir, pledge, name="Ali Gohar", email="ali@example.org", country="PK"
    )
    post_action(client, me, pledge, description="Restorative justice circle")
    response = client.get(f"{me}/data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.data)
    assert data["signature"]["full_name"] == "Ali Gohar"
    assert data["signature"]["email"] == "ali@example.org"
    assert data["signature"]["country"] == "PK"
    assert [c["text"] for c in data["commitments"]] == [pledge.commitments[0].text]
    assert [a["description"] for a in data["actions"]] == ["Restorative justice circle"]
    # Sent: only the kind of email and a masked address are kept.
    assert [(m["email"], m["to"], m["subject"]) for m in data["emails"]] == [
        ("confirm", "a…@example.org", "")
    ]
    assert client.get("/me/not-a-token/data.json").status_code == 404


def test_withdrawing_deletes_actions_and_mail_about_me(client, outbox_dir, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge, email="gone@example.org")
    other = signer_page(client, outbox_dir, pledge, email="stays@example.org")
    post_action(client, me, pledge)
    post_action(client, other, pledge)
    assert actions_count() == 2
    token = csrf_token(client.get(me).text)
    client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})

    assert actions_count() == 1
    addresses = db.session.scalars(select(OutboxEmail.to_address)).all()
    assert addresses == ["s…@example.org"]  # sent, so masked
    everything = json.dumps(json.loads(client.get(f"{me}/data.json").data))
    assert "gone@example.org" not in everything
    assert json.loads(client.get(f"{me}/data.json").data)["actions"] == []


@pytest.mark.parametrize("link", ["http://[::1", "https://[", "http://a]b"])
def test_a_malformed_evidence_link_is_refused_clearly(client, outbox_dir, link, app_ctx):
    pledge = make_pledge()
    me = signer_page(client, outbox_dir, pledge)
    token = csrf_token(client.get(f"{me}/actions/new").text)
    response = client.post(
        f"{me}/actions/new",
        data={**action_form_data(pledge, evidence_url=link), "csrf_token": token},
    )
    assert response.status_code == 400
    assert "must be a web address starting with http" in response.text
    assert 'aria-invalid="true"' in response.text
    assert count(Action) == 0


def test_editing_an_action_keeps_a_commitment_since_dropped(app, client, outbox_dir):
    with time_machine.travel(START, tick=False), app.app_context():
        pledge = make_pledge()
        first, second = pledge.commitments[0], pledge.commitments[1]
        second_words = second.text
        me = signer_page(client, outbox_dir, pledge, commitments=[str(first.id), str(second.id)])
        action = log_action(client, me, pledge, commitment_id=str(second.id))
        older = log_action(client, me, pledge, commitment_id=str(first.id))
        # The organizers retire and reword it; the signer drops it at renewal.
        builder.reword_commitment(second, "Some other words now.")
        builder.retire_commitment(second)
        db.session.commit()
        token = csrf_token(client.get(me).text)
        client.post(
            f"{me}/commitments", data={"cm-csrf_token": token, "cm-commitments": [first.id]}
        )
        action_id, older_id, second_id = action.id, older.id, second.id
        form = action_form_data(pledge)

    # Its cycle has ended: the signer no longer holds it.
    with time_machine.travel(START + timedelta(days=31), tick=False), app.app_context():
        edit = f"{me}/actions/{action_id}/edit"
        page = client.get(edit).text
        assert f'<option selected value="{second_id}">{second_words}</option>' in page
        assert "Some other words now." not in page
        response = client.post(
            edit,
            data={
                **form,
                "commitment_id": str(second_id),
                "description": "Talked with my brothers, fixed a typo.",
                "csrf_token": csrf_token(page),
            },
        )
        assert response.status_code == 302
        action = db.session.get(Action, action_id)
        assert action.commitment_id == second_id
        assert action.description == "Talked with my brothers, fixed a typo."

        # Another action is not moved to the dropped commitment, nor a new one logged on it.
        for path in (f"{me}/actions/{older_id}/edit", f"{me}/actions/new"):
            page = client.get(path).text
            assert second_words not in page
            response = client.post(
                path,
                data={
                    **form,
                    "commitment_id": str(second_id),
                    "csrf_token": csrf_token(page),
                },
            )
            assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(Action, older_id).commitment_id != second_id
        assert count(Action) == 2


@pytest.mark.config(ACTIONS_PER_CYCLE=3)
def test_a_cycle_holds_at_most_actions_per_cycle_and_says_until_when(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        for _ in range(3):
            assert post_action(client, me, pledge).status_code == 302
        response = post_action(client, me, pledge)
        assert response.status_code == 400
        assert "You have logged 3 actions this cycle, the most one cycle holds." in response.text
        assert "You can log more from" in response.text
        assert actions_count() == 3
        # Editing what is there is still allowed: the cap is on new rows.
        action_id = db.session.scalar(select(Action.id).limit(1))
        edited = post_action(client, me, pledge, path=f"/actions/{action_id}/edit")
        assert edited.status_code == 302


@pytest.mark.config(ACTION_LIMIT_PER_TOKEN="2 per hour")
def test_action_posts_are_rate_limited_per_private_link(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        other = signer_page(client, outbox_dir, pledge, email="other@example.org")
        me = signer_page(client, outbox_dir, pledge)
        assert post_action(client, me, pledge).status_code == 302
        assert post_action(client, me, pledge).status_code == 302
        assert post_action(client, me, pledge).status_code == 429
        assert client.get(f"{me}/actions/new").status_code == 200  # the form still opens
        # Another signer, from the same address, is not held back by the first one.
        assert post_action(client, other, pledge).status_code == 302


@pytest.mark.parametrize(
    "link, message",
    [
        ("https://example.org/\u202egpj.exe", "text-direction controls"),
        ("https://example.org/\u2066report\u2069", "text-direction controls"),
        ("https://example.org/a\x00b", "invisible control characters"),
    ],
)
def test_an_evidence_link_that_disguises_itself_is_refused(app, client, outbox_dir, link, message):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        response = post_action(client, me, pledge, evidence_url=link)
        assert response.status_code == 400
        assert message in response.text
        assert actions_count() == 0
