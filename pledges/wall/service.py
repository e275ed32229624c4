"""Reading the public wall: public pledges, and confirmed signatures page by page.

Pages are keyset-paginated on (public_since, public_id), newest first: a link to "older"
keeps showing the same people however many sign in the meantime, and a deep page costs
what the first one does. Only what the public may see is read (``publicly_shown``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import abort, current_app
from flask_babel import gettext
from sqlalchemy import Select, bindparam, func, select, text
from sqlalchemy.orm import contains_eager, joinedload

from pledges.domain.countries import is_country
from pledges.domain.signers import UNNAMED, action_shown_publicly, publicly_shown
from pledges.domain.tallies import totals_for
from pledges.extensions import db
from pledges.infrastructure.converters import positive_int
from pledges.infrastructure.database import estimated_rows, read_row, utcnow
from pledges.models import (
    Action,
    ActionVisibility,
    AllyRole,
    Pledge,
    PledgeStatus,
    ReviewState,
    Signature,
    Visibility,
)
from pledges.presentation.display import (
    PUBLIC_SIGNER_COLUMNS,
    PublicSigner,
    crowded_countries,
    public_signer,
)


class BadWallQuery(ValueError):
    """A filter or cursor that cannot be read; the message says which."""


#: What a public id looks like (``secrets.token_urlsafe``).
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")


def _bad_cursor() -> BadWallQuery:
    return BadWallQuery(gettext("That page link is not valid; start again from the newest."))


@dataclass(frozen=True)
class Cursor:
    """A place on the wall: the day an entry became public and its public id, written
    "2026-03-02.<public id>". No database id and no time of day, so a page link says
    nothing an entry does not show, and dies with the entry's public id."""

    day: date
    public_id: str

    def encode(self) -> str:
        return f"{self.day.isoformat()}.{self.public_id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        day, _, public_id = raw.partition(".")
        if not PUBLIC_ID.fullmatch(public_id) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise _bad_cursor()
        try:
            return cls(date.fromisoformat(day), public_id)
        except ValueError:
            raise _bad_cursor() from None

    @property
    def at(self) -> datetime:
        return datetime(self.day.year, self.day.month, self.day.day, tzinfo=UTC)

    @classmethod
    def of(cls, signer: PublicSigner) -> Cursor:
        assert signer.since is not None
        return cls(signer.since, signer.public_id)


@dataclass(frozen=True)
class ActionCursor:
    """How many public actions the pages before this one showed. Actions have no public
    id of their own; a count says nothing about any of them."""

    offset: int

    def encode(self) -> str:
        return str(self.offset)

    @classmethod
    def decode(cls, raw: str) -> ActionCursor:
        offset = positive_int(raw)
        if offset is None:
            raise _bad_cursor()
        return cls(offset)


@dataclass(frozen=True)
class WallFilters:
    country: str | None = None
    role: str | None = None

    @classmethod
    def parse(cls, country: str | None, role: str | None) -> WallFilters:
        country = (country or "").upper() or None
        role = role or None
        if country is not None and not is_country(country):
            raise BadWallQuery(gettext("“%(code)s” is not a country code we know.", code=country))
        if role is not None and role not in {r.value for r in AllyRole}:
            raise BadWallQuery(gettext("“%(role)s” is not an ally role.", role=role))
        return cls(country, role)

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in (("country", self.country), ("role", self.role)) if v}

    @property
    def active(self) -> bool:
        return bool(self.country or self.role)

    def conditions(self, crowded: frozenset[str]) -> list:
        """The SQL conditions on ``Signature`` for "this entry matches": a filter only
        ever matches what the entries show. The role filter only signers who show their
        role; the country filter only signers whose entry shows that country (an unnamed
        one only where enough unnamed signers share it: ``crowded``)."""
        conditions = []
        if self.country:
            conditions.append(Signature.country == self.country)
            if self.country not in crowded:
                conditions.append(Signature.visibility.not_in(UNNAMED))
        if self.role:
            conditions += [Signature.role == self.role, Signature.show_role.is_(True)]
        return conditions


@dataclass(frozen=True)
class WallPage:
    signers: list[PublicSigner]
    older: Cursor | None  # cursor for the next page (older signatures), if any
    newer: Cursor | None  # cursor for the previous page (newer signatures), if any
    total: int = 0  # entries matching the filters, on every page
    offset: int = 0  # entries matching the filters that come before this page
    #: True where the total (and so the place) is PostgreSQL's estimate, rounded: past
    #: EXACT_COUNT_UPTO entries a count would read them all (a million on a viral pledge).
    approximate: bool = False

    @property
    def first(self) -> int:
        """The place of this page's first entry (1 for the newest)."""
        return self.offset + 1

    @property
    def last(self) -> int:
        return self.offset + len(self.signers)


