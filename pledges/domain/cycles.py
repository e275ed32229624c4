"""Cycle arithmetic and the follow-through activity counters.

A signer's cycles run from their confirmation, each as long as the pledge's check-in
cadence: cycle 1 is [confirmed, confirmed + cadence), cycle 2 the next, and so on.

A signer counts as "active this cycle" from logging an action until the end of the cycle
in which they logged it (``Signature.active_until``). The wall's figure must not count
signatures row by row, so active signers are also counted per day their activity ends
(tally dimension ``active``, key = that UTC date): the active count is the sum of
the buckets from today on, a few dozen rows whatever the number of signers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from pledges.domain.tallies import ACTIVE_UNTIL
from pledges.extensions import db
from pledges.infrastructure.database import upsert_increment, utcnow
from pledges.models import Action, Pledge, PledgeTally, Signature


@dataclass(frozen=True)
class Cycle:
    number: int
    start: datetime
    end: datetime


def pledge_cadence(pledge: Pledge) -> timedelta:
    """How long each of a pledge's check-in cycles lasts."""
    return timedelta(days=pledge.checkin_cadence_days)


def cadence(signature: Signature) -> timedelta:
    return pledge_cadence(signature.pledge)


def first_checkin_at(signature: Signature, confirmed_at: datetime) -> datetime:
    """The end of cycle 1 for a signature confirmed (or approved) at ``confirmed_at``."""
    return confirmed_at + cadence(signature)


def cycle_at(signature: Signature, at: datetime | None = None) -> Cycle:
    """The cycle a confirmed signer is in at ``at`` (now by default)."""
    assert signature.confirmed_at is not None, "only confirmed signers have cycles"
    at = at or utcnow()
    length = cadence(signature)
    number = max(int((at - signature.confirmed_at) / length), 0) + 1
    return cycle_number(signature, number)


def cycle_number(signature: Signature, number: int) -> Cycle:
    length = cadence(signature)
    start = signature.confirmed_at + (number - 1) * length
    return Cycle(number, start, start + length)


# Renewing for the next cycle is offered in the last days of the current one: on day one
# the question makes no sense, and an early "renew" button reads as a chore already due.
RENEWAL_WINDOW = timedelta(days=14)


def renewal_opens_at(signature: Signature, at: datetime | None = None) -> datetime:
    """When renewing for the cycle after the one current at ``at`` is first offered: the
    last ``RENEWAL_WINDOW`` of the cycle (its last half, for a cycle shorter than twice that)."""
    window = min(RENEWAL_WINDOW, cadence(signature) / 2)
    return cycle_at(signature, at).end - window


def renewal_is_open(signature: Signature, at: datetime | None = None) -> bool:
    """Whether the private page offers "Renew for the next cycle" at ``at`` (now): near
    the current cycle's end, and for the whole of a cycle the signer reached without
    renewing for it (they missed the window, or read the reminder after the cycle ended)."""
    at = at or utcnow()
    if at >= renewal_opens_at(signature, at):
        return True
    return cycle_at(signature, at).number > (signature.renewed_for_cycle or 1)


def record_activity(signature: Signature, at: datetime | None = None) -> None:
    """The signer logged an action at ``at``: active until the end of that cycle."""
    _set_active_until(signature, cycle_at(signature, at).end)


def recompute_activity(signature: Signature) -> None:
    """After an action is deleted: active only if another was logged this cycle."""
    current = cycle_at(signature)
    latest = db.session.scalar(
        select(func.max(Action.created_at)).where(Action.signature_id == signature.id)
    )
    _set_active_until(signature, current.end if latest and latest >= current.start else None)


def forget_activity(signature: Signature) -> None:
    _set_active_until(signature, None)


def forget_activity_of(pledge_id: int, untils: Iterable[datetime | None]) -> None:
    """Many signers leave the figures at once (bulk moderation): drop their buckets.

    ``untils`` are their ``active_until`` values; the caller clears the column itself.
    """
    by_day = Counter(until.date() for until in untils if until is not None)
    for day, count in by_day.items():
        _bucket(pledge_id, datetime(day.year, day.month, day.day), -count)


def _set_active_until(signature: Signature, until: datetime | None) -> None:
    if signature.active_until == until:
        return
    if signature.active_until is not None:
        _bucket(signature.pledge_id, signature.active_until, -1)
    if until is not None:
        _bucket(signature.pledge_id, until, +1)
    signature.active_until = until


def _bucket(pledge_id: int, until: datetime, delta: int) -> None:
    upsert_increment(
        db.session,
        PledgeTally.__table__,
        {"pledge_id": pledge_id, "dimension": ACTIVE_UNTIL, "key": until.date().isoformat()},
        "count",
        delta,
    )
