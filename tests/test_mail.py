"""The outbox: written with what caused it, delivered after, retried, never lost; and
delivery under trouble: slow servers, several workers, outages, short-lived commands."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.handlers import Message
from sqlalchemy import func, select, text, update

from pledges.checkins.service import send_due_reminders
from pledges.domain.signers import normalize_email
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.mail import delivery, dispatch, outbox, queue_email
from pledges.mail.delivery import deliver_due, retry_delay
from pledges.mail.outbox import erase_mail
from pledges.mail.sealing import FERNET_PREFIX, unseal
from pledges.mail.transports import FileTransport
from pledges.models import MailStatus, OutboxEmail, Reminders, Signature
from pledges.signing import service
from tests.factories import confirmed_signature, make_pledge, signature_input
from tests.helpers import (
    Inbox,
    free_port,
    outbox_rows,
    read_outbox,
    send_mail_through,
    sign_via_form,
    smtp_sink,
    text_of,
)


def send_to_a_closed_port(app, **settings) -> None:
    """SMTP delivery to a port nobody listens on: a real "connection refused"."""
    send_mail_through(app, free_port(), **settings)


def test_email_is_written_in_the_same_transaction_as_the_signature(app_ctx):
    pledge = make_pledge()
    service.sign(pledge, signature_input(pledge))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0
    service.sign(pledge, signature_input(pledge))
    db.session.commit()
    [row] = outbox_rows()
    assert row.status == MailStatus.PENDING


def test_file_transport_writes_an_eml_per_message(outbox_dir, app_ctx):
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


def test_a_queued_email_is_sealed_at_rest_and_erased_with_its_signature(app_ctx):
    pledge = make_pledge()
    signature = confirmed_signature(pledge, email="ally@example.org")
    message_id = queue_email(
        "ally@example.org",
        "Your private link",
        "lost_link",
        about=signature,
        name="Ali Gohar",
        title=pledge.title,
        signed_at=signature.signed_at,
        manage_url="http://pledges.test/me/private-token",
        confirm_url=None,
        list_unsubscribe="http://pledges.test/reminders/unsubscribe/one-click-token",
    )
    db.session.commit()
    # As stored: neither body nor the unsubscribe link can be read, or used, from the table.
    row = db.session.execute(
        select(OutboxEmail.__table__).where(OutboxEmail.id == message_id)
    ).one()
    assert (row.to_address, row.subject, row.template) == (
        "ally@example.org",
        "Your private link",
        "lost_link",
    )
    assert row.status == MailStatus.PENDING and row.attempts == 0
    for sealed in (row.body_text, row.body_html, row.list_unsubscribe):
        assert sealed.startswith(FERNET_PREFIX)
        assert "token" not in sealed and "Ali Gohar" not in sealed
    assert "http://pledges.test/me/private-token" in unseal(row.body_text)
    assert "Ali Gohar" in unseal(row.body_html)
    assert unseal(row.list_unsubscribe).endswith("/one-click-token")
    # About the signature: erasing it erases this message too.
    assert row.signature_id == signature.id
    assert message_id in erase_mail(signature.id, set())


def test_an_email_about_a_signature_not_yet_written_is_linked_to_it(app_ctx):
    pledge = make_pledge()
    data = signature_input(pledge)
    signature = service._new_signature(pledge, data, normalize_email(data.email))
    db.session.add(signature)
    message_id = queue_email(
        data.email, "Hello", "lost_link", about=signature, manage_url="http://pledges.test/me/x"
    )
    db.session.commit()
    assert signature.id is not None
    assert db.session.get(OutboxEmail, message_id).signature_id == signature.id


@pytest.fixture
def smtp_server():
    handler = Inbox()
    with smtp_sink(handler) as controller:
        yield controller, handler


def test_failed_delivery_is_retried_with_backoff_then_delivered(app, smtp_server, app_ctx):
    controller, handler = smtp_server
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


def test_a_message_that_never_goes_is_kept_as_dead(app, app_ctx):
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


# --- under trouble: slow servers, several workers, outages, short-lived commands -------------


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


@pytest.mark.config(MAIL_CLAIM_SECONDS=1)
def test_a_second_worker_never_resends_what_a_slow_worker_still_holds(app):
    # A lease shorter than a batch takes (200 messages over slow SMTP against 5 minutes):
    # the first worker renews its claim on the rows it has not sent yet.
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
    with smtp_sink(RefuseRecipients()) as controller:
        send_mail_through(app, controller.port, MAIL_MAX_ATTEMPTS=1)
        with app.app_context():
            queue_raw("amina.odhiambo@example.org")
            assert delivery.deliver_due().dead == 1
            assert "amina.odhiambo@example.org" in outbox_rows()[0].last_error
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


class SlowServer(Inbox):
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


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
    with smtp_sink(handler) as controller:
        send_mail_through(app, controller.port)
        result = runner.invoke(args=["send-reminders"])
        # The process would end here: whatever a daemon thread had not finished is cut off.
        assert result.exit_code == 0, result.output
        assert "1 reminder queued" in result.output
        assert [m["To"] for m in handler.messages] == ["ally@example.org"]
    with app.app_context():
        reminder = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.template == "checkin")
        ).one()
        assert reminder.status == MailStatus.SENT and reminder.claimed_until is None


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


def test_delivered_mail_says_it_is_automatic_and_reminders_unsubscribe_in_one_click(
    app, client, smtp_server, app_ctx
):
    """Headers read from what an SMTP server received: every message is marked
    auto-generated (RFC 3834); a reminder alone offers one-click unsubscribing (RFC 8058)."""
    controller, handler = smtp_server
    pledge = make_pledge()
    signature = confirmed_signature(pledge, email="ally@example.org")
    service.sign(pledge, signature_input(pledge, email="new@example.org"))
    db.session.execute(
        update(Signature)
        .where(Signature.id == signature.id)
        .values(
            confirmed_at=utcnow() - timedelta(days=31),
            next_checkin_at=utcnow() - timedelta(days=1),
        )
    )
    db.session.commit()
    assert send_due_reminders() == 1
    send_mail_through(app, controller.port)
    assert deliver_due().sent == 3  # two confirmations and the reminder
    assert len(handler.messages) == 3
    for message in handler.messages:
        assert message["Auto-Submitted"] == "auto-generated"
    [reminder] = [m for m in handler.messages if m["Subject"].startswith("Check-in")]
    others = [m for m in handler.messages if m is not reminder]
    assert all(m["List-Unsubscribe"] is None for m in others)
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = "".join(reminder["List-Unsubscribe"].split())  # unfolded, as a reader would
    assert link.startswith("<http://pledges.test/reminders/unsubscribe/") and link.endswith(">")
    # What a mail client does on "Unsubscribe": a POST with that body, no cookie, no token.
    response = app.test_client().post(
        link[1:-1].removeprefix("http://pledges.test"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).reminders == Reminders.STOPPED


@pytest.mark.parametrize("template", ["confirm", "already_signed", "paper_claim"])
@pytest.mark.parametrize("locale", ["en", "fr", "ar", "ur"])
def test_a_signer_s_email_from_stand_ins_is_the_email_the_template_renders(
    app_ctx, template, locale
):
    """Signing emails are rendered once per language with stand-ins, each signer's values
    put in: byte for byte what rendering the template for that signer gives, in every
    language (right-to-left ones too), with a name that HTML must escape."""
    from flask import render_template

    from pledges.domain.content import signed_content
    from pledges.infrastructure.i18n import signer_language
    from pledges.mail import queue_personal_email
    from pledges.presentation.display import format_date

    pledge = make_pledge()
    names = ['Amina "Ami" <b>O\'Brien</b> & co', "Sipho Dlamini"]
    for number, name in enumerate(names):
        signature = confirmed_signature(pledge, name=name, email=f"s{number}@example.org")
        urls = {
            "manage_url": f"http://pledges.test/me/manage-{number}",
            "hide_url": f"http://pledges.test/me/hide/hide-{number}",
            "confirm_url": f"http://pledges.test/confirm/confirm-{number}" if number else None,
        }
        with signer_language(locale):
            content = signed_content(signature)
            subject = f"Subject <{number}> & {content.title}"
            signed_on = format_date(signature.signed_at)
            message_id = queue_personal_email(
                signature.email,
                subject,
                template,
                about=signature,
                values={
                    "signature.full_name": signature.full_name,
                    "pledge.title": content.title,
                    "signed_on": signed_on,
                    **urls,
                },
            )
            expected = {
                kind: render_template(
                    f"email/{template}.{kind}",
                    subject=subject,
                    signature=signature,
                    pledge=content,
                    signed_on=signed_on,
                    **urls,
                )
                for kind in ("txt", "html")
            }
        row = db.session.get(OutboxEmail, message_id)
        assert (unseal(row.body_text), unseal(row.body_html)) == (expected["txt"], expected["html"])
        assert row.signature_id == signature.id and row.subject == subject
        # Only this signer's values, never the other's.
        other = names[1 - number]
        assert other not in unseal(row.body_text) and f"manage-{1 - number}" not in unseal(
            row.body_html
        )
    # Both came from one rendering with stand-ins, kept for the next signer.
    assert (template, locale) in {key[:2] for key in outbox._PERSONAL_BODIES}
    assert "&lt;b&gt;O&#39;Brien&lt;/b&gt; &amp; co" in unseal(
        db.session.scalars(select(OutboxEmail.body_html).order_by(OutboxEmail.id)).first()
    )


def test_a_template_that_reads_a_value_it_was_not_given_fails_rather_than_shares_one(app_ctx):
    """An object stood in for has only the attributes given: reading another in a template
    raises, where an empty string would hide it and a real object would freeze the first
    signer's value into every later email."""
    from pledges.mail.outbox import _Values

    signature = _Values("signature", {"full_name": "stand-in"})
    render = app_ctx.jinja_env.from_string
    assert render("{{ signature.full_name }}").render(signature=signature) == "stand-in"
    with pytest.raises(LookupError, match="signature.country"):
        render("{{ signature.country }}").render(signature=signature)


