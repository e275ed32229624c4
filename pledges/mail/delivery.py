"""Delivering due outbox rows: claim, send, record; failures are retried with backoff.

Any number of processes may deliver at once (app threads, ``pledges deliver-mail`` on
several hosts): a row is claimed with a conditional UPDATE just before it is sent, with a
lease of ``CLAIM_LEASE``, so only one of them sends it. A process that dies mid-send loses
its claim when the lease runs out and the row is sent again: delivery is at least once,
never zero times. A single send must take less than the lease (SMTP_TIMEOUT sees to it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import ColumnElement, and_, func, or_, select, update

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
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
    # Every message is written by the app, none by a person (RFC 3834): auto-responders
    # and vacation replies stay silent.
    message["Auto-Submitted"] = "auto-generated"
    if row.list_unsubscribe:
        # One click in the mail client stops this kind of mail (RFC 2369, RFC 8058).
        message["List-Unsubscribe"] = f"<{row.list_unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(row.body_text)
    if row.body_html:
        message.add_alternative(row.body_html, subtype="html")
    return message


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxEmail.status == MailStatus.PENDING,
        OutboxEmail.next_attempt_at <= now,
        or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
    )


def _due(batch: int) -> list[int]:
    now = utcnow()
    due = db.session.scalars(
        select(OutboxEmail.id)
        .where(_claimable(now))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch)
    ).all()
    db.session.commit()  # no transaction left open while the batch is sent
    return list(due)


def _claim(row_id: int) -> datetime | None:
    """Take one row for one send, just before sending it; None if it is not ours to send.

    Claiming row by row, not the whole batch up front, means no row waits behind slow sends
    until its lease runs out and another process sends it too. The lease end is also the
    claim's token: any later claim sets a later one, so the record after the send only
    lands if nobody took the row over meanwhile.
    """
    now = utcnow()
    lease_end = now + CLAIM_LEASE
    claimed = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row_id, _claimable(now))
        .values(claimed_until=lease_end)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return lease_end if claimed == 1 else None


def _record(row_id: int, lease_end: datetime, **values: object) -> None:
    """Write the outcome of a send and release the claim, if the claim is still ours."""
    recorded = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row_id, OutboxEmail.claimed_until == lease_end)
        .values(attempts=OutboxEmail.attempts + 1, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if recorded != 1:
        log.warning("mail %s: claim lost during a send longer than %s", row_id, CLAIM_LEASE)


def deliver_due(transport: Transport | None = None, batch: int = 100) -> DeliveryReport:
    """Send what is due now. Needs an app context."""
    transport = transport or transport_for(current_app)
    sender = current_app.config["MAIL_FROM"]
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    report = DeliveryReport()
    for row_id in _due(batch):
        lease_end = _claim(row_id)
        if lease_end is None:
            continue  # sent, rescheduled or being sent by another process meanwhile
        row = db.session.get(OutboxEmail, row_id)
        if row is None:
            continue
        attempts = row.attempts + 1
        try:
            transport.send(build_message(row, sender), name=f"{row.id:010d}")
        except Exception as exc:  # noqa: BLE001 - any transport failure is retried
            error = f"{type(exc).__name__}: {exc}"[:2000]
            if attempts >= max_attempts:
                _record(row_id, lease_end, last_error=error, status=MailStatus.DEAD)
                report.dead += 1
                log.error("mail %s is dead after %s attempts: %s", row_id, attempts, exc)
            else:
                retry_at = utcnow() + retry_delay(attempts)
                _record(row_id, lease_end, last_error=error, next_attempt_at=retry_at)
                report.failed += 1
                log.warning("mail %s failed (attempt %s): %s", row_id, attempts, exc)
        else:
            _record(row_id, lease_end, status=MailStatus.SENT, sent_at=utcnow(), last_error=None)
            report.sent += 1
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


# Quotes and braces left out of the local part: they are what surrounds an address in
# error texts (Python reprs), far more often than they are part of one.
ADDRESS = re.compile(r"[\w.!#$%&*+/=?^~-]+@[\w-]+(?:\.[\w-]+)*")


def mask_addresses(text: str) -> str:
    """Every email address in ``text`` (an SMTP error, say) masked as ``masked`` does."""
    return ADDRESS.sub(lambda match: masked(match.group()), text)
