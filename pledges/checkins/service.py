"""Reminders at each cycle's end, and the signer's commitments from one cycle to the next."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select, update

from pledges.domain.content import signed_content
from pledges.domain.cycles import cycle_at, cycle_number
from pledges.domain.rules import RuleError
from pledges.domain.signers import check_commitments, issue_hide_token, issue_reminder_token
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.i18n import signer_language
from pledges.infrastructure.urls import external_url
from pledges.mail import queue_email
from pledges.mail.discreet import subject_for
from pledges.mail.unsubscribe import OneClickLink
from pledges.models import Reminders, Signature, SignatureStatus, SignedCommitment

log = logging.getLogger(__name__)


class CheckinError(RuleError):
    """A check-in rule was broken."""


def send_due_reminders(now: datetime | None = None, batch: int = 500) -> int:
    """Email every confirmed signer whose cycle has ended since their last reminder.

    Each signer is claimed with a conditional UPDATE that moves their next check-in to
    the end of their current cycle, in the same transaction as the email, so running
    this twice, or on two hosts at once, sends nothing twice. A signer who missed several
    cycles (paused, or the command did not run) gets one reminder, for the latest.
    """
    now = now or utcnow()
    sent = 0
    # Walked once, in id order: a row this run cannot claim (another run moved it first,
    # or its stored time does not compare equal to the one read) stays behind the cursor
    # instead of being selected again and again, at full CPU, for ever.
    after_id = 0
    while True:
        due = db.session.scalars(
            select(Signature)
            .where(
                Signature.status == SignatureStatus.CONFIRMED,
                Signature.reminders == Reminders.ON,
                Signature.next_checkin_at <= now,
                Signature.id > after_id,
            )
            .order_by(Signature.id)
            .limit(batch)
        ).all()
        if not due:
            return sent
        for signature in due:
            after_id = signature.id
            sent += _remind(signature, now)
            db.session.commit()


def _remind(signature: Signature, now: datetime) -> int:
    current = cycle_at(signature, now)
    ended = current.number - 1
    claimed = db.session.execute(
        update(Signature)
        .where(
            Signature.id == signature.id,
            Signature.next_checkin_at == signature.next_checkin_at,
            Signature.reminders == Reminders.ON,
        )
        .values(next_checkin_at=current.end, last_reminded_cycle=ended)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed or ended <= signature.last_reminded_cycle:
        return 0
    token = issue_reminder_token(signature)
    ended_cycle = cycle_number(signature, ended)
    # Queued outside any request: in the language the signer signed in, not the fallback.
    with signer_language(signature.locale):
        pledge = signed_content(signature)
        queue_email(
            signature.email,
            subject_for(
                signature,
                gettext(
                    "Check-in: cycle %(cycle)s of “%(title)s” has ended",
                    cycle=ended,
                    title=pledge.title,
                ),
                gettext("A reminder"),
            ),
            "checkin",
            about=signature,
            signature=signature,
            pledge=pledge,
            cycle=ended,
            commitments=signature.chosen_commitments,
            # Only that cycle's: a reminder sent late must not count the next one's actions.
            actions_in_cycle=[
                a for a in signature.actions if ended_cycle.start <= a.created_at < ended_cycle.end
            ],
            log_url=external_url("actions.new", token=token),
            manage_url=external_url("me.manage", token=token),
            reminders_url=external_url("checkins.reminders", token=token),
            hide_url=external_url("me.hide", token=issue_hide_token(signature)),
            list_unsubscribe=external_url(
                "checkins.unsubscribe", token=unsubscribe_token(signature)
            ),
        )
    return 1


# One-click unsubscribing (RFC 8058, pledges.mail.unsubscribe): the reminders' own links.
REMINDERS_ONE_CLICK = OneClickLink("pledges reminders unsubscribe")


def unsubscribe_token(signature: Signature) -> str:
    return REMINDERS_ONE_CLICK.token(signature.id)


def signature_for_unsubscribe_token(token: str) -> Signature | None:
    return REMINDERS_ONE_CLICK.signature(token)


def unsubscribe(signature: Signature) -> None:
    """Stop the signer's reminders; nothing else changes. Repeating it is harmless."""
    if signature.status == SignatureStatus.CONFIRMED and signature.reminders != Reminders.STOPPED:
        set_reminders(signature, Reminders.STOPPED)


def set_reminders(signature: Signature, setting: str, now: datetime | None = None) -> None:
    if signature.status != SignatureStatus.CONFIRMED:
        raise CheckinError(gettext("Reminders are for confirmed signatures."))
    signature.reminders = setting
    if setting == Reminders.ON:
        # Resuming starts from the current cycle: no pile of reminders for the past.
        current = cycle_at(signature, now)
        signature.next_checkin_at = current.end
        signature.last_reminded_cycle = max(signature.last_reminded_cycle, current.number - 1)


def update_commitments(
    signature: Signature, wanted: Iterable[int], now: datetime | None = None
) -> None:
    """Renew for the next cycle with ``wanted``: new ones count at once, dropped ones at
    the end of the current cycle (until then the signer is still held to them)."""
    if signature.status != SignatureStatus.CONFIRMED:
        raise CheckinError(gettext("Only a confirmed signature can renew its commitments."))
    now = now or utcnow()
    wanted = set(wanted)
    check_renewal(signature, wanted, now)
    current = cycle_at(signature, now)
    rows = {row.commitment_id: row for row in signature.chosen}
    commitments = {c.id: c for c in signature.pledge.commitments}
    for commitment_id in wanted:
        row = rows.get(commitment_id)
        if row is None:
            signature.chosen.append(commitments[commitment_id].choose())
        else:
            if row.ends_at is not None and row.ends_at <= now:
                # Ended, and taken on again: in the words offered now.
                row.version = commitments[commitment_id].version
            row.ends_at = None
    for commitment_id, row in rows.items():
        if commitment_id not in wanted and (row.ends_at is None or row.ends_at > now):
            row.ends_at = current.end
    signature.renewed_for_cycle = current.number + 1


def check_renewal(signature: Signature, wanted: Iterable[int], now: datetime | None = None) -> None:
    """The commitments offered to new signers, plus any the signer still holds (even one
    retired since): they may keep what they signed."""
    try:
        check_commitments(signature.pledge, wanted, held=signature.active_commitment_ids(now))
    except RuleError as exc:
        raise CheckinError(exc.message, field="commitments") from exc


def renewal_choices(signature: Signature, now: datetime | None = None) -> list[SignedCommitment]:
    """What the renewal form lists: the commitments the signer holds, in the words they
    agreed to (kept even if retired), and the others still offered, as worded now (in the
    signer's language where translated), in the pledge's order."""
    from pledges.domain.content import current_translations

    now = now or utcnow()
    held = {
        row.commitment_id: row
        for row in signature.chosen
        if row.ends_at is None or row.ends_at > now
    }
    translated = current_translations(signature.pledge.commitments, signature.locale)
    return [
        SignedCommitment(
            id=c.id,
            text=held[c.id].text if c.id in held else translated.get(c.id, c.text),
            required=c.required and c.retired_at is None,
        )
        for c in signature.pledge.commitments
        if c.id in held or c.retired_at is None
    ]


def ending_commitments(signature: Signature, now: datetime | None = None) -> dict[int, datetime]:
    """Commitments still in force that the signer has taken off: id -> when it ends."""
    now = now or utcnow()
    return {
        row.commitment_id: row.ends_at
        for row in signature.chosen
        if row.ends_at is not None and row.ends_at > now
    }
