"""The races the code is built to survive, run with real threads and processes.

Each test lines the contenders up with a barrier or an event at the point where they would
collide (all have read, none has written), instead of hoping a sleep gets the timing right,
so that without the guard it names the test fails every time, not now and then. They run on
SQLite and, when it answers, PostgreSQL. A contender that hangs fails the test through the
barrier's timeout or the join's.

Batch loops are also checked to end when a row cannot be claimed: a database trigger makes
the claim's UPDATE change nothing, as a stored time that does not compare equal to the one
read back once did.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from flask import Flask
from sqlalchemy import func, select, text

from pledges import create_app
from pledges.checkins import service as checkins_service
from pledges.domain import tallies, transitions
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.mail import delivery
from pledges.mail.dispatch import EXTENSION_KEY, deliver_before_exit
from pledges.me import service as me_service
from pledges.models import MailStatus, OutboxEmail, Pledge, Signature, SignatureStatus
from pledges.moderation import service as moderation_service
from pledges.signing import service as signing_service
from tests.factories import confirmed_signature, make_pledge, signature_input

# Long enough for a loaded 2-core machine, short enough that a hang is a quick failure.
WAIT = 60


def run_together(app: Flask, *jobs: Callable[[], object]) -> list[object]:
    """Run each job in a thread of its own, each in its own app context (so its own
    database session and connection); return their results, or raise the first error."""
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int, job: Callable[[], object]) -> None:
        try:
            with app.app_context():
                results[index] = job()
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a contender hung"
    if errors:
        raise errors[0]
    return results


def wait_once_after(monkeypatch, module, name: str, barrier) -> None:
    """Make each thread (or process) stop at ``barrier`` right after its first call of
    ``module.name``: the point where every contender has read and none has written."""
    original = getattr(module, name)
    passed = threading.local()

    def gated(*args, **kwargs):
        result = original(*args, **kwargs)
        if not getattr(passed, "done", False):
            passed.done = True
            barrier.wait()
        return result

    monkeypatch.setattr(module, name, gated)


def wait_once_before(monkeypatch, module, name: str, barrier) -> None:
    """Make each thread stop at ``barrier`` right before its first call of ``module.name``:
    for a write that reads nothing first, the point where every contender is about to write."""
    original = getattr(module, name)
    passed = threading.local()

    def gated(*args, **kwargs):
        if not getattr(passed, "done", False):
            passed.done = True
            barrier.wait()
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, gated)


def queue_messages(count: int) -> list[int]:
    """Queue ``count`` emails (confirmation requests, one per new signer); their row ids."""
    pledge = make_pledge()
    for n in range(count):
        signing_service.sign(pledge, signature_input(pledge, email=f"person{n}@example.org"))
    db.session.commit()
    return list(db.session.scalars(select(OutboxEmail.id).order_by(OutboxEmail.id)))


def counters_match_a_recount(pledge_id: int) -> None:
    kept = tallies.tally_for(pledge_id)
    assert kept == tallies.recount(pledge_id)
    db.session.rollback()  # the recount was only to compare


# Confirming.


def test_simultaneous_confirmations_count_once(app):
    """Guard: confirm()'s UPDATE … WHERE status = 'pending' (signing/service.py)."""
    contenders = 4
    with app.app_context():
        pledge = make_pledge()
        signing_service.sign(pledge, signature_input(pledge, email="twice@example.org"))
        db.session.commit()
        signature_id = db.session.scalar(select(Signature.id))
        pledge_id = pledge.id
    ready = threading.Barrier(contenders, timeout=WAIT)

    def click_the_link():
        signature = db.session.get(Signature, signature_id)
        assert signature.status == SignatureStatus.PENDING and signature.pledge
        ready.wait()  # every contender has read a pending signature
        confirmed = signing_service.confirm(signature)
        db.session.commit()
        return confirmed

    outcomes = run_together(app, *[click_the_link] * contenders)
    assert sorted(outcomes) == [False] * (contenders - 1) + [True]
    with app.app_context():
        assert tallies.tally_for(pledge_id).total == 1
        counters_match_a_recount(pledge_id)


