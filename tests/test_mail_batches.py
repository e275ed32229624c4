"""Delivery in batches: one statement claims a batch, one SMTP connection sends it, each
message is recorded after its send, and several deliverers never send a row twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.mail import delivery
from pledges.mail.delivery import deliver_due
from pledges.mail.transports import FileTransport, SmtpTransport, transport_for
from pledges.models import MailStatus, OutboxEmail
from tests.factories import confirmed_signature, make_pledge
from tests.helpers import Inbox, outbox_rows, send_mail_through, smtp_sink, statements


class CountingInbox(Inbox):
    """A real SMTP server's handler that keeps every message and counts connections (one
    EHLO each, as smtplib greets once per connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.connections += 1
        session.host_name = hostname
        return responses


class DropsTheThirdMessage(CountingInbox):
    """Hangs up on the client at its first connection's third message, before accepting
    it: a server restarting, an idle or per-connection limit reached."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = False
        self.on_this_connection = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.on_this_connection = 0
        return await super().handle_EHLO(server, session, envelope, hostname, responses)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.on_this_connection += 1
        if not self.dropped and self.on_this_connection == 3:
            self.dropped = True
            server.transport.close()
            return "421 closing"
        return await super().handle_DATA(server, session, envelope)


class RefusesOne(CountingInbox):
    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.refused:
            return f"550 5.1.1 <{address}> user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def smtp_server(app, handler, **settings):
    with smtp_sink(handler) as controller:
        send_mail_through(app, controller.port, **settings)
        yield handler


def queue_raw(count: int, signature_id: int | None = None, prefix: str = "ally") -> list[str]:
    """Rows as the app leaves them in the outbox; their addresses."""
    addresses = [f"{prefix}{n}@example.org" for n in range(count)]
    for address in addresses:
        db.session.add(
            OutboxEmail(
                to_address=address, subject="Hello", body_text="Hi.", signature_id=signature_id
            )
        )
    db.session.commit()
    return addresses


class WatchingFileTransport(FileTransport):
    """The real file transport, noting at its first send how many rows were claimed (read
    on a connection of its own, as another process would see them) and which statements
    had run."""

    def __init__(self, directory: str, seen: list[str]) -> None:
        super().__init__(directory)
        self.seen = seen
        self.claimed_at_first_send: int | None = None
        self.statements_before_first_send: list[str] = []

    def send(self, message, name: str) -> None:
        if self.claimed_at_first_send is None:
            self.statements_before_first_send = list(self.seen)
            with db.engine.connect() as connection:
                self.claimed_at_first_send = connection.scalar(
                    select(func.count())
                    .select_from(OutboxEmail)
                    .where(OutboxEmail.claimed_until.is_not(None))
                )
        super().send(message, name)


@pytest.mark.config(MAIL_BATCH_SIZE=3)
def test_one_statement_claims_the_whole_batch_before_the_first_send(app, app_ctx):
    queue_raw(5)
    with statements() as seen:
        transport = WatchingFileTransport(app.config["MAIL_OUTBOX_DIR"], seen)
        assert deliver_due(transport).sent == 3
    claim, load = transport.statements_before_first_send
    assert claim.startswith(("UPDATE", "WITH")) and "CLAIMED_UNTIL" in claim and "LIMIT" in claim
    assert load.startswith("SELECT")
    assert transport.claimed_at_first_send == 3  # the batch, not one row, nor all five
    db.session.expire_all()
    statuses = Counter(row.status for row in outbox_rows())
    assert statuses == {MailStatus.SENT: 3, MailStatus.PENDING: 2}


@pytest.mark.config(MAIL_BATCH_SIZE=4)
def test_concurrent_deliverers_never_send_the_same_row_twice(app):
    handler = CountingInbox()
    with smtp_server(app, handler):
        with app.app_context():
            addresses = queue_raw(40)
        ready = threading.Barrier(3, timeout=30)
        reports: list[delivery.DeliveryReport] = []
        errors: list[BaseException] = []

        def deliverer() -> None:
            try:
                with app.app_context():
                    transport = transport_for(app)
                    ready.wait()  # every claim starts together
                    while (report := deliver_due(transport)).attempted:
                        reports.append(report)
            except BaseException as error:  # noqa: BLE001 - handed to the test below
                errors.append(error)

        threads = [threading.Thread(target=deliverer) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        received = Counter(message["To"] for message in handler.messages)
    assert received == Counter(addresses), "a row was sent twice, or not at all"
    assert sum(report.sent for report in reports) == 40
    with app.app_context():
        assert {row.status for row in outbox_rows()} == {MailStatus.SENT}


@pytest.mark.config(MAIL_BATCH_SIZE=5)
def test_a_batch_goes_over_one_smtp_connection(app, app_ctx):
    queue_raw(12)
    with smtp_server(app, CountingInbox()) as handler:
        assert [deliver_due().sent for _ in range(4)] == [5, 5, 2, 0]
    assert len(handler.messages) == 12
    assert handler.connections == 3


def test_a_dropped_connection_is_opened_again_and_the_batch_goes_on(app, app_ctx):
    addresses = queue_raw(6)
    with smtp_server(app, DropsTheThirdMessage()) as handler:
        report = deliver_due()
    assert (report.sent, report.failed) == (6, 0)
    assert sorted(message["To"] for message in handler.messages) == sorted(addresses)
    assert handler.connections == 2
    assert {row.attempts for row in outbox_rows()} == {1}


def test_a_refused_message_is_retried_later_and_the_rest_of_the_batch_is_sent(app, app_ctx):
    addresses = queue_raw(5)
    with smtp_server(app, RefusesOne(refused=addresses[1])) as handler:
        report = deliver_due()
    assert (report.sent, report.failed) == (4, 1)
    assert sorted(m["To"] for m in handler.messages) == sorted(set(addresses) - {addresses[1]})
    assert handler.connections == 1  # a refusal does not cost the connection
    refused = next(row for row in outbox_rows() if row.to_address == addresses[1])
    assert refused.status == MailStatus.PENDING and refused.attempts == 1
    assert "user unknown" in refused.last_error
    assert refused.next_attempt_at >= utcnow() + timedelta(seconds=25)  # the first backoff
    assert deliver_due().attempted == 0  # not due yet


def test_discreet_signers_get_the_neutral_sender_name(app, app_ctx):
    pledge = make_pledge()
    discreet = confirmed_signature(pledge, email="discreet@example.org")
    discreet.discreet_mail = True
    plain = confirmed_signature(pledge, email="plain@example.org")
    db.session.commit()
    db.session.execute(db.delete(OutboxEmail))  # the signing mail: not what this is about
    db.session.commit()
    queue_raw(1, signature_id=discreet.id, prefix="to-discreet")
    queue_raw(1, signature_id=plain.id, prefix="to-plain")
    with smtp_server(app, CountingInbox(), DISCREET_SENDER_NAME="Notifications") as handler:
        assert deliver_due().sent == 2
    senders = {message["To"]: message["From"] for message in handler.messages}
    assert senders["to-discreet0@example.org"].startswith("Notifications <")
    assert senders["to-plain0@example.org"] == app.config["MAIL_FROM"]


@pytest.mark.parametrize("size", [3, 12])
def test_a_batch_costs_the_same_reads_whatever_its_size(app, app_ctx, size):
    pledge = make_pledge()
    signer = confirmed_signature(pledge)
    signer.discreet_mail = True
    db.session.execute(db.delete(OutboxEmail))
    db.session.commit()
    queue_raw(size, signature_id=signer.id)
    with statements() as seen, smtp_server(app, CountingInbox()):
        assert deliver_due().sent == size
    reads = [s for s in seen if s.startswith("SELECT")]
    writes = [s for s in seen if s.startswith(("UPDATE", "WITH"))]
    assert len(reads) == 1  # the batch and its signatures' discreet flags, in one query
    # The claim, then one record per message, committed after its send: a process killed
    # mid-batch loses no more than the message in flight.
    assert len(writes) == 1 + size
    assert len(seen) == 2 + size


class ProcessDies(BaseException):
    """Stands for SIGKILL: nothing after it runs in the deliverer (BaseException, so no
    ``except Exception`` records anything)."""


class DiesAfterTheSecondSend(SmtpTransport):
    """The real SMTP transport in a process that is killed right after the server accepted
    its second message, before that message's "sent" was recorded."""

    @contextmanager
    def session(self):
        with super().session() as session:
            real_send, sends = session.send, []

            def send(message, name: str) -> None:
                real_send(message, name)
                sends.append(name)
                if len(sends) == 2:
                    raise ProcessDies

            session.send = send
            yield session


@pytest.mark.config(MAIL_CLAIM_SECONDS=1)
def test_a_kill_mid_batch_repeats_at_most_the_message_in_flight_with_its_message_id(app, app_ctx):
    addresses = queue_raw(5)
    with smtp_server(app, CountingInbox()) as handler:
        dying = DiesAfterTheSecondSend("127.0.0.1", app.config["SMTP_PORT"], None, None, "none", 5)
        with pytest.raises(ProcessDies):
            deliver_due(dying)
        db.session.rollback()
        assert deliver_due().attempted == 0  # the dead process's claim still holds
        time.sleep(1.1)  # …until its lease ends
        assert deliver_due().sent == 4  # the one in flight, and the three never sent
    received = Counter(message["To"] for message in handler.messages)
    assert set(received) == set(addresses)
    assert [n for n in received.values() if n > 1] == [2]  # one message, and only one, twice
    twice = next(address for address, n in received.items() if n == 2)
    ids = {m["Message-ID"] for m in handler.messages if m["To"] == twice}
    assert len(ids) == 1, "a message sent again must carry the same Message-ID"
    assert {row.status for row in outbox_rows()} == {MailStatus.SENT}
