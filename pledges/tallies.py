"""Counters of confirmed signatures per pledge, kept in step with every status change."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from pledges.database import upsert_increment
from pledges.extensions import db
from pledges.models import PledgeTally, Signature, SignatureStatus

TOTAL = "total"
ROLE = "role"
COUNTRY = "country"


@dataclass
class Tally:
    total: int = 0
    by_role: dict[str, int] = field(default_factory=dict)
    by_country: dict[str, int] = field(default_factory=dict)


def counts_on_wall(status: str) -> bool:
    return status == SignatureStatus.CONFIRMED


def record_status_change(signature: Signature, old_status: str, new_status: str) -> None:
    """Adjust the counters for ``signature`` moving from ``old_status`` to ``new_status``."""
    delta = int(counts_on_wall(new_status)) - int(counts_on_wall(old_status))
    if delta:
        _adjust(signature.pledge_id, signature.role, signature.country, delta)


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


def tally_for(pledge_id: int) -> Tally:
    rows = db.session.execute(
        select(PledgeTally.dimension, PledgeTally.key, PledgeTally.count).where(
            PledgeTally.pledge_id == pledge_id, PledgeTally.count > 0
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
    db.session.execute(PledgeTally.__table__.insert(), rows)
    return tally_for(pledge_id)