# Read on every wall hit and every 304, straight on the driver (database.read_row). Its
# statuses are PledgeStatus.public(), as in Pledge.is_public (tests/test_wall_cache.py).
_PLEDGE_REF_SQL = text(
    "SELECT id, wall_version, created_at FROM pledges "
    "WHERE slug = :slug AND status IN ('open', 'closed')"
)


@dataclass(frozen=True)
class PledgeRef:
    id: int
    wall_version: int
    #: When the pledge row was made, as the database hands it back (text on SQLite): only
    #: ever compared with itself.
    created_at: object

    @property
    def cache_stamp(self) -> str:
        # created_at too, so a database restored or recreated under a shared cache (ids and
        # versions starting over) never meets pages cached from the old one. And today's
        # UTC date: entries whose publication day comes are shown from 00:00 UTC, with no
        # change to the pledge that would bump its version.
        created = str(self.created_at).replace(" ", "T")
        return f"{self.id}.{self.wall_version}.{created}.{utcnow().date().isoformat()}"


def public_pledge_ref_or_404(slug: str) -> PledgeRef:
    """Just enough of a public pledge to find its cached wall: one indexed row, read
    outside a transaction (on PostgreSQL no BEGIN and ROLLBACK round trips around it)."""
    row = read_row(_PLEDGE_REF_SQL, {"slug": slug})
    if row is None:
        abort(404)
    return PledgeRef(*row)


@functools.cache
def _public_pledge_query(*, with_commitments: bool) -> Select:
    """Built once: composing it (the slug comparison, ``is_public``'s expression, the eager
    load) and keying it for SQLAlchemy's cache cost as much again as running it."""
    query = select(Pledge).where(Pledge.slug == bindparam("slug"), Pledge.is_public)
    return query.options(joinedload(Pledge.commitments)) if with_commitments else query


def public_pledge_or_404(slug: str, *, with_commitments: bool = False) -> Pledge:
    """The public pledge at ``slug``; ``with_commitments``: its commitments read in the same
    statement, for a view that shows or checks them all (the sign form), where loading them
    on first use was a second query."""
    query = _public_pledge_query(with_commitments=with_commitments)
    pledge = db.session.execute(query, {"slug": slug}).unique().scalar_one_or_none()
    if pledge is None:
        abort(404)
    return pledge


def open_pledges() -> list[tuple[Pledge, int]]:
    pledges = db.session.scalars(
        select(Pledge)
        .where(Pledge.status == PledgeStatus.OPEN)
        .order_by(Pledge.opened_at.desc(), Pledge.id.desc())
    ).all()
    totals = totals_for([p.id for p in pledges])
    return [(p, totals.get(p.id, 0)) for p in pledges]


def public_pledges(limit: int, after_id: int | None = None) -> list[Pledge]:
    query = select(Pledge).where(Pledge.is_public).order_by(Pledge.id)
    if after_id is not None:
        query = query.where(Pledge.id > after_id)
    return list(db.session.scalars(query.limit(limit)))


def wall_page(
    pledge: Pledge,
    limit: int,
    filters: WallFilters = WallFilters(),
    before: Cursor | None = None,
    after: Cursor | None = None,
    counts: bool = True,
) -> WallPage:
    """One page of the signatures shown publicly, newest publication day first.

    ``before`` pages towards older entries, ``after`` back towards newer ones. A filter
    only ever matches what the entries show: the role filter only signers who show their
    role, the country filter only signers whose entry shows that country. ``counts``: also
    the total and the page's place (the API's pages need neither).
    """
    crowded = crowded_countries(pledge.id)
    matching = [Signature.pledge_id == pledge.id, publicly_shown(), *filters.conditions(crowded)]
    query = select(Signature).options(PUBLIC_SIGNER_COLUMNS).where(*matching)

    if after is not None:
        rows = list(
            db.session.scalars(
                query.where(_after(after))
                .order_by(Signature.public_since.asc(), Signature.public_id.asc())
                .limit(limit + 1)
            )
        )
        has_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        has_older = True
    else:
        if before is not None:
            query = query.where(_before(before))
        rows = list(
            db.session.scalars(
                query.order_by(Signature.public_since.desc(), Signature.public_id.desc()).limit(
                    limit + 1
                )
            )
        )
        has_older = len(rows) > limit
        rows = rows[:limit]
        has_newer = before is not None
    signers = [public_signer(s, crowded) for s in rows]
    total = offset = 0
    approximate = False
    if counts:
        total, approximate = _count(matching)
        # Where the page starts: a count of the entries newer than its first one, on the
        # same index as the page itself, so a deep page costs no OFFSET scan.
        if has_newer and signers:
            offset, newer_approximate = _count([*matching, _after(Cursor.of(signers[0]))])
            approximate = approximate or newer_approximate
            if approximate:  # estimates: keep the page inside the total
                offset = max(0, min(offset, total - len(signers)))
    return WallPage(
        signers=signers,
        older=Cursor.of(signers[-1]) if signers and has_older else None,
        newer=Cursor.of(signers[0]) if signers and has_newer else None,
        total=total,
        offset=offset,
        approximate=approximate,
    )


