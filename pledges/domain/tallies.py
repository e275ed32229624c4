"""Counters of confirmed signatures per pledge, kept in step with every status change.

The counters are written only through ``pledges.domain.transitions``, the door every change the
wall counts goes through; everything else here reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, or_, select

from pledges.extensions import db
from pledges.infrastructure.database import upsert_increment, utcnow
from pledges.models import Action, PledgeTally, ReviewState, Signature, SignatureStatus

TOTAL = "total"
ROLE = "role"
COUNTRY = "country"
# Follow-through: keys ACTIONS, CONFIRMED_ACTIONS, PEOPLE_REACHED.
FOLLOW = "follow"
ACTIONS = "actions"
CONFIRMED_ACTIONS = "confirmed_actions"
PEOPLE_REACHED = "people_reached"
# Signers active this cycle, by the UTC date their activity ends (see checkins.cycles).
ACTIVE_UNTIL = "active"  # fits pledge_tallies.dimension, String(10)


@dataclass
class Tally:
    total: int = 0
    by_role: dict[str, int] = field(default_factory=dict)
    by_country: dict[str, int] = field(default_factory=dict)
    actions: int = 0
    confirmed_actions: int = 0
    people_reached: int = 0
    active_signers: int = 0

    @property
    def active_share(self) -> float:
        """Share of confirmed signers who logged an action in their current cycle."""
        return self.active_signers / self.total if self.total else 0.0


def counts_on_wall(status: str) -> bool:
    return status == SignatureStatus.CONFIRMED


def record_status_change(signature: Signature, old_status: str, new_status: str) -> None:
    """Adjust the counters for ``signature`` moving from ``old_status`` to ``new_status``."""
    delta = int(counts_on_wall(new_status)) - int(counts_on_wall(old_status))
    if delta:
        _adjust(signature.pledge_id, signature.role, signature.country, delta)


def adjust_signers(pledge_id: int, role: str, country: str, delta: int) -> None:
    """Move the counters by ``delta`` signers of one role and country (bulk changes)."""
    _adjust(pledge_id, role, country, delta)


def _adjust(pledge_id: int, role: str, country: str, delta: int) -> None:
    table = PledgeTally.__table__
    for dimension, key in ((TOTAL, ""), (ROLE, role), (COUNTRY, country)):
        upsert_increment(
            db.session,
            table,
            {"pledge_id": pledge_id, "dimension": dimension, "key": key},
            "count",
            delta,
        )


def adjust_follow_through(
    pledge_id: int, actions: int = 0, confirmed_actions: int = 0, people_reached: int = 0
) -> None:
    """Move a pledge's follow-through counters; call in the transaction of the change."""
    table = PledgeTally.__table__
    for key, delta in (
        (ACTIONS, actions),
        (CONFIRMED_ACTIONS, confirmed_actions),
        (PEOPLE_REACHED, people_reached),
    ):
        if delta:
            upsert_increment(
                db.session,
                table,
                {"pledge_id": pledge_id, "dimension": FOLLOW, "key": key},
                "count",
                delta,
            )


def follow_through_of(signature_ids: Sequence[int]) -> tuple[int, int, int]:
    """What these signers' actions add to the follow-through figures (as ``recount`` counts):
    actions, confirmed actions, people reached."""
    return tuple(
        db.session.execute(
            select(
                func.count(Action.id),
                func.count(Action.id).filter(Action.review_state == ReviewState.CONFIRMED),
                func.coalesce(func.sum(Action.people_reached), 0),
            ).where(Action.signature_id.in_(signature_ids))
        ).one()
    )


def tally_for(pledge_id: int) -> Tally:
    today = utcnow().date().isoformat()
    rows = db.session.execute(
        select(PledgeTally.dimension, PledgeTally.key, PledgeTally.count).where(
            PledgeTally.pledge_id == pledge_id,
            PledgeTally.count > 0,
            # Activity that ended before today no longer counts (ISO dates sort as text).
            or_(PledgeTally.dimension != ACTIVE_UNTIL, PledgeTally.key >= today),
        )
    )
    tally = Tally()
    for dimension, key, count in rows:
        if dimension == TOTAL:
            tally.total = count
        elif dimension == ROLE:
            tally.by_role[key] = count
        elif dimension == COUNTRY:
            tally.by_country[key] = count
        elif dimension == FOLLOW:
            setattr(tally, key, count)
        elif dimension == ACTIVE_UNTIL:
            tally.active_signers += count
    tally.by_country = dict(sorted(tally.by_country.items(), key=lambda kv: (-kv[1], kv[0])))
    return tally


