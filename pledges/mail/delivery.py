"""Delivering due outbox rows in batches: claim, send, record; failures retried with backoff.

A round claims up to ``MAIL_BATCH_SIZE`` due rows in one statement, an UPDATE … WHERE id IN
(the first due rows) that sets a lease of ``MAIL_CLAIM_SECONDS``: on PostgreSQL the due rows
are picked FOR UPDATE SKIP LOCKED, so a competing claim passes over them instead of waiting;
SQLite's single writer makes the UPDATE atomic by itself. The round then loads the claimed
rows, with whether each is discreet, in one query, sends them over one transport session
(one SMTP connection), and records each message's outcome, committed, right after its send.
Any number of processes may deliver at once (app threads, ``pledges deliver-mail``, queue
workers, on several hosts): a row claimed by one is skipped by the others until its lease
ends.

What a process killed mid-batch costs:

- the message in flight, perhaps accepted by the SMTP server but not yet recorded, is sent
  again once its lease ends: delivery is at least once, with a window of one message per
  process killed (never zero times). The copy sent again carries the same Message-ID (it is
  derived from the row), so a receiver that de-duplicates by it shows one;
- the rest of its batch, claimed but not sent, waits out the lease and is then sent once by
  whoever claims it next: a delay of up to ``MAIL_CLAIM_SECONDS``, not a duplicate.

A batch still being sent when half its lease has gone renews the claim on the rows it has
not sent yet, so a slow server never lets another process take over rows still queued here.
One send must stay well under half the lease (SMTP_TIMEOUT sees to it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from flask import current_app
from sqlalchemy import ColumnElement, Row, and_, func, or_, select, update

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.mail.discreet import discreet_column, sender_for
from pledges.mail.sealing import unseal
from pledges.mail.transports import Sender, message_name, session_of, transport_for
from pledges.models import MailStatus, OutboxEmail, Signature

log = logging.getLogger(__name__)

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


def message_id(row_id: int, created_at: datetime, domain: str) -> str:
    """The same for every send of one outbox row, so a copy sent again after a crash can be
    recognised as the same message; the row's creation time keeps it unique across
    databases (a restored or a fresh one numbers its rows from 1 again)."""
    return f"<{created_at:%Y%m%d%H%M%S%f}.outbox.{row_id}@{domain}>"


def build_message(row: Row, sender: str) -> EmailMessage:
    """The email for an outbox row as ``_load`` reads it."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = message_id(row.id, row.created_at, domain)
    # Every message is written by the app, none by a person (RFC 3834): auto-responders
    # and vacation replies stay silent.
    message["Auto-Submitted"] = "auto-generated"
    if row.list_unsubscribe:
        # One click in the mail client stops this kind of mail (RFC 2369, RFC 8058).
        message["List-Unsubscribe"] = f"<{unseal(row.list_unsubscribe)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(unseal(row.body_text))
    if row.body_html:
        message.add_alternative(unseal(row.body_html), subtype="html")
    return message


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxEmail.status == MailStatus.PENDING,
        OutboxEmail.next_attempt_at <= now,
        or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until < now),
    )


@dataclass
class Claim:
    """The rows a round holds, and the end of its lease, which is also the claim's token:
    any later claim sets a later one, so a record only lands while the claim is ours."""

    ids: set[int]
    lease_end: datetime


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["MAIL_CLAIM_SECONDS"])


def _claim_batch(size: int) -> Claim:
    """Claim up to ``size`` due rows in one statement, and commit."""
    now = utcnow()
    lease_end = now + _lease()
    due = (
        select(OutboxEmail.id)
        .where(_claimable(now))
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(size)
        # PostgreSQL: rows another round is claiming right now are passed over, not waited
        # for; SQLite has no such clause and needs none (one writer at a time).
        .with_for_update(skip_locked=True)
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    claimed = db.session.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(select(due.c.id)), _claimable(now))
        .values(claimed_until=lease_end)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return Claim(set(claimed), lease_end)