def test_bodies_with_stand_ins_take_only_the_values_they_were_rendered_for(app_ctx):
    """Bodies rendered once with stand-ins refuse a person whose values given differ (one
    would be lost, or a stand-in left in the mail), and a template that changes a stand-in
    (a filter) fails when rendered rather than sending the stand-in."""
    from jinja2 import ChoiceLoader, DictLoader

    from pledges.mail.outbox import render_with_stand_ins

    app_ctx.jinja_env.loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "email/note.txt": "{{ greeting }} {{ name }}{% if url %} {{ url }}{% endif %}",
                    "email/note.html": '{{ greeting }} <a href="{{ url }}">{{ name }}</a>',
                    "email/shout.txt": "{{ name|upper }}",
                    "email/shout.html": "{{ name }}",
                }
            ),
            app_ctx.jinja_env.loader,
        ]
    )
    bodies = render_with_stand_ins("note", ["name", "url"], greeting="Hello")
    assert bodies.put_in({"name": "<Ada>", "url": "https://x.test/?a=1&b=2"}) == (
        "Hello <Ada> https://x.test/?a=1&b=2",
        'Hello <a href="https://x.test/?a=1&amp;b=2">&lt;Ada&gt;</a>',
    )
    with pytest.raises(ValueError, match="rendered with"):
        bodies.put_in({"name": "Ada", "url": None})
    with pytest.raises(ValueError, match="rendered with"):
        bodies.put_in({"name": "Ada", "url": "https://x.test/", "extra": "frozen"})
    with pytest.raises(ValueError, match="changed in rendering"):
        render_with_stand_ins("shout", ["name"])
    with pytest.raises(ValueError, match="both personal and shared"):
        render_with_stand_ins("note", ["name", "url"], greeting="Hello", name="Ada")