def totals_for(pledge_ids: list[int]) -> dict[int, int]:
    if not pledge_ids:
        return {}
    rows = db.session.execute(
        select(PledgeTally.pledge_id, PledgeTally.count).where(
            PledgeTally.pledge_id.in_(pledge_ids), PledgeTally.dimension == TOTAL
        )
    )
    return {pledge_id: count for pledge_id, count in rows}


def recount(pledge_id: int) -> Tally:
    """Rebuild a pledge's counters from the signatures (after bulk loads, or to repair)."""
    db.session.execute(delete(PledgeTally).where(PledgeTally.pledge_id == pledge_id))
    confirmed = (Signature.pledge_id == pledge_id) & (Signature.status == SignatureStatus.CONFIRMED)
    rows: list[dict] = []
    total = db.session.scalar(select(func.count()).select_from(Signature).where(confirmed)) or 0
    rows.append({"pledge_id": pledge_id, "dimension": TOTAL, "key": "", "count": total})
    for dimension, column in ((ROLE, Signature.role), (COUNTRY, Signature.country)):
        for key, count in db.session.execute(
            select(column, func.count()).where(confirmed).group_by(column)
        ):
            rows.append(
                {"pledge_id": pledge_id, "dimension": dimension, "key": key, "count": count}
            )
    rows += _follow_through_rows(pledge_id, confirmed)
    db.session.execute(PledgeTally.__table__.insert(), rows)
    return tally_for(pledge_id)


def _follow_through_rows(pledge_id: int, confirmed) -> list[dict]:
    actions, confirmed_actions, people = db.session.execute(
        select(
            func.count(Action.id),
            func.count(Action.id).filter(Action.review_state == ReviewState.CONFIRMED),
            func.coalesce(func.sum(Action.people_reached), 0),
        )
        .join(Signature, Signature.id == Action.signature_id)
        .where(confirmed)
    ).one()
    rows = [
        {"pledge_id": pledge_id, "dimension": FOLLOW, "key": key, "count": count}
        for key, count in (
            (ACTIONS, actions),
            (CONFIRMED_ACTIONS, confirmed_actions),
            (PEOPLE_REACHED, people),
        )
        if count
    ]
    # Grouped by day in SQL (stored as naive UTC, so the day is the UTC day): a million
    # signers' stamps are never read into Python. SQLite's date() gives text, PostgreSQL's
    # a date.
    day = func.date(Signature.active_until)
    rows += [
        {
            "pledge_id": pledge_id,
            "dimension": ACTIVE_UNTIL,
            "key": key if isinstance(key, str) else key.isoformat(),
            "count": count,
        }
        for key, count in db.session.execute(
            select(day, func.count())
            .where(confirmed, Signature.active_until.is_not(None))
            .group_by(day)
        )
    ]
    return rows


def signers_who_acted(pledge_ids: Sequence[int]) -> dict[int, int]:
    """Per pledge, how many signers on the wall have logged at least one action (ever)."""
    if not pledge_ids:
        return {}
    rows = db.session.execute(
        select(Signature.pledge_id, func.count(func.distinct(Action.signature_id)))
        .join(Signature, Signature.id == Action.signature_id)
        .where(
            Signature.pledge_id.in_(list(pledge_ids)),
            Signature.status == SignatureStatus.CONFIRMED,
        )
        .group_by(Signature.pledge_id)
    )
    return {pledge_id: count for pledge_id, count in rows}


def tallies_for(pledge_ids: Sequence[int]) -> dict[int, Tally]:
    """``tally_for`` of several pledges at once (one query), for lists of pledges."""
    today = utcnow().date().isoformat()
    tallies = {pledge_id: Tally() for pledge_id in pledge_ids}
    if not tallies:
        return tallies
    rows = db.session.execute(
        select(
            PledgeTally.pledge_id, PledgeTally.dimension, PledgeTally.key, PledgeTally.count
        ).where(
            PledgeTally.pledge_id.in_(list(tallies)),
            PledgeTally.count > 0,
            PledgeTally.dimension.in_((TOTAL, FOLLOW, ACTIVE_UNTIL)),
            or_(PledgeTally.dimension != ACTIVE_UNTIL, PledgeTally.key >= today),
        )
    )
    for pledge_id, dimension, key, count in rows:
        tally = tallies[pledge_id]
        if dimension == TOTAL:
            tally.total = count
        elif dimension == FOLLOW:
            setattr(tally, key, count)
        else:
            tally.active_signers += count
    return tallies
