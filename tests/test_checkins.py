"""Check-in cycles: reminders at each cycle's end, never twice, pausable; renewing."""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import select

from pledges.checkins.service import send_due_reminders
from pledges.extensions import db
from pledges.models import Pledge, Signature
from tests.factories import make_pledge
from tests.helpers import (
    confirm_via_link,
    csrf_token,
    deliver_and_read,
    links_in,
    sign_via_form,
    text_of,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REMINDER_LINK = re.compile(r"http://pledges\.test(/me/[\w-]+)/reminders")


@pytest.fixture
def at(app):
    """``with at(days, hours):`` a moment after START, in a fresh app context, as a new
    visit would be (an app context kept across days would keep a stale CSRF token)."""

    @contextmanager
    def moment(days: float, hours: float = 0):
        with time_machine.travel(START + timedelta(days=days, hours=hours), tick=False):
            with app.app_context():
                yield

    return moment


@pytest.fixture
def signer(client, outbox_dir, at):
    """A signer of a 30-day pledge confirmed at START: (the commitments, their page)."""
    with at(0):
        pledge = make_pledge()
        sign_via_form(
            client,
            pledge,
            email="ally@example.org",
            commitments=[str(pledge.commitments[0].id), str(pledge.commitments[1].id)],
        )
        links = links_in(deliver_and_read(outbox_dir)[-1])
        confirm_via_link(client, links["confirm"])
        commitments = [SimpleNamespace(id=c.id, text=c.text) for c in pledge.commitments]
    return commitments, links["me"]


def reminders_sent(outbox_dir) -> list:
    return [m for m in deliver_and_read(outbox_dir) if m["Subject"].startswith("Check-in")]


def test_a_reminder_when_each_cycle_ends_and_never_twice(client, outbox_dir, signer, at, app_ctx):
    commitments, me = signer
    with at(29, 23):
        assert send_due_reminders() == 0
    with at(30, 1):
        assert send_due_reminders() == 1
        assert send_due_reminders() == 0  # running it twice sends nothing twice
    [reminder] = reminders_sent(outbox_dir)
    assert "cycle 1" in reminder["Subject"]
    body = text_of(reminder)
    assert commitments[0].text in body and commitments[1].text in body
    assert commitments[2].text not in body
    assert "/actions/new" in body
    with at(59):
        assert send_due_reminders() == 0
    with at(60, 1):
        assert send_due_reminders() == 1
    assert "cycle 2" in reminders_sent(outbox_dir)[-1]["Subject"]


def test_missed_cycles_give_one_reminder_for_the_latest(outbox_dir, signer, at, app_ctx):
    with at(95):  # the command did not run for three cycles
        assert send_due_reminders() == 1
        assert send_due_reminders() == 0
    assert "cycle 3" in reminders_sent(outbox_dir)[-1]["Subject"]
    with at(119):
        assert send_due_reminders() == 0
    with at(120, 1):
        assert send_due_reminders() == 1


def test_a_late_reminder_counts_only_the_actions_of_the_cycle_it_is_about(
    app, client, outbox_dir, signer, at
):
    commitments, me = signer

    def log(description: str) -> None:
        token = csrf_token(client.get(f"{me}/actions/new").text)
        data = {
            "csrf_token": token,
            "commitment_id": str(commitments[0].id),
            "kind": "mentoring",
            "done_on": "2026-03-02",
            "description": description,
            "visibility": "private",
        }
        assert client.post(f"{me}/actions/new", data=data).status_code == 302

    with app.app_context():
        with at(10):
            log("In the first cycle.")
        with at(31):  # the reminder for cycle 1 has not gone out yet
            log("In the second cycle.")
        with at(31, 2):
            assert send_due_reminders() == 1
        body = text_of(reminders_sent(outbox_dir)[-1])
        assert "You logged 1 action this cycle." in body


def test_reminder_links_open_the_private_page_until_the_next_reminder(
    client, outbox_dir, signer, at, app_ctx
):
    commitments, me = signer
    with at(31):
        send_due_reminders()
    first = REMINDER_LINK.search(text_of(reminders_sent(outbox_dir)[-1])).group(1)
    with at(32):
        assert client.get(first).status_code == 200
        assert client.get(f"{first}/actions/new").status_code == 200
    with at(61):
        send_due_reminders()
    second = REMINDER_LINK.search(text_of(reminders_sent(outbox_dir)[-1])).group(1)
    with at(62):
        assert client.get(second).status_code == 200
        assert client.get(first).status_code == 404  # replaced by the newer reminder
        assert client.get(me).status_code == 200  # the signing link still works


def test_pause_stop_and_resume_from_the_email(client, outbox_dir, signer, at, app_ctx):
    commitments, me = signer
    with at(31):
        send_due_reminders()
    page = REMINDER_LINK.search(text_of(reminders_sent(outbox_dir)[-1])).group(1)
    with at(32):
        token = csrf_token(client.get(f"{page}/reminders").text)
        response = client.post(
            f"{page}/reminders", data={"csrf_token": token, "reminders": "paused"}
        )
        assert response.status_code == 302
        assert "Reminders are paused" in client.get(f"{page}/reminders").text
    with at(91):
        assert send_due_reminders() == 0
    with at(100):  # in cycle 4; resuming sends nothing for the cycles missed
        token = csrf_token(client.get(f"{page}/reminders").text)
        client.post(f"{page}/reminders", data={"csrf_token": token, "reminders": "on"})
        assert send_due_reminders() == 0
    with at(119):
        assert send_due_reminders() == 0
    with at(120, 1):
        assert send_due_reminders() == 1
    assert "cycle 4" in reminders_sent(outbox_dir)[-1]["Subject"]
    page = REMINDER_LINK.search(text_of(reminders_sent(outbox_dir)[-1])).group(1)
    with at(121):
        token = csrf_token(client.get(f"{page}/reminders").text)
        client.post(f"{page}/reminders", data={"csrf_token": token, "reminders": "stopped"})
    with at(400):
        assert send_due_reminders() == 0
    with at(401):
        token = csrf_token(client.get(f"{page}/reminders").text)
        bad = client.post(f"{page}/reminders", data={"csrf_token": token, "reminders": "x"})
        assert bad.status_code == 400
        no_csrf = client.post(f"{page}/reminders", data={"reminders": "on"})
        assert no_csrf.status_code == 400
        assert db.session.scalar(select(Signature.reminders)) == "stopped"


def test_withdrawn_and_pending_signers_get_no_reminders(client, outbox_dir, signer, at, app_ctx):
    commitments, me = signer
    with at(1):
        pledge = db.session.scalar(select(Pledge))
        sign_via_form(client, pledge, email="pending@example.org")  # never confirms
        token = csrf_token(client.get(me).text)
        client.post(f"{me}/withdraw", data={"wd-csrf_token": token, "wd-understood": "y"})
    with at(200):
        assert send_due_reminders() == 0


def renew(client, me, ids):
    token = csrf_token(client.get(me).text)
    return client.post(
        f"{me}/commitments", data={"cm-csrf_token": token, "cm-commitments": [str(i) for i in ids]}
    )


def test_taking_a_commitment_off_holds_until_the_cycle_ends(
    client, outbox_dir, signer, at, app_ctx
):
    commitments, me = signer
    required, optional, extra = commitments
    with at(10):
        response = renew(client, me, [required.id, extra.id])
        assert response.status_code == 302
        signature = db.session.scalar(select(Signature))
        # Taking on more counts at once; taking off waits for the cycle's end.
        assert signature.active_commitment_ids() == {required.id, optional.id, extra.id}
        page = client.get(me).text
        assert "taken off: ends" in page and "renewed for cycle 2" in page
        token = csrf_token(client.get(f"{me}/actions/new").text)
        still = client.post(
            f"{me}/actions/new",
            data={
                "csrf_token": token,
                "commitment_id": str(optional.id),
                "kind": "mentoring",
                "done_on": "2026-03-11",
                "description": "Mentored a young facilitator.",
                "visibility": "private",
            },
        )
        assert still.status_code == 302
    with at(31):
        db.session.expire_all()
        signature = db.session.scalar(select(Signature))
        assert signature.active_commitment_ids() == {required.id, extra.id}
        send_due_reminders()
        body = text_of(reminders_sent(outbox_dir)[-1])
        assert optional.text not in body and extra.text in body
        token = csrf_token(client.get(f"{me}/actions/new").text)
        refused = client.post(
            f"{me}/actions/new",
            data={
                "csrf_token": token,
                "commitment_id": str(optional.id),
                "kind": "mentoring",
                "done_on": "2026-04-01",
                "description": "Too late for this one.",
                "visibility": "private",
            },
        )
        assert refused.status_code == 400
        # The action logged while it held is kept.
        assert len(signature.actions) == 1
        # The signer's data download still holds it, with when it ended.
        data = json.loads(client.get(f"{me}/data.json").data)
        assert [c["text"] for c in data["commitments"]] == [required.text, extra.text]
        (taken_off,) = data["commitments_taken_off"]
        assert taken_off["text"] == optional.text and taken_off["ends_at"]


def test_required_commitments_cannot_be_taken_off(app, client, outbox_dir, signer, at):
    commitments, me = signer
    required, optional, _ = commitments
    with app.app_context(), at(5):
        response = renew(client, me, [optional.id])
        assert response.status_code == 400
        assert "required" in response.text
        signature = db.session.scalar(select(Signature))
        assert signature.active_commitment_ids() == {required.id, optional.id}
        assert signature.renewed_for_cycle is None


UNSUBSCRIBE_LINK = re.compile(r"<http://pledges\.test(/reminders/unsubscribe/[\w.-]+)>")


def test_one_click_unsubscribe_stops_reminders_and_opening_the_link_does_not(
    app, outbox_dir, signer, at, app_ctx
):
    with at(31):
        assert send_due_reminders() == 1
    reminder = reminders_sent(outbox_dir)[-1]
    link = UNSUBSCRIBE_LINK.fullmatch("".join(reminder["List-Unsubscribe"].split())).group(1)
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    stranger = app.test_client()  # a mail client: no session, no CSRF token
    with at(32):
        page = stranger.get(link)  # a link scanner, or a person about to press the button
        assert page.status_code == 200
        assert "Stop reminders" in page.text
    with at(61):
        assert send_due_reminders() == 1  # opening the page stopped nothing
    with at(62):
        done = stranger.post(link, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200
        assert "You get no check-in reminders for this pledge." in done.text
        assert stranger.post(link).status_code == 200  # again: harmless
    with at(200):
        assert send_due_reminders() == 0


@pytest.mark.parametrize("token", ["1", "MQ.forged", "x" * 300])
def test_a_forged_unsubscribe_link_is_not_found(client, token, app_ctx):
    assert client.post(f"/reminders/unsubscribe/{token}").status_code == 404
    assert client.get(f"/reminders/unsubscribe/{token}").status_code == 404
