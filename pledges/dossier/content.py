"""What a dossier says, and in which order, for each audience; and the signers to list.

Everything about a signer comes through ``presentation.public_signer``: the dossier names
people exactly as the wall does ("Anonymous ally, Kenya"), and never holds an email
address, an IP hash or a private action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import flask_babel
from flask_babel import gettext, lazy_gettext
from sqlalchemy import func, select

from pledges.domain.countries import country_name
from pledges.domain.signers import UNNAMED, crowded_countries, publicly_shown
from pledges.domain.tallies import Tally
from pledges.extensions import db
from pledges.models import DossierAudience, Pledge, Signature, SignatureStatus
from pledges.presentation import charts
from pledges.presentation.display import (
    ANONYMOUS_NAME,
    PUBLIC_SIGNER_COLUMNS,
    PUBLIC_SIGNER_FIELDS,
    ROLE_LABELS,
    PublicCount,
    PublicSigner,
    min_public_count,
    public_counts,
    public_signer,
)
from pledges.wall.service import PublicAction, public_actions


@dataclass(frozen=True)
class Audience:
    """How the dossier addresses one audience: its cover, and its sections in order."""

    label: str  # all three are lazy strings, shown in the reader's language
    eyebrow: str
    lede: str  # %-formatted with the figures: total, countries, actions, ...
    sections: tuple[str, ...]
    actions: int  # how many public actions to show
    quotes: int  # how many signers' own words to quote
    lists_signers: bool


AUDIENCES: dict[str, Audience] = {
    DossierAudience.OFFICIALS: Audience(
        label=lazy_gettext("Officials"),
        eyebrow=lazy_gettext("Dossier for officials and decision-makers"),
        lede=lazy_gettext(
            "%(total)s people in %(countries)s countries have put these commitments in writing. "
            "They ask the institutions they deal with to make the same commitments, and to "
            "hold them to theirs."
        ),
        sections=("commitments", "figures", "charts", "actions", "signers"),
        actions=5,
        quotes=0,
        lists_signers=True,
    ),
    DossierAudience.FUNDERS: Audience(
        label=lazy_gettext("Funders"),
        eyebrow=lazy_gettext("Follow-through report for funders"),
        lede=lazy_gettext(
            "%(total)s allies signed; since then they have logged %(actions)s actions, "
            "%(confirmed_actions)s of them confirmed by an accountability partner, reaching "
            "%(people_reached)s people. Signers check in every %(cadence)s days."
        ),
        sections=("follow_through", "figures", "charts", "actions", "commitments", "signers"),
        actions=8,
        quotes=0,
        lists_signers=True,
    ),
    DossierAudience.MEDIA: Audience(
        label=lazy_gettext("Media"),
        eyebrow=lazy_gettext("Press dossier"),
        lede=lazy_gettext(
            "%(total)s men and women in %(countries)s countries have signed a public pledge to "
            "work as allies for gender-sensitive peace, and report what they do about it."
        ),
        sections=("figures", "quotes", "charts", "actions", "commitments"),
        actions=3,
        quotes=6,
        lists_signers=False,
    ),
}


def audience_profile(audience: str) -> Audience:
    return AUDIENCES[DossierAudience(audience)]


def cover_lede(audience: Audience, pledge: Pledge, tally: Tally) -> str:
    number = flask_babel.format_number
    return str(audience.lede) % {
        "total": number(tally.total),
        "countries": number(len(tally.by_country)),
        "actions": number(tally.actions),
        "confirmed_actions": number(tally.confirmed_actions),
        "people_reached": number(tally.people_reached),
        "cadence": pledge.checkin_cadence_days,
    }


def listed_signatures(pledge: Pledge, as_of: datetime):
    """The signatures a dossier issued at ``as_of`` shows: those the public pages show then
    (confirmed, published by then as the signer chose, not self-hidden)."""
    return (Signature.pledge_id == pledge.id, publicly_shown(as_of))


def counted_signatures(pledge: Pledge, as_of: datetime):
    """The signatures the figures count at ``as_of``: every confirmed one, whenever the
    signer chose to be shown (counts include them at once)."""
    return (
        Signature.pledge_id == pledge.id,
        Signature.status == SignatureStatus.CONFIRMED,
        Signature.confirmed_at <= as_of,
    )


def quotes(pledge: Pledge, as_of: datetime, limit: int) -> list[PublicSigner]:
    """The latest signers' notes, which the wall shows beside their name, as it shows them."""
    if limit <= 0:
        return []
    rows = db.session.scalars(
        select(Signature)
        .options(PUBLIC_SIGNER_COLUMNS)
        .where(
            *listed_signatures(pledge, as_of),
            Signature.personal_note != "",
            Signature.appearance_reset_at.is_(None),
        )
        .order_by(Signature.public_since.desc(), Signature.public_id.desc())
        .limit(limit)
    )
    crowded = crowded_countries(pledge.id, min_public_count(), as_of)
    return [public_signer(s, crowded) for s in rows]