#: Counts on the wall are exact up to here; past it, on PostgreSQL, the planner's estimate
#: (rounded, shown as "about"), so no page view reads more than this many index entries.
EXACT_COUNT_UPTO = 10_000


def _count(conditions: list) -> tuple[int, bool]:
    """How many entries match, and whether that is an estimate (see EXACT_COUNT_UPTO)."""
    capped = db.session.scalar(
        select(func.count()).select_from(
            select(Signature.id).where(*conditions).limit(EXACT_COUNT_UPTO + 1).subquery()
        )
    )
    if capped <= EXACT_COUNT_UPTO:
        return capped, False
    estimate = estimated_rows(db.session, select(Signature.id).where(*conditions))
    if estimate is None:  # SQLite: no estimate to be had, so count them all
        count = select(func.count()).select_from(Signature).where(*conditions)
        return db.session.scalar(count) or 0, False
    return max(_round(estimate), capped), True


def _round(number: int) -> int:
    """To three significant figures: an estimate does not pretend to more."""
    scale = 10 ** max(len(str(number)) - 3, 0)
    return round(number / scale) * scale


def _before(cursor: Cursor):
    # The first term bounds the index range (an OR alone makes PostgreSQL read every newer
    # entry before the cursor's: half a second at a depth of 900,000).
    return (Signature.public_since <= cursor.at) & (
        (Signature.public_since < cursor.at) | (Signature.public_id < cursor.public_id)
    )


def _after(cursor: Cursor):
    return (Signature.public_since >= cursor.at) & (
        (Signature.public_since > cursor.at) | (Signature.public_id > cursor.public_id)
    )


@dataclass(frozen=True)
class PublicAction:
    signer: PublicSigner
    kind: str
    done_on: date
    description: str
    people_reached: int | None
    evidence_url: str | None
    logged_on: date  # the UTC day it was logged: no time of day in public
    # A stable reference for feeds, tied to the signer's public id: it changes with it.
    public_ref: str
    confirmed_by_partner: bool
    partner_name: str | None  # only when the partner agreed to be shown


@dataclass(frozen=True)
class ActionPage:
    actions: list[PublicAction]
    older: ActionCursor | None


def public_actions(
    pledge: Pledge,
    limit: int,
    before: ActionCursor | None = None,
    filters: WallFilters = WallFilters(),
) -> ActionPage:
    """Public actions of the signers the public pages show now, newest logged first;
    with ``filters``, only those of the signers the wall shows for the same filters.

    The signer appears exactly as on the wall (their visibility choice), and a partner's
    name only if they agreed to be shown.
    """
    crowded = crowded_countries(pledge.id)
    query = (
        select(Action)
        .join(Signature, Signature.id == Action.signature_id)
        .options(
            contains_eager(Action.signature).options(PUBLIC_SIGNER_COLUMNS),
            joinedload(Action.reviewed_by),
        )
        .where(
            Action.pledge_id == pledge.id,
            Action.visibility == ActionVisibility.PUBLIC,
            publicly_shown(),
            action_shown_publicly(),
            *filters.conditions(crowded),
        )
    )
    offset = before.offset if before is not None else 0
    rows = list(
        db.session.scalars(
            query.order_by(Action.created_at.desc(), Action.id.desc())
            .offset(offset)
            .limit(limit + 1)
        ).unique()
    )
    page = rows[:limit]
    return ActionPage(
        actions=[_public_action(action, crowded) for action in page],
        older=ActionCursor(offset + limit) if len(rows) > limit else None,
    )


def _action_ref(action: Action) -> str:
    """A keyed hash of the action and its signer's public id: it names no database id and
    changes whenever the signer's public id does."""
    message = f"{action.id}:{action.signature.public_id}".encode()
    key = str(current_app.secret_key).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:22]


def _public_action(action: Action, crowded: frozenset[str]) -> PublicAction:
    confirmed = action.review_state == ReviewState.CONFIRMED
    partner = action.reviewed_by if confirmed else None
    return PublicAction(
        signer=public_signer(action.signature, crowded),
        kind=action.kind,
        done_on=action.done_on,
        description=action.description,
        people_reached=action.people_reached,
        evidence_url=action.evidence_url,
        logged_on=action.created_at.date(),
        public_ref=_action_ref(action),
        confirmed_by_partner=confirmed,
        # A named partner beside a signer who is not named in full would point at who the
        # signer is (their sister, their pastor...): there the partner stays unnamed too.
        partner_name=(
            partner.name
            if partner is not None
            and partner.show_name
            and action.signature.visibility == Visibility.FULL
            else None
        ),
    )
