"""Reading the public wall: public pledges, and confirmed signatures page by page.

Pages are keyset-paginated on (confirmed_at, id), newest first: a link to "older" keeps
showing the same people however many sign in the meantime, and a deep page costs what the
first one does.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import abort
from flask_babel import gettext
from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import contains_eager, joinedload

from pledges.domain.countries import is_country
from pledges.domain.tallies import totals_for
from pledges.extensions import db
from pledges.infrastructure.converters import positive_int
from pledges.models import (
    Action,
    ActionVisibility,
    AllyRole,
    Pledge,
    PledgeStatus,
    ReviewState,
    Signature,
    SignatureStatus,
    Visibility,
)
from pledges.presentation.display import PUBLIC_SIGNER_COLUMNS, PublicSigner, public_signer


class BadWallQuery(ValueError):
    """A filter or cursor that cannot be read; the message says which."""


@dataclass(frozen=True)
class Cursor:
    at: datetime  # the row's confirmed_at (signers) or created_at (actions)
    id: int

    def encode(self) -> str:
        micros = int(self.at.timestamp() * 1_000_000)
        return f"{micros}-{self.id}"

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        micros, _, ident = raw.partition("-")
        row_id = positive_int(ident)
        stamp = None
        if row_id is not None and micros.isascii() and micros.isdigit():
            with suppress(ValueError, OverflowError, OSError):
                stamp = datetime.fromtimestamp(int(micros) / 1_000_000, UTC)
        if stamp is None:
            raise BadWallQuery(gettext("That page link is not valid; start again from the newest."))
        return cls(stamp, row_id)

    @classmethod
    def of(cls, signature: Signature) -> Cursor:
        assert signature.confirmed_at is not None
        return cls(signature.confirmed_at, signature.id)

    @classmethod
    def of_action(cls, action: Action) -> Cursor:
        return cls(action.created_at, action.id)


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


@dataclass(frozen=True)
class WallPage:
    signers: list[PublicSigner]
    older: Cursor | None  # cursor for the next page (older signatures), if any
    newer: Cursor | None  # cursor for the previous page (newer signatures), if any


# Built once: composing the statement cost as much as running it on this hot path.
_PLEDGE_REF_QUERY = select(Pledge.id, Pledge.wall_version, Pledge.created_at).where(
    Pledge.slug == bindparam("slug"), Pledge.is_public
)


@dataclass(frozen=True)
class PledgeRef:
    id: int
    wall_version: int
    created_at: datetime

    @property
    def cache_stamp(self) -> str:
        # created_at too, so a database restored or recreated under a shared cache (ids and
        # versions starting over) never meets pages cached from the old one.
        return f"{self.id}.{self.wall_version}.{int(self.created_at.timestamp() * 1e6)}"


def public_pledge_ref_or_404(slug: str) -> PledgeRef:
    """Just enough of a public pledge to find its cached wall: one indexed row.

    A cached wall view makes only this query, so it runs outside a transaction: on
    PostgreSQL that saves the BEGIN and ROLLBACK round trips around it.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        row = connection.execute(_PLEDGE_REF_QUERY, {"slug": slug}).first()
    if row is None:
        abort(404)
    return PledgeRef(*row)


def public_pledge_or_404(slug: str) -> Pledge:
    pledge = db.session.scalar(select(Pledge).where(Pledge.slug == slug, Pledge.is_public))
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
) -> WallPage:
    """One page of confirmed signatures, newest first.

    ``before`` pages towards older signatures, ``after`` back towards newer ones.
    """
    key = tuple_(Signature.confirmed_at, Signature.id)
    query = (
        select(Signature)
        .options(PUBLIC_SIGNER_COLUMNS)
        .where(Signature.pledge_id == pledge.id, Signature.status == SignatureStatus.CONFIRMED)
    )
    if filters.country:
        query = query.where(Signature.country == filters.country)
    if filters.role:
        query = query.where(Signature.role == filters.role)

    if after is not None:
        rows = list(
            db.session.scalars(
                query.where(key > tuple_(after.at, after.id))
                .order_by(Signature.confirmed_at.asc(), Signature.id.asc())
                .limit(limit + 1)
            )
        )
        has_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        has_older = True
    else:
        if before is not None:
            query = query.where(key < tuple_(before.at, before.id))
        rows = list(
            db.session.scalars(
                query.order_by(Signature.confirmed_at.desc(), Signature.id.desc()).limit(limit + 1)
            )
        )
        has_older = len(rows) > limit
        rows = rows[:limit]
        has_newer = before is not None
    return WallPage(
        signers=[public_signer(s) for s in rows],
        older=Cursor.of(rows[-1]) if rows and has_older else None,
        newer=Cursor.of(rows[0]) if rows and has_newer else None,
    )


@dataclass(frozen=True)
class PublicAction:
    signer: PublicSigner
    kind: str
    done_on: date
    description: str
    people_reached: int | None
    evidence_url: str | None
    logged_at: datetime
    confirmed_by_partner: bool
    partner_name: str | None  # only when the partner agreed to be shown


@dataclass(frozen=True)
class ActionPage:
    actions: list[PublicAction]
    older: Cursor | None


def public_actions(pledge: Pledge, limit: int, before: Cursor | None = None) -> ActionPage:
    """Public actions of the pledge's confirmed signers, newest logged first.

    The signer appears exactly as on the wall (their visibility choice), and a partner's
    name only if they agreed to be shown.
    """
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
            Signature.status == SignatureStatus.CONFIRMED,
        )
    )
    if before is not None:
        query = query.where(tuple_(Action.created_at, Action.id) < tuple_(before.at, before.id))
    rows = list(
        db.session.scalars(
            query.order_by(Action.created_at.desc(), Action.id.desc()).limit(limit + 1)
        ).unique()
    )
    page = rows[:limit]
    return ActionPage(
        actions=[_public_action(action) for action in page],
        older=Cursor.of_action(page[-1]) if len(rows) > limit else None,
    )


def _public_action(action: Action) -> PublicAction:
    confirmed = action.review_state == ReviewState.CONFIRMED
    partner = action.reviewed_by if confirmed else None
    return PublicAction(
        signer=public_signer(action.signature),
        kind=action.kind,
        done_on=action.done_on,
        description=action.description,
        people_reached=action.people_reached,
        evidence_url=action.evidence_url,
        logged_at=action.created_at,
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