def selected_actions(pledge: Pledge, limit: int) -> list[PublicAction]:
    """Public actions of signatures that stand, newest first, exactly as the wall shows them."""
    return public_actions(pledge, limit).actions if limit > 0 else []


def signatures_by_week(pledge: Pledge, as_of: datetime) -> list[tuple[date, int]]:
    """Cumulative confirmed signatures at the end of each week (weeks start on Monday).

    Counted by day in SQL (a row per day, not per signature: a million signers' stamps
    took half a dossier's build), then the days folded into weeks here. Stored as naive
    UTC, so the day is the UTC day; SQLite's date() gives text, PostgreSQL's a date.
    """
    day = func.date(Signature.confirmed_at)
    weeks: dict[date, int] = {}
    for value, count in db.session.execute(
        select(day, func.count()).where(*counted_signatures(pledge, as_of)).group_by(day)
    ):
        stamp = date.fromisoformat(value) if isinstance(value, str) else value
        monday = stamp - timedelta(days=stamp.weekday())
        weeks[monday] = weeks.get(monday, 0) + count
    running, points = 0, []
    for monday in sorted(weeks):
        running += weeks[monday]
        points.append((monday, running))
    return points


@dataclass(frozen=True)
class Chart:
    name: str  # a file name: "countries.svg"
    title: str
    svg: str


TOP_COUNTRIES = 12


def dossier_charts(pledge: Pledge, tally: Tally, as_of: datetime) -> list[Chart]:
    weeks = signatures_by_week(pledge, as_of)
    # Small-count protection: a chart draws exact figures only, so cells under
    # MIN_PUBLIC_COUNT are left out of it (the tables say "fewer than N").
    countries = [(c.key, c.count) for c in public_counts(tally.by_country) if c.count][
        :TOP_COUNTRIES
    ]
    roles = [
        (ROLE_LABELS.get(c.key, c.key), c.count)
        for c in public_counts(tally.by_role, sorted(tally.by_role))
        if c.count
    ]
    over_time = gettext("Confirmed signatures over time")
    by_country = gettext("Signatures by country")
    by_role = gettext("Signatures by ally role")
    return [
        Chart(
            "over-time.svg",
            over_time,
            charts.line_chart(
                over_time,
                [flask_babel.format_date(monday, "d MMM") for monday, _ in weeks],
                [count for _, count in weeks],
            ),
        ),
        Chart(
            "countries.svg",
            by_country,
            charts.bar_chart(
                by_country,
                [country_name(code) for code, _ in countries],
                [count for _, count in countries],
                horizontal=True,
            ),
        ),
        Chart(
            "roles.svg",
            by_role,
            charts.bar_chart(
                by_role,
                [label for label, _ in roles],
                [count for _, count in roles],
            ),
        ),
    ]


@dataclass
class CountryRun:
    """One country's signers within one part of the list."""

    code: str  # "": the unnamed signers whose country is not shown
    name: str
    total: int | None  # the group's signers in the whole list; None: fewer than the minimum
    continued: bool = False  # the country began in an earlier part
    #: In order of publication, each as the wall shows them; an anonymous one is
    #: "Anonymous ally, <country>", one entry per person, never a name.
    signers: list[PublicSigner] = field(default_factory=list)
    minimum: int = 0


def _signer_groups(pledge: Pledge, as_of: datetime) -> list[tuple[str, str, tuple]]:
    """(code, heading, condition) of each group of the list: a country's signers, with
    its unnamed ones only where they are enough to show it; then, under "Country not
    shown", the unnamed signers of the other countries, as the wall shows them."""
    crowded = crowded_countries(pledge.id, min_public_count(), as_of)
    codes = db.session.scalars(
        select(Signature.country).where(*listed_signatures(pledge, as_of)).distinct()
    ).all()
    groups = []
    for code in sorted(codes, key=lambda code: (country_name(code).casefold(), code)):
        condition: tuple = (Signature.country == code,)
        if code not in crowded:
            condition += (Signature.visibility.not_in(UNNAMED),)
        groups.append((code, country_name(code), condition))
    hidden = (Signature.visibility.in_(UNNAMED), Signature.country.not_in(crowded))
    groups.append(("", gettext("Country not shown"), hidden))
    return groups