# Signing.


def test_simultaneous_signatures_with_one_email_store_one(app, monkeypatch):
    """Guard: the unique (pledge, normalized email) constraint, the INSERT … ON CONFLICT DO
    NOTHING that meets it, and sign()'s fallback to the signature stored meanwhile
    (signing/service.py)."""
    contenders = 3
    with app.app_context():
        pledge = make_pledge()
        pledge_id = pledge.id
    ready = threading.Barrier(contenders, timeout=WAIT)
    # All of them have checked the form and insert at once; the losers wait for the winner.
    wait_once_before(monkeypatch, signing_service, "_insert_signature", ready)

    def sign(n: int):
        def job():
            pledge = db.session.get(Pledge, pledge_id)
            data = signature_input(pledge, email="Same@Example.org", name=f"Try {n}")
            signing_service.sign(pledge, data)
            db.session.commit()

        return job

    run_together(app, *[sign(n) for n in range(contenders)])
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 1
        # One confirmation, and the others were sent their links again: nobody saw an error.
        templates = db.session.scalars(select(OutboxEmail.template).order_by(OutboxEmail.template))
        assert list(templates) == ["already_signed"] * (contenders - 1) + ["confirm"]
        signature_id = db.session.scalar(select(Signature.id))
        linked = db.session.scalars(select(OutboxEmail.signature_id).distinct())
        assert list(linked) == [signature_id]


# Reminders, from separate processes.


def _send_reminders_in_a_process(config: dict, barrier, results) -> None:
    """One `pledges send-reminders` run, in a process of its own (spawned: a fresh
    interpreter, its own connections), stopping at ``barrier`` once it has read the due
    signers and before it claims any. Puts the command's output, or its error, on
    ``results``."""
    try:
        app = create_app(config)
        original = checkins_service._remind
        state = {"waited": False}

        def gated(signature, now):
            if not state["waited"]:
                state["waited"] = True
                barrier.wait()
            return original(signature, now)

        checkins_service._remind = gated
        result = app.test_cli_runner().invoke(args=["send-reminders"])
        with app.app_context():
            db.engine.dispose()
        results.put(
            f"error: {result.exception!r} {result.output}" if result.exception else result.output
        )
    except BaseException as error:  # noqa: BLE001 - reported to the test
        results.put(f"error: {error!r}")


