"""The outbox: written with what caused it, delivered after, retried, never lost."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import func, select, update

from pledges.database import utcnow
from pledges.extensions import db
from pledges.mail import queue_email
from pledges.mail.delivery import deliver_due, retry_delay
from pledges.models import MailStatus, OutboxEmail
from pledges.signing import service
from tests.factories import make_pledge, signature_input
from tests.helpers import read_outbox, sign_via_form, text_of


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send_to_a_closed_port(app, **settings) -> None:
    """SMTP delivery to a port nobody listens on: a real "connection refused"."""
    app.config.update(
        MAIL_TRANSPORT="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=free_port(),
        SMTP_SECURITY="none",
        **settings,
    )


def outbox_rows() -> list[OutboxEmail]:
    return db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()


def test_email_is_written_in_the_same_transaction_as_the_signature(app):
    with app.app_context():
        pledge = make_pledge()
        service.sign(pledge, signature_input(pledge))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
        service.sign(pledge, signature_input(pledge))
        db.session.commit()
        [row] = outbox_rows()
        assert row.status == MailStatus.PENDING


def test_file_transport_writes_an_eml_per_message(app, outbox_dir):
    with app.app_context():
        queue_email(
            "ally@example.org",
            "Hello ally",
            "confirm",
            signature=type("S", (), {"full_name": "Ali Gohar"})(),
            pledge=type("P", (), {"title": "Peace pledge"})(),
            confirm_url="http://pledges.test/confirm/x",
            manage_url="http://pledges.test/me/y",
        )
        db.session.commit()
        report = deliver_due()
        assert report.sent == 1
        [message] = read_outbox(outbox_dir)
        assert message["Subject"] == "Hello ally"
        assert message["Message-ID"]
        assert "Ali Gohar" in text_of(message)
        assert message.get_body(preferencelist=("html",)) is not None
        # Delivering again sends nothing twice.
        assert deliver_due().attempted == 0
        assert len(read_outbox(outbox_dir)) == 1


@pytest.fixture
def smtp_server():
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


class _Collect(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def test_failed_delivery_is_retried_with_backoff_then_delivered(app, smtp_server):
    controller, handler = smtp_server
    with app.app_context():
        pledge = make_pledge()
        service.sign(pledge, signature_input(pledge, email="retry@example.org"))
        db.session.commit()

        # The mail server is down: nothing is lost, the row waits for its retry.
        send_to_a_closed_port(app)
        report = deliver_due()
        assert (report.sent, report.failed) == (0, 1)
        [row] = outbox_rows()
        assert row.status == MailStatus.PENDING and row.attempts == 1
        assert "Connection" in row.last_error or "refused" in row.last_error.lower()
        assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
        assert deliver_due().attempted == 0  # not due yet

        # Time passes; the server is back.
        db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))
        db.session.commit()
        app.config["SMTP_PORT"] = controller.port
        assert deliver_due().sent == 1
        [received] = handler.messages
        assert received["To"] == "retry@example.org"
        db.session.expire_all()
        [row] = outbox_rows()
        assert row.status == MailStatus.SENT and row.attempts == 2 and row.last_error is None


def test_a_message_that_never_goes_is_kept_as_dead(app):
    with app.app_context():
        pledge = make_pledge()
        service.sign(pledge, signature_input(pledge))
        db.session.commit()
        send_to_a_closed_port(app, MAIL_MAX_ATTEMPTS=2)
        deliver_due()
        db.session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))
        db.session.commit()
        assert deliver_due().dead == 1
        [row] = outbox_rows()
        assert row.status == MailStatus.DEAD and row.attempts == 2
        assert row.body_text  # still there for an admin to resend


def test_retry_delay_doubles_up_to_six_hours():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(30) == timedelta(hours=6)


@pytest.mark.config(MAIL_DISPATCH="thread")
def test_with_thread_dispatch_the_eml_appears_within_a_second(app, client, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        sign_via_form(client, pledge, email="fast@example.org")
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and not read_outbox(outbox_dir):
        time.sleep(0.02)
    assert [m["To"] for m in read_outbox(outbox_dir)] == ["fast@example.org"]


def test_dead_letters_are_shown_to_operators_and_can_be_retried(app, runner, outbox_dir):
    with app.app_context():
        pledge = make_pledge()
        service.sign(pledge, signature_input(pledge, email="amina@example.org"))
        db.session.commit()
        send_to_a_closed_port(app, MAIL_MAX_ATTEMPTS=1)
        assert deliver_due().dead == 1
    shown = runner.invoke(args=["mail-status"])
    assert "pending: 0, sent: 0, dead: 1" in shown.output
    assert "to a…@example.org after 1 attempts" in shown.output
    assert "ConnectionRefusedError" in shown.output
    assert "amina@" not in shown.output  # the address is masked
    app.config.update(MAIL_TRANSPORT="file")
    retried = runner.invoke(args=["mail-status", "--retry-dead"])
    assert "1 dead message queued again" in retried.output
    assert "pending: 1, sent: 0, dead: 0" in retried.output
    with app.app_context():
        assert deliver_due().sent == 1
    assert [m["To"] for m in read_outbox(outbox_dir)] == ["amina@example.org"]


@pytest.mark.config(OUTBOX_RETENTION_DAYS=7)
def test_sent_mail_is_deleted_after_the_retention_period_and_the_rest_stays(app, runner):
    with app.app_context():
        pledge = make_pledge()
        for _ in range(3):
            service.sign(pledge, signature_input(pledge))
        db.session.commit()
        sent, dead, pending = outbox_rows()
        deliver_due()  # file transport: all three are sent now
        sent.status, dead.status, pending.status = (
            MailStatus.SENT,
            MailStatus.DEAD,
            MailStatus.PENDING,
        )
        db.session.commit()
    with time_machine.travel(utcnow() + timedelta(days=6)):
        assert "0 sent emails deleted" in runner.invoke(args=["purge-sent-mail"]).output
    with time_machine.travel(utcnow() + timedelta(days=8)):
        result = runner.invoke(args=["purge-sent-mail"])
    assert result.exit_code == 0, result.output
    assert "1 sent email deleted" in result.output
    with app.app_context():
        assert sorted(row.status for row in outbox_rows()) == [MailStatus.DEAD, MailStatus.PENDING]