def _load(claim: Claim) -> list[Row]:
    """The claimed rows, in the order they fell due, with whether each is discreet: one
    query, whatever the batch's size. Plain rows, not ORM objects, so the commits after
    each send expire nothing that would be loaded again."""
    rows = db.session.execute(
        select(
            OutboxEmail.id,
            OutboxEmail.to_address,
            OutboxEmail.subject,
            OutboxEmail.body_text,
            OutboxEmail.body_html,
            OutboxEmail.list_unsubscribe,
            OutboxEmail.attempts,
            OutboxEmail.created_at,
            discreet_column().label("discreet"),
        )
        .outerjoin(Signature, Signature.id == OutboxEmail.signature_id)
        .where(OutboxEmail.id.in_(claim.ids), OutboxEmail.claimed_until == claim.lease_end)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
    ).all()
    db.session.commit()  # no transaction left open while the batch is sent
    return list(rows)


def _renew(claim: Claim, unsent: list[int]) -> None:
    """Extend the lease of the rows not sent yet; those another process took over after
    all (the lease ran out during one very slow send) leave the claim."""
    lease_end = utcnow() + _lease()
    kept = db.session.scalars(
        update(OutboxEmail)
        .where(OutboxEmail.id.in_(unsent), OutboxEmail.claimed_until == claim.lease_end)
        .values(claimed_until=lease_end)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    claim.ids, claim.lease_end = set(kept), lease_end


def _record(row_id: int, claim: Claim, **values: object) -> None:
    """Write the outcome of a send and release the row, if the claim is still ours."""
    recorded = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row_id, OutboxEmail.claimed_until == claim.lease_end)
        .values(attempts=OutboxEmail.attempts + 1, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if recorded != 1:
        log.warning("mail %s: erased, or its claim lost during a very slow send", row_id)


def deliver_due(transport: Sender | None = None, batch: int | None = None) -> DeliveryReport:
    """Send one batch of what is due now (``batch`` rows, default MAIL_BATCH_SIZE); the
    report says how many were attempted, 0 when nothing was due. Needs an app context."""
    transport = transport or transport_for(current_app)
    report = DeliveryReport()
    claim = _claim_batch(batch or current_app.config["MAIL_BATCH_SIZE"])
    if not claim.ids:
        return report
    rows = _load(claim)
    renew_before = _lease() / 2
    with session_of(transport) as session:
        for position, row in enumerate(rows):
            if claim.lease_end - utcnow() < renew_before:
                _renew(claim, [later.id for later in rows[position:]])
            if row.id not in claim.ids:
                continue  # taken over by another process meanwhile: it sends it
            _send(session, row, claim, report)
    return report


def _send(session: Sender, row: Row, claim: Claim, report: DeliveryReport) -> None:
    attempts = row.attempts + 1
    try:
        sender = sender_for(row.discreet, current_app.config["MAIL_FROM"])
        session.send(build_message(row, sender), name=message_name(row.id))
    except Exception as exc:  # noqa: BLE001 - any transport failure is retried
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
            _record(row.id, claim, last_error=error, status=MailStatus.DEAD)
            report.dead += 1
            log.error("mail %s is dead after %s attempts: %s", row.id, attempts, exc)
        else:
            retry_at = utcnow() + retry_delay(attempts)
            _record(row.id, claim, last_error=error, next_attempt_at=retry_at)
            report.failed += 1
            log.warning("mail %s failed (attempt %s): %s", row.id, attempts, exc)
    else:
        # Sent: only what operators need stays (template, masked recipient, times,
        # attempts); the bodies and the unsubscribe link, with their working tokens, and
        # the subject go.
        _record(
            row.id,
            claim,
            status=MailStatus.SENT,
            sent_at=utcnow(),
            last_error=None,
            to_address=masked(row.to_address),
            subject="",
            body_text="",
            body_html=None,
            list_unsubscribe=None,
        )
        report.sent += 1


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
    """ "amina@example.org" -> "a…@example.org": enough to tell messages apart.
    An address masked already stays as it is."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}…@{domain}"


# Quotes and braces left out of the local part: they are what surrounds an address in
# error texts (Python reprs), far more often than they are part of one.
ADDRESS = re.compile(r"[\w.!#$%&*+/=?^~-]+@[\w-]+(?:\.[\w-]+)*")


def mask_addresses(text: str) -> str:
    """Every email address in ``text`` (an SMTP error, say) masked as ``masked`` does."""
    return ADDRESS.sub(lambda match: masked(match.group()), text)