def test_simultaneous_send_reminders_processes_send_each_reminder_once(app, app_config):
    """Guard: _remind()'s claim, UPDATE … WHERE next_checkin_at = <the value read>
    (checkins/service.py)."""
    signers = 12
    with app.app_context():
        pledge = make_pledge()
        for _ in range(signers):
            confirmed_signature(pledge)
        # Confirmed a cycle and a day ago: every one of them is due a reminder now.
        back = timedelta(days=pledge.checkin_cadence_days + 1)
        for signature in db.session.scalars(select(Signature)):
            signature.confirmed_at -= back
            signature.next_checkin_at -= back
        db.session.commit()
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2, timeout=WAIT), spawn.Queue()
    runs = [
        spawn.Process(target=_send_reminders_in_a_process, args=(app_config, barrier, results))
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    outputs = [results.get(timeout=WAIT * 2) for _ in runs]
    for run in runs:
        run.join(WAIT)
    assert not any(output.startswith("error") for output in outputs), outputs
    queued = sorted(int(output.split()[0]) for output in outputs)
    assert sum(queued) == signers, outputs
    with app.app_context():
        per_signer = db.session.execute(
            select(OutboxEmail.signature_id, func.count())
            .where(OutboxEmail.subject.startswith("Check-in"))
            .group_by(OutboxEmail.signature_id)
        ).all()
        assert len(per_signer) == signers
        assert {count for _, count in per_signer} == {1}


# Mail delivery.


class _Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []
        self.lock = threading.Lock()

    def handle_message(self, message):
        with self.lock:
            self.messages.append(message)


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_two_deliverers_send_each_message_once(app, smtp_inbox, monkeypatch):
    """Guard: _claim_batch()'s one UPDATE … WHERE id IN (<due> FOR UPDATE SKIP LOCKED)
    AND <still claimable> (mail/delivery.py)."""
    port, inbox = smtp_inbox
    app.config.update(
        MAIL_TRANSPORT="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none"
    )
    messages = 8
    with app.app_context():
        queue_messages(messages)
    ready = threading.Barrier(2, timeout=WAIT)
    # Both are ready to send before either claims a batch: their claims run together.
    wait_once_after(monkeypatch, delivery, "transport_for", ready)
    reports = run_together(app, delivery.deliver_due, delivery.deliver_due)
    assert sum(report.sent for report in reports) == messages
    received = sorted(message["To"] for message in inbox.messages)
    assert received == sorted(f"person{n}@example.org" for n in range(messages))
    with app.app_context():
        statuses = db.session.scalars(select(OutboxEmail.status)).all()
        assert set(statuses) == {MailStatus.SENT}


# Moderation.


def test_a_bulk_hide_racing_confirmations_leaves_counters_equal_to_a_recount(app, monkeypatch):
    """Guard: the bulk hide moves and uncounts only the rows its own UPDATE … WHERE id IN
    <listed> AND status = 'confirmed' … RETURNING names (moderation/service.py): not the
    signers confirmed after it listed them, nor a listed one withdrawn meanwhile."""
    with app.app_context():
        pledge = make_pledge()
        pledge_id = pledge.id
        early = [
            confirmed_signature(pledge, email=f"early{n}@flood.example", country="UG").id
            for n in range(5)
        ]
        for n in range(5):
            signing_service.sign(pledge, signature_input(pledge, email=f"late{n}@flood.example"))
        confirmed_signature(pledge, email="keeper@other.example")
        db.session.commit()
        pending = db.session.scalars(
            select(Signature.id).where(Signature.status == SignatureStatus.PENDING)
        ).all()
    listed, confirmed = threading.Event(), threading.Event()
    real_chunks = transitions.chunks

    def chunks_after_the_confirmations(ids, *args):
        listed.set()  # the hide has listed what it will hide
        assert confirmed.wait(WAIT)
        return real_chunks(ids, *args)

    monkeypatch.setattr(transitions, "chunks", chunks_after_the_confirmations)

    def bulk_hide():
        pledge = db.session.get(Pledge, pledge_id)
        hidden = moderation_service.bulk_invalidate(
            pledge, email_domain="flood.example", reason="A flood from one domain"
        )
        db.session.commit()
        return hidden

    def confirm_the_late_ones_and_withdraw_an_early_one():
        assert listed.wait(WAIT)
        for signature_id in pending:
            assert signing_service.confirm(db.session.get(Signature, signature_id))
            db.session.commit()
        me_service.withdraw(db.session.get(Signature, early[0]))
        db.session.commit()
        confirmed.set()

    hidden, _ = run_together(app, bulk_hide, confirm_the_late_ones_and_withdraw_an_early_one)
    assert hidden == 4
    with app.app_context():
        counters_match_a_recount(pledge_id)
        assert tallies.tally_for(pledge_id).total == 6


# Batch loops end on rows they cannot claim.


@contextmanager
def unclaimable(table: str, row_id: int) -> Iterator[None]:
    """Every UPDATE of this one row silently changes nothing: a claim that never lands."""
    dialect = db.engine.dialect.name
    # The trigger's DDL waits for every open transaction on the table: end this session's.
    db.session.rollback()
    with db.engine.begin() as conn:
        if dialect == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse_claim BEFORE UPDATE ON {table} "
                    f"WHEN OLD.id = {row_id:d} BEGIN SELECT RAISE(IGNORE); END"
                )
            )
        else:
            conn.execute(
                text(
                    "CREATE FUNCTION refuse_claim() RETURNS trigger LANGUAGE plpgsql "
                    "AS 'BEGIN RETURN NULL; END'"
                )
            )
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse_claim BEFORE UPDATE ON {table} FOR EACH ROW "
                    f"WHEN (OLD.id = {row_id:d}) EXECUTE FUNCTION refuse_claim()"
                )
            )
    try:
        yield
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            if dialect == "sqlite":
                conn.execute(text("DROP TRIGGER refuse_claim"))
            else:
                conn.execute(text(f"DROP TRIGGER refuse_claim ON {table}"))
                conn.execute(text("DROP FUNCTION refuse_claim()"))


