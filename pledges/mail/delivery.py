"""Delivering due outbox rows: claim, send, record; failures are retried with backoff.

Any number of processes may deliver at once (app threads, ``pledges deliver-mail`` on
several hosts): a row is claimed with a conditional UPDATE before it is sent, so only one
of them sends it. A process that dies mid-send loses its claim when the lease runs out and
the row is sent again: delivery is at least once, never zero times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import func, or_, select, update

from pledges.database import utcnow
from pledges.extensions import db
from pledges.mail.transports import Transport, transport_for
from pledges.models import MailStatus, OutboxEmail

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=6)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.dead


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … doubling up to six hours."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)


def build_message(row: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=f"outbox.{row.id}", domain=domain)
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


def _claim(batch: int) -> list[int]:
    now = utcnow()
    due = db.session.scalars(
        select(OutboxEmail.id)
        .where(
            OutboxEmail.status == MailStatus.PENDING,
            OutboxEmail.next_attempt_at <= now,
            or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
        )
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch)
    ).all()
    claimed = []
    for row_id in due:
        result = db.session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id == row_id,
                OutboxEmail.status == MailStatus.PENDING,
                or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
            )
            .values(claimed_until=now + CLAIM_LEASE)
        )
        if result.rowcount == 1:
            claimed.append(row_id)
    db.session.commit()
    return claimed


def deliver_due(transport: Transport | None = None, batch: int = 100) -> DeliveryReport:
    """Send what is due now. Needs an app context."""
    transport = transport or transport_for(current_app)
    sender = current_app.config["MAIL_FROM"]
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    report = DeliveryReport()
    for row_id in _claim(batch):
        row = db.session.get(OutboxEmail, row_id)
        if row is None:
            continue
        try:
            transport.send(build_message(row, sender), name=f"{row.id:010d}")
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried
            row.attempts += 1
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            row.claimed_until = None
            if row.attempts >= max_attempts:
                row.status = MailStatus.DEAD
                report.dead += 1
                log.error("mail %s is dead after %s attempts: %s", row.id, row.attempts, exc)
            else:
                row.next_attempt_at = utcnow() + retry_delay(row.attempts)
                report.failed += 1
                log.warning("mail %s failed (attempt %s): %s", row.id, row.attempts, exc)
        else:
            row.attempts += 1
            row.status = MailStatus.SENT
            row.sent_at = utcnow()
            row.claimed_until = None
            row.last_error = None
            report.sent += 1
        db.session.commit()
    return report


@dataclass
class OutboxStatus:
    counts: dict[str, int]
    dead: list[OutboxEmail]


def outbox_status(limit: int = 50) -> OutboxStatus:
    """How many messages are pending, sent and dead, and the latest dead ones."""
    counts = dict(
        db.session.execute(
            select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
        ).all()
    )
    dead = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.status == MailStatus.DEAD)
        .order_by(OutboxEmail.id.desc())
        .limit(limit)
    ).all()
    return OutboxStatus({s.value: counts.get(s.value, 0) for s in MailStatus}, list(dead))


def retry_dead() -> int:
    """Give every dead message a fresh set of attempts, starting now."""
    result = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == MailStatus.DEAD)
        .values(status=MailStatus.PENDING, attempts=0, next_attempt_at=utcnow(), claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def masked(address: str) -> str:
    """ "amina@example.org" -> "a…@example.org": enough to tell messages apart."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"
