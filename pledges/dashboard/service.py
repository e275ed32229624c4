"""The figures on a pledge's dashboard, each read with one query or from the tallies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext
from sqlalchemy import func, select

from pledges.domain.countries import country_name
from pledges.domain.tallies import signers_who_acted, tally_for
from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import AllyRole, Pledge, Report, Signature, SignatureStatus
from pledges.presentation import charts
from pledges.presentation.display import ROLE_LABELS, Labels

#: The per-day chart covers at most this many days, ending today (or the day it closed).
DAYS = 90
#: Countries shown by name; the rest are added up as "Other countries".
TOP_COUNTRIES = 15
OTHER_COUNTRIES = lazy_gettext("Other countries")

STATUS_LABELS = Labels(
    {
        SignatureStatus.PENDING: lazy_gettext("Waiting for email confirmation"),
        SignatureStatus.HELD: lazy_gettext("Confirmed, held for moderation"),
        SignatureStatus.CONFIRMED: lazy_gettext("Confirmed, on the wall"),
        SignatureStatus.HIDDEN: lazy_gettext("Hidden by moderators"),
        SignatureStatus.WITHDRAWN: lazy_gettext("Withdrawn by the signer"),
    }
)


@dataclass(frozen=True)
class Row:
    """One line of a chart's table: what it counts, and how many."""

    label: str
    count: int


@dataclass(frozen=True)
class Confirmation:
    by_status: list[Row]
    signed: int  # everyone who signed and has not withdrawn
    confirmed: int  # of those, everyone who clicked the link in their email

    @property
    def rate(self) -> float | None:
        return self.confirmed / self.signed if self.signed else None


@dataclass(frozen=True)
class Backlog:
    unreviewed: int  # confirmed or held signatures no moderator has looked at
    held: int  # of those, waiting for approval before they show on the wall
    open_reports: int

    @property
    def empty(self) -> bool:
        return not (self.unreviewed or self.open_reports)


@dataclass(frozen=True)
class FollowThrough:
    """What the signers on the wall did after signing."""

    signers: int  # on the wall
    acted: int  # of those, who logged at least one action
    active: int  # of those, who logged one in their current cycle
    actions: int
    confirmed_actions: int  # of those, confirmed by an accountability partner
    people_reached: int


def follow_through(pledge: Pledge) -> FollowThrough:
    """The follow-through figures: the counters kept by the one door for changes, and one
    count of the signers who have ever logged an action."""
    tally = tally_for(pledge.id)
    return FollowThrough(
        signers=tally.total,
        acted=signers_who_acted([pledge.id]).get(pledge.id, 0),
        active=tally.active_signers,
        actions=tally.actions,
        confirmed_actions=tally.confirmed_actions,
        people_reached=tally.people_reached,
    )


def day_range(pledge: Pledge, today: date | None = None) -> tuple[date, date]:
    """First and last day of the per-day chart: the last DAYS days, or since opening."""
    end = today or utcnow().date()
    if pledge.closed_at is not None and pledge.closed_at.date() < end:
        end = pledge.closed_at.date()
    start = end - timedelta(days=DAYS - 1)
    opened = pledge.opened_at or pledge.created_at
    if opened is not None and opened.date() > start:
        start = min(opened.date(), end)
    return start, end


def signatures_per_day(pledge: Pledge, today: date | None = None) -> list[Row]:
    """Signatures now on the wall, by the UTC day they were confirmed; days without are 0.

    One GROUP BY over the wall index (pledge, status, confirmed_at): ``date()`` of a naive
    UTC timestamp is its UTC day on SQLite (as text) and PostgreSQL (as a date) alike.
    """
    start, end = day_range(pledge, today)
    day = func.date(Signature.confirmed_at)
    rows = db.session.execute(
        select(day, func.count())
        .where(
            Signature.pledge_id == pledge.id,
            Signature.status == SignatureStatus.CONFIRMED,
            Signature.confirmed_at >= datetime.combine(start, time.min, UTC),
            Signature.confirmed_at < datetime.combine(end + timedelta(days=1), time.min, UTC),
        )
        .group_by(day)
    )
    counts = {str(value)[:10]: count for value, count in rows}
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [Row(d.isoformat(), counts.get(d.isoformat(), 0)) for d in days]


def confirmation(pledge: Pledge) -> Confirmation:
    """Every signature by status, and the share of signers who confirmed their address.

    Withdrawn signers are left out of both sides of the rate: they took their signature
    back, confirmed or not. Held and hidden signatures were confirmed by email and count.
    """
    counts = dict(
        db.session.execute(
            select(Signature.status, func.count())
            .where(Signature.pledge_id == pledge.id)
            .group_by(Signature.status)
        ).all()
    )
    by_status = [Row(STATUS_LABELS[s], counts.get(s.value, 0)) for s in SignatureStatus]
    signed = sum(n for status, n in counts.items() if status != SignatureStatus.WITHDRAWN)
    confirmed = sum(
        counts.get(s.value, 0)
        for s in (SignatureStatus.HELD, SignatureStatus.CONFIRMED, SignatureStatus.HIDDEN)
    )
    return Confirmation(by_status=by_status, signed=signed, confirmed=confirmed)


def by_country(pledge: Pledge) -> list[Row]:
    """Confirmed signatures per country, most first: TOP_COUNTRIES by name, then the rest."""
    counts = tally_for(pledge.id).by_country  # already sorted, most first
    rows = [Row(country_name(code), n) for code, n in list(counts.items())[:TOP_COUNTRIES]]
    rest = sum(list(counts.values())[TOP_COUNTRIES:])
    if rest:
        rows.append(Row(str(OTHER_COUNTRIES), rest))
    return rows


def by_role(pledge: Pledge) -> list[Row]:
    """Confirmed signatures per ally role, every role listed even at 0."""
    counts = tally_for(pledge.id).by_role
    return [Row(ROLE_LABELS[role], counts.get(role.value, 0)) for role in AllyRole]


def backlog(pledge: Pledge) -> Backlog:
    unreviewed, held = db.session.execute(
        select(
            func.count(),
            func.count().filter(Signature.status == SignatureStatus.HELD),
        ).where(
            Signature.pledge_id == pledge.id,
            Signature.reviewed_at.is_(None),
            Signature.status.in_((SignatureStatus.CONFIRMED, SignatureStatus.HELD)),
        )
    ).one()
    open_reports = db.session.scalar(
        select(func.count())
        .select_from(Report)
        .where(Report.pledge_id == pledge.id, Report.resolved_at.is_(None))
    )
    return Backlog(unreviewed=unreviewed, held=held, open_reports=open_reports or 0)


# The charts, by the name in their URL: (alt text and title, rows, how to draw them).
CHARTS = {
    "per-day": (lazy_gettext("Signatures per day"), signatures_per_day, "line"),
    "countries": (lazy_gettext("Signatures by country"), by_country, "horizontal"),
    "roles": (lazy_gettext("Signatures by ally role"), by_role, "bar"),
    "statuses": (
        lazy_gettext("All signatures by status"),
        lambda p: confirmation(p).by_status,
        "horizontal",
    ),
}


def chart_svg(pledge: Pledge, name: str) -> str | None:
    """The SVG of chart ``name`` for ``pledge``, or None if there is no such chart."""
    if name not in CHARTS:
        return None
    lazy_title, rows_for, kind = CHARTS[name]
    title = str(lazy_title)
    rows = rows_for(pledge)
    labels, values = [r.label for r in rows], [r.count for r in rows]
    if kind == "line":
        return charts.line_chart(title, labels, values)
    return charts.bar_chart(title, labels, values, horizontal=kind == "horizontal")