Cutoff = tuple[datetime, str]  # (public_since, public_id) of the first signer not named


def listing_cutoff(pledge: Pledge, as_of: datetime, limit: int) -> Cutoff | None:
    """Where the dossier's list of names stops: at the first signer, in order of
    publication, past the first ``limit`` (the first to sign are named); None when every
    signer fits. One step along the wall's index, however many signed."""
    row = db.session.execute(
        select(Signature.public_since, Signature.public_id)
        .where(*listed_signatures(pledge, as_of))
        .order_by(Signature.public_since, Signature.public_id)
        .offset(limit)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def before_cutoff(cutoff: Cutoff | None) -> tuple:
    """The condition for the signers named (all of them without a cutoff)."""
    if cutoff is None:
        return ()
    since, public_id = cutoff
    return (
        (Signature.public_since < since)
        | ((Signature.public_since == since) & (Signature.public_id < public_id)),
    )


def from_cutoff(cutoff: Cutoff) -> tuple:
    """The condition for the signers summarised by country."""
    since, public_id = cutoff
    return (
        (Signature.public_since > since)
        | ((Signature.public_since == since) & (Signature.public_id >= public_id)),
    )


def further_by_country(pledge: Pledge, as_of: datetime, cutoff: Cutoff) -> list[PublicCount]:
    """The signers past the list of names, counted by country, largest first, with the
    small-count protection of every public breakdown (cells under MIN_PUBLIC_COUNT read
    "fewer than N", and one more is withheld where a single one could be worked out)."""
    counts = dict(
        db.session.execute(
            select(Signature.country, func.count())
            .where(*listed_signatures(pledge, as_of), *from_cutoff(cutoff))
            .group_by(Signature.country)
        ).all()
    )
    return public_counts(counts)


def signer_parts(
    pledge: Pledge, as_of: datetime, part_size: int, cutoff: Cutoff | None = None
) -> Iterator[list[CountryRun]]:
    """The signer list in parts of at most ``part_size`` signers, country by country
    (alphabetical), in order of publication within a country; with a ``cutoff``, only the
    signers before it (listing_cutoff).

    Each part is read with its own keyset query on the wall's country index, so only one
    part's rows are ever in memory, however long the list.
    """
    listed = (*listed_signatures(pledge, as_of), *before_cutoff(cutoff))
    minimum = min_public_count()
    crowded = crowded_countries(pledge.id, minimum, as_of)
    part: list[CountryRun] = []
    room = part_size
    for code, name, condition in _signer_groups(pledge, as_of):
        total = db.session.scalar(select(func.count()).where(*listed, *condition))
        if not total:
            continue
        cursor: tuple[datetime, str] | None = None
        shown_total = None if 0 < total < minimum else total
        run = CountryRun(code, name, shown_total, minimum=minimum)
        while True:
            # Plain rows, not ORM objects (a third of the time for nothing): they carry
            # the attributes public_signer reads, and only those.
            query = (
                select(*PUBLIC_SIGNER_FIELDS)
                .where(*listed, *condition)
                .order_by(Signature.public_since, Signature.public_id)
                .limit(room + 1)
            )
            if cursor is not None:
                query = query.where(
                    (Signature.public_since > cursor[0])
                    | ((Signature.public_since == cursor[0]) & (Signature.public_id > cursor[1]))
                )
            rows = db.session.execute(query).all()
            more = len(rows) > room
            rows = rows[:room]
            for signature in rows:
                signer = public_signer(signature, crowded)  # type: ignore[arg-type] - a Row alike
                if signer.name == ANONYMOUS_NAME:
                    signer = replace(signer, name=signer.label)  # "Anonymous ally, Kenya"
                run.signers.append(signer)
            if rows:
                cursor = (rows[-1].public_since, rows[-1].public_id)
            room -= len(rows)
            if not more:
                part.append(run)
                break
            part.append(run)
            yield part
            part, room = [], part_size
            run = CountryRun(code, run.name, run.total, continued=True, minimum=minimum)
        if room == 0:
            yield part
            part, room = [], part_size
    if part:
        yield part


def count_parts(total: int, part_size: int) -> int:
    return max(1, -(-total // part_size))


ProgressCallback = Callable[[int, int], object]