def finishes(app: Flask, loop: Callable[[], object], seconds: float = 30) -> object:
    """Run ``loop`` in a thread; it must return within ``seconds`` (a daemon thread, so a
    loop that spins for ever does not also hang the test run)."""
    outcome: dict = {}

    def run():
        try:
            with app.app_context():
                outcome["result"] = loop()
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the loop never ended"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def test_send_reminders_ends_when_it_cannot_claim_a_due_signer(app):
    """Guard: send_due_reminders walks the due signers once (checkins/service.py)."""
    with app.app_context():
        pledge = make_pledge()
        stuck, other = confirmed_signature(pledge), confirmed_signature(pledge)
        later = utcnow() + timedelta(days=pledge.checkin_cadence_days + 1)
        with unclaimable("signatures", stuck.id):
            sent = finishes(app, lambda: checkins_service.send_due_reminders(later))
        assert sent == 1  # the other signer, whose claim landed
        reminded = db.session.scalars(
            select(OutboxEmail.signature_id).where(OutboxEmail.subject.startswith("Check-in"))
        ).all()
        assert reminded == [other.id]


@pytest.mark.config(MAIL_DISPATCH="thread")
def test_mail_delivery_loops_end_when_they_cannot_claim_a_message(app):
    """Guard: a delivery round counts only the messages it claimed (mail/delivery.py), so
    the loops that repeat rounds while there is work (mail/dispatch.py) stop."""
    # Its own thread would deliver the messages before the test makes one unclaimable.
    app.extensions[EXTENSION_KEY].stop()
    with app.app_context():
        stuck, _ = queue_messages(2)
        with unclaimable("outbox_emails", stuck):
            report = finishes(app, deliver_before_exit)
        assert report.sent == 1
        assert db.session.get(OutboxEmail, stuck).status == MailStatus.PENDING


def test_a_withdrawal_racing_a_moderators_hide_takes_the_signer_out_of_the_counts_once(
    app, monkeypatch
):
    with app.app_context():
        pledge = make_pledge()
        racer = confirmed_signature(pledge, email="racer@example.org")
        confirmed_signature(pledge, email="stays@example.org")
        pledge_id, racer_id = pledge.id, racer.id
    read, hidden = threading.Event(), threading.Event()
    real_claim = transitions._claim_status

    def claim_after_the_hide(*args):
        read.set()  # the withdrawal has read the status it will change: confirmed
        assert hidden.wait(WAIT)
        return real_claim(*args)

    monkeypatch.setattr(transitions, "_claim_status", claim_after_the_hide)

    def withdraw():
        me_service.withdraw(db.session.get(Signature, racer_id))
        db.session.commit()

    def hide():
        assert read.wait(WAIT)
        moderation_service.hide(db.session.get(Signature, racer_id), "A moderator got there first")
        db.session.commit()
        hidden.set()

    run_together(app, withdraw, hide)
    with app.app_context():
        assert db.session.get(Signature, racer_id).status == SignatureStatus.WITHDRAWN
        counters_match_a_recount(pledge_id)
        assert tallies.tally_for(pledge_id).total == 1
