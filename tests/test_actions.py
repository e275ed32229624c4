"""Following through: a confirmed signer logs, edits and deletes actions from their page."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pledges.actions.service import latest_allowed_date
from pledges.database import utcnow
from pledges.extensions import db
from pledges.models import Action, OutboxEmail, Signature
from tests.factories import make_pledge
from tests.helpers import action_form_data, csrf_token, signer_page


def action_data(pledge, **overrides) -> dict:
    return action_form_data(pledge, **overrides)


def post_action(client, me: str, pledge, path: str = "/actions/new", **overrides):
    token = csrf_token(client.get(f"{me}{path}").text)
    return client.post(
        f"{me}{path}", data={**action_data(pledge, **overrides), "csrf_token": token}
    )


def actions_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Action))


def test_a_confirmed_signer_logs_an_action(app, client, outbox_dir):
    with app.app_context():
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
            'href="https://example.org/workshop-report" rel="nofollow ugc noopener noreferrer"'
            in page
        )


def test_a_pending_signature_cannot_log_actions(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge, confirm=False)
        assert client.get(f"{me}/actions/new").status_code == 403
        token = csrf_token(client.get(me).text)
        response = client.post(
            f"{me}/actions/new", data={**action_data(pledge), "csrf_token": token}
        )
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
        ("people_reached", "many", "Not a valid integer value"),
        ("kind", "meditation", "Not a valid choice"),
    ],
)
def test_bad_actions_get_clear_errors_and_store_nothing(
    app, client, outbox_dir, field, value, message
):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        response = post_action(client, me, pledge, **{field: value})
        assert response.status_code == 400
        assert message in response.text
        assert 'aria-invalid="true"' in response.text
        assert actions_count() == 0


def test_today_in_the_earliest_time_zone_is_not_the_future(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        me = signer_page(client, outbox_dir, pledge)
        response = post_action(client, me, pledge, done_on=latest_allowed_date().isoformat())
        assert response.status_code == 302


def test_only_commitments_the_signer_chose(app, client, outbox_dir):
    with app.app_context():
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


def test_edit_and_delete_own_actions_only(app, client, outbox_dir):
    with app.app_context():
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


def test_download_everything_held_about_me(app, client, outbox_dir):
    with app.app_context():
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
        assert [m["to"] for m in data["emails"]] == ["ali@example.org"]
        assert client.get("/me/not-a-token/data.json").status_code == 404


def test_withdrawing_deletes_actions_and_mail_about_me(app, client, outbox_dir):
    with app.app_context():
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
        assert addresses == ["stays@example.org"]
        everything = json.dumps(json.loads(client.get(f"{me}/data.json").data))
        assert "gone@example.org" not in everything
        assert json.loads(client.get(f"{me}/data.json").data)["actions"] == []
