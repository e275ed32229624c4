"""Mail delivery under trouble: slow servers, several workers, outages, short-lived commands."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select, text, update

from pledges.database import utcnow
from pledges.extensions import db
from pledges.mail import delivery, dispatch
from pledges.mail.transports import FileTransport
from pledges.models import Dossier, DossierStatus, MailStatus, OutboxEmail, Signature
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import read_outbox
from tests.test_mail import free_port, outbox_rows


def queue_raw(*addresses: str) -> None:
    """Rows as another process (cron, another host) would have left them in the outbox."""
    for address in addresses:
        db.session.add(OutboxEmail(to_address=address, subject="Hello", body_text="Hi."))
    db.session.commit()


def wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


class SlowFileTransport(FileTransport):
    """The real file transport behind a slow link, counting what it was asked to send."""

    def __init__(self, directory: str, seconds: float, sent: list[str]) -> None:
        super().__init__(directory)
        self.seconds, self.sent = seconds, sent

    def send(self, message, name: str) -> None:
        time.sleep(self.seconds)
        super().send(message, name)
        self.sent.append(name)


def test_a_second_worker_never_resends_what_a_slow_worker_still_holds(app, monkeypatch):
    # A lease shorter than a batch takes: 100 messages over slow SMTP against 5 minutes.
    monkeypatch.setattr(delivery, "CLAIM_LEASE", timedelta(seconds=1))
    with app.app_context():
        queue_raw(*(f"ally{i}@example.org" for i in range(4)))
    sent: list[str] = []

    def worker() -> None:
        with app.app_context():
            transport = SlowFileTransport(app.config["MAIL_OUTBOX_DIR"], 0.6, sent)
            delivery.deliver_due(transport=transport)

    first = threading.Thread(target=worker)
    first.start()
    time.sleep(1.3)  # the first worker's initial lease has run out
    second = threading.Thread(target=worker)
    second.start()
    first.join()
    second.join()

    assert sorted(sent) == sorted(set(sent)), "a message was sent twice"
    with app.app_context():
        assert len(sent) == 4
        assert {row.status for row in outbox_rows()} == {MailStatus.SENT}
        assert all(row.attempts == 1 and row.claimed_until is None for row in outbox_rows())


class RefuseRecipients(Message):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}> user unknown"

    def handle_message(self, message):  # pragma: no cover - every recipient is refused
        pass


def test_mail_status_masks_addresses_inside_the_error(app, runner):
    controller = Controller(RefuseRecipients(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(
            MAIL_TRANSPORT="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=controller.port,
            SMTP_SECURITY="none",
            MAIL_MAX_ATTEMPTS=1,
        )
        with app.app_context():
            queue_raw("amina.odhiambo@example.org")
            assert delivery.deliver_due().dead == 1
            assert "amina.odhiambo@example.org" in outbox_rows()[0].last_error
    finally:
        controller.stop()
    shown = runner.invoke(args=["mail-status"])
    assert shown.exit_code == 0
    assert "user unknown" in shown.output
    assert "a…@example.org" in shown.output
    assert "amina.odhiambo" not in shown.output


def test_deliver_mail_refuses_a_negative_interval_in_one_line(app, runner):
    result = runner.invoke(args=["deliver-mail", "--loop", "--interval", "-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--interval'" in result.output
    assert "Traceback" not in result.output


def test_deliver_mail_loop_outlives_a_database_outage_and_stops_on_sigterm(app, runner, outbox_dir):
    with app.app_context():
        queue_raw("ally@example.org")
        engine = db.engine
    # The table is gone for a moment, as during a restore or a failover: a real database error.
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE outbox_emails RENAME TO outbox_emails_away"))
    finished = threading.Event()

    def operator() -> None:
        time.sleep(0.5)  # long enough for a round or two to fail
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE outbox_emails_away RENAME TO outbox_emails"))
        wait_for(lambda: read_outbox(outbox_dir), seconds=10)
        if not finished.is_set():
            os.kill(os.getpid(), signal.SIGTERM)  # as systemd or `docker stop` would

    # A SIGTERM arriving after the command has ended must not end the test run.
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    helper = threading.Thread(target=operator)
    try:
        helper.start()
        result = runner.invoke(args=["deliver-mail", "--loop", "--interval", "0.1"])
        finished.set()
        helper.join()
    finally:
        signal.signal(signal.SIGTERM, previous)

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Delivery failed (" in result.output and "retrying in" in result.output
    assert "sent 1, will retry 0, gave up 0" in result.output
    assert result.output.rstrip().endswith("Stopped.")
    assert [m["To"] for m in read_outbox(outbox_dir)] == ["ally@example.org"]


def test_export_dossier_to_an_unwritable_path_is_a_one_line_error(app, runner):
    with app.app_context():
        make_pledge(slug="peace")
    result = runner.invoke(args=["export-dossier", "peace", "-o", "/proc/x.pdf"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: Cannot write /proc/x.pdf: ")
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    with app.app_context():
        [dossier] = db.session.scalars(select(Dossier)).all()
        assert dossier.status == DossierStatus.FAILED


@pytest.mark.config(MAIL_DISPATCH="thread")
def test_thread_dispatch_delivers_mail_queued_by_other_processes(
    app, client, outbox_dir, monkeypatch
):
    monkeypatch.setattr(dispatch, "RETRY_POLL_SECONDS", 0.2)
    with app.app_context():
        queue_raw("before@example.org")  # e.g. by `pledges send-reminders` before a restart
    assert client.get("/healthz").status_code == 200
    assert wait_for(lambda: len(read_outbox(outbox_dir)) == 1)
    with app.app_context():
        queue_raw("later@example.org")  # while the web process keeps running
    assert wait_for(lambda: len(read_outbox(outbox_dir)) == 2)
    assert [m["To"] for m in read_outbox(outbox_dir)] == ["before@example.org", "later@example.org"]


class SlowServer(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)

    def handle_message(self, message):
        self.messages.append(message)


def test_send_reminders_with_thread_dispatch_delivers_before_it_exits(app, runner):
    with app.app_context():
        pledge = make_pledge()
        signature = confirmed_signature(pledge, email="ally@example.org")
        db.session.execute(
            update(Signature)
            .where(Signature.id == signature.id)
            .values(
                confirmed_at=utcnow() - timedelta(days=31),
                next_checkin_at=utcnow() - timedelta(days=1),
            )
        )
        db.session.commit()
        delivery.deliver_due()  # the confirmation mail
    # The command runs as it would on a host configured with MAIL_DISPATCH=thread.
    app.config["MAIL_DISPATCH"] = "thread"
    dispatch.init_app(app)
    handler = SlowServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(
            MAIL_TRANSPORT="smtp",
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=controller.port,
            SMTP_SECURITY="none",
        )
        result = runner.invoke(args=["send-reminders"])
        # The process would end here: whatever a daemon thread had not finished is cut off.
        assert result.exit_code == 0, result.output
        assert "1 reminder queued" in result.output
        assert [m["To"] for m in handler.messages] == ["ally@example.org"]
    finally:
        controller.stop()
    with app.app_context():
        reminder = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.subject.startswith("Check-in"))
        ).one()
        assert reminder.status == MailStatus.SENT and reminder.claimed_until is None
