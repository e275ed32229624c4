"""Ally organizations: their records, and what their public page shows.

The page lists a member only as the wall would show them, and only members who chose to
be shown with their organization: full name, or "a member of …". Never an email.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pledges.domain import transitions
from pledges.domain.rules import RuleError
from pledges.domain.signers import publicly_shown
from pledges.domain.slugs import slugify, unique_slug
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.models import (
    Organization,
    Pledge,
    PledgeCosigner,
    Signature,
    User,
    Visibility,
)
from pledges.presentation.display import PublicSigner, public_signer

RESERVED_SLUGS = frozenset({"new"})
MEMBERS_SHOWN = 200


class OrganizationError(RuleError):
    """A rule about organizations was broken."""


@dataclass(frozen=True)
class OrganizationInput:
    name: str
    country: str | None
    website: str | None
    description: str


def may_edit(organization: Organization, user: User) -> bool:
    """Whoever added an organization keeps its record; admins keep all of them."""
    return user.is_admin or organization.created_by_id == user.id


def organization_ids_named(name: str) -> list[int]:
    """The organizations called ``name``, whatever its case, oldest first.

    Compared here rather than with SQL lower(), which on SQLite folds only A-Z: "ÉCOLE" and
    "école" must match on every database. Organizations are added by hand, so they are few.
    """
    wanted = _name_key(name)
    rows = db.session.execute(select(Organization.id, Organization.name).order_by(Organization.id))
    return [id_ for id_, other in rows if _name_key(other) == wanted]


def organization_id_for(name: str) -> int | None:
    """Link a typed organization name to a known ally organization, if one has that name."""
    ids = organization_ids_named(name) if name.strip() else []
    return ids[0] if ids else None


def _name_key(name: str) -> str:
    # NFC first: an "É" typed as E plus an accent is the same letter.
    return unicodedata.normalize("NFC", name.strip()).casefold()


def _check_name_free(name: str, organization: Organization | None = None) -> None:
    # Signers are linked to an organization by the name they type: two of the same name
    # would make that link a guess.
    own = organization.id if organization is not None else None
    if any(id_ != own for id_ in organization_ids_named(name)):
        raise OrganizationError(
            gettext("There is already an organization of that name."), field="name"
        )


def _slug_taken(slug: str) -> bool:
    found = db.session.scalar(select(Organization.id).where(Organization.slug == slug).limit(1))
    return slug in RESERVED_SLUGS or found is not None


def _flush() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent request took the slug meanwhile
        raise OrganizationError(gettext("Please send the form again.")) from exc


def create_organization(data: OrganizationInput, creator: User) -> Organization:
    _check_name_free(data.name)
    organization = Organization(
        slug=unique_slug(slugify(data.name, fallback="organization"), _slug_taken),
        name=data.name,
        country=data.country,
        website=data.website,
        description=data.description,
        created_by_id=creator.id,
    )
    db.session.add(organization)
    _flush()
    audit.record(
        "organization.create",
        target=organization,
        details={"name": organization.name, "slug": organization.slug},
    )
    return organization


def update_organization(organization: Organization, data: OrganizationInput) -> dict[str, list]:
    """Apply the changes; the slug stays, so links to the public page keep working."""
    changed = {
        f.name: [getattr(organization, f.name), getattr(data, f.name)]
        for f in fields(OrganizationInput)
        if getattr(organization, f.name) != getattr(data, f.name)
    }
    if not changed:
        return changed
    if "name" in changed:
        _check_name_free(data.name, organization)
    for name, (_, after) in changed.items():
        setattr(organization, name, after)
    _flush()
    audit.record("organization.update", target=organization, details={"changed": changed})
    # Its name shows on the pages of the pledges it co-signs or launched.
    for pledge_id in db.session.scalars(
        select(PledgeCosigner.pledge_id)
        .where(PledgeCosigner.organization_id == organization.id)
        .union(select(Pledge.id).where(Pledge.organization_id == organization.id))
    ):
        transitions.wall_content_changed(pledge_id)
    return changed


def cosigned_pledges(organization: Organization) -> list[Pledge]:
    """The public pledges it co-signs: drafts are nobody's business yet."""
    return list(
        db.session.scalars(
            select(Pledge)
            .join(PledgeCosigner, PledgeCosigner.pledge_id == Pledge.id)
            .where(
                PledgeCosigner.organization_id == organization.id,
                Pledge.is_public,
            )
            .order_by(Pledge.opened_at.desc(), Pledge.id.desc())
        )
    )


@dataclass(frozen=True)
class Member:
    signer: PublicSigner
    pledge: Pledge


@dataclass(frozen=True)
class Members:
    named: list[Member]  # chose to be shown by full name, with their organization
    unnamed: int  # chose to be shown only as "a member of" the organization


def public_members(organization: Organization) -> Members:
    """Signers linked to the organization that the public pages show now, as they chose
    to be shown (named: by full name, which shows their organization anyway)."""
    shown = (
        Signature.organization_id == organization.id,
        publicly_shown(),
        Pledge.is_public,
    )
    named = db.session.execute(
        select(Signature, Pledge)
        .join(Pledge, Pledge.id == Signature.pledge_id)
        .where(*shown, Signature.visibility == Visibility.FULL)
        .order_by(Signature.public_since.desc(), Signature.public_id.desc())
        .limit(MEMBERS_SHOWN)
    ).all()
    unnamed = db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .join(Pledge, Pledge.id == Signature.pledge_id)
        .where(*shown, Signature.visibility == Visibility.ORGANIZATION)
    )
    return Members(
        # Named in full: their country is no small-count secret.
        named=[
            Member(public_signer(signature, frozenset([signature.country])), pledge)
            for signature, pledge in named
        ],
        unnamed=unnamed or 0,
    )
