"""Building and running a pledge: its settings, lifecycle, commitments, team and co-signers.

Every change is written to the audit log in its own transaction, and every change the
public pages show bumps the wall's version there too
(``transitions.wall_content_changed``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask_babel import gettext
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError

from pledges.accounts.service import user_by_email
from pledges.domain import transitions
from pledges.domain.content import content_languages, current_translations
from pledges.domain.rules import RuleError
from pledges.domain.slugs import slugify, unique_slug
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.database import utcnow
from pledges.models import (
    Commitment,
    CommitmentTranslation,
    CommitmentVersion,
    Organization,
    Pledge,
    PledgeCosigner,
    PledgeOrganizer,
    PledgeStatus,
    PledgeTranslation,
    Signature,
    SignatureCommitment,
    SignatureStatus,
    User,
    UserRole,
)

# Slugs that would collide with the organizer pages' own addresses (/organize/new…).
RESERVED_SLUGS = frozenset({"new", "orgs"})


class BuilderError(RuleError):
    """A rule of building or running a pledge was broken."""


@dataclass(frozen=True)
class PledgeInput:
    title: str
    slug: str  # "" on a new pledge: made from the title
    preamble: str
    guidelines: str
    goal: int | None
    checkin_cadence_days: int
    premoderation: bool


def _slug_taken(slug: str, pledge: Pledge | None = None) -> bool:
    query = select(Pledge.id).where(Pledge.slug == slug)
    if pledge is not None:
        query = query.where(Pledge.id != pledge.id)
    return slug in RESERVED_SLUGS or db.session.scalar(query.limit(1)) is not None


def _flush_or_slug_taken() -> None:
    """Flush; a slug taken by a concurrent request meanwhile is a form error, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise BuilderError(
            gettext("Another pledge already uses this address."), field="slug"
        ) from exc


def create_pledge(data: PledgeInput, creator: User) -> Pledge:
    """A new draft run by ``creator``; the caller commits."""
    if data.slug:
        if _slug_taken(data.slug):
            raise BuilderError(gettext("Another pledge already uses this address."), field="slug")
        slug = data.slug
    else:
        slug = unique_slug(slugify(data.title, fallback="pledge"), _slug_taken)
    pledge = Pledge(
        slug=slug,
        title=data.title,
        preamble=data.preamble,
        guidelines=data.guidelines,
        goal=data.goal,
        checkin_cadence_days=data.checkin_cadence_days,
        premoderation=data.premoderation,
        status=PledgeStatus.DRAFT,
        created_by_id=creator.id,
        organizers=[PledgeOrganizer(user_id=creator.id)],
    )
    db.session.add(pledge)
    _flush_or_slug_taken()
    audit.record("pledge.create", pledge=pledge, target=pledge, details={"slug": slug})
    return pledge


def update_pledge(pledge: Pledge, data: PledgeInput) -> dict[str, list]:
    """Apply the settings; returns {field: [before, after]} for what changed."""
    changed: dict[str, list] = {}
    for field in fields(PledgeInput):
        before, after = getattr(pledge, field.name), getattr(data, field.name)
        if field.name == "slug" and (not after or after == before):
            continue
        if before != after:
            changed[field.name] = [before, after]
    if "slug" in changed:
        if pledge.status != PledgeStatus.DRAFT:
            # Its public links are out in the world: changing the address would break them.
            raise BuilderError(
                gettext("The address cannot change once the pledge has been opened."), field="slug"
            )
        if _slug_taken(data.slug, pledge):
            raise BuilderError(gettext("Another pledge already uses this address."), field="slug")
    if not changed:
        return changed
    for name, (_, after) in changed.items():
        setattr(pledge, name, after)
    _flush_or_slug_taken()
    audit.record("pledge.update", pledge=pledge, target=pledge, details={"changed": changed})
    transitions.wall_content_changed(pledge.id)
    return changed


def open_pledge(pledge: Pledge) -> None:
    """Draft or closed -> open: it takes signatures."""
    if pledge.status == PledgeStatus.OPEN:
        raise BuilderError(gettext("This pledge is already open."))
    if not pledge.offered_commitments:
        raise BuilderError(gettext("Add at least one commitment before opening the pledge."))
    action = "pledge.reopen" if pledge.status == PledgeStatus.CLOSED else "pledge.open"
    pledge.status = PledgeStatus.OPEN
    pledge.opened_at = pledge.opened_at or utcnow()
    pledge.closed_at = None
    audit.record(action, pledge=pledge, target=pledge)
    if action == "pledge.reopen":
        transitions.pledge_reopened(pledge)
    transitions.wall_content_changed(pledge.id)


def close_pledge(pledge: Pledge) -> None:
    """Open -> closed: the page and wall stay, signing stops."""
    if pledge.status != PledgeStatus.OPEN:
        raise BuilderError(gettext("Only an open pledge can be closed."))
    pledge.status = PledgeStatus.CLOSED
    pledge.closed_at = utcnow()
    audit.record("pledge.close", pledge=pledge, target=pledge)
    transitions.pledge_closed(pledge)
    transitions.wall_content_changed(pledge.id)


# Commitments


def commitment_of_pledge(pledge: Pledge, commitment_id: int) -> Commitment | None:
    return next((c for c in pledge.commitments if c.id == commitment_id), None)


def _in_order(pledge: Pledge) -> list[Commitment]:
    return sorted(pledge.commitments, key=lambda c: c.position)


def _commitment_changed(action: str, commitment: Commitment, **details) -> None:
    audit.record(
        action,
        pledge=commitment.pledge,
        target=commitment,
        details={"position": commitment.position, **details},
    )
    transitions.wall_content_changed(commitment.pledge_id)


def add_commitment(pledge: Pledge, text: str, required: bool) -> Commitment:
    position = max((c.position for c in pledge.commitments), default=0) + 1
    commitment = Commitment(position=position, text=text, required=required)
    pledge.commitments.append(commitment)
    db.session.flush()
    _commitment_changed("commitment.add", commitment, text=text, required=required)
    return commitment


def reword_commitment(commitment: Commitment, text: str) -> bool:
    """A new wording for new signers; those who signed keep the one they agreed to.

    False if ``text`` is the current wording already.
    """
    if text == commitment.text:
        return False
    before = commitment.text
    commitment.version += 1
    commitment.versions.append(CommitmentVersion(version=commitment.version, text=text))
    commitment.text = text
    db.session.flush()
    _commitment_changed(
        "commitment.reword", commitment, version=commitment.version, before=before, after=text
    )
    return True


def set_required(commitment: Commitment, required: bool) -> None:
    if commitment.required == required:
        return
    commitment.required = required
    _commitment_changed("commitment.require" if required else "commitment.unrequire", commitment)


def move_commitment(commitment: Commitment, direction: str) -> bool:
    """Swap with the neighbour above ("up") or below ("down"); False at either end."""
    ordered = _in_order(commitment.pledge)
    index = ordered.index(commitment)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(ordered)
    _commitment_changed("commitment.move", commitment, direction=direction)
    return True


def _renumber(ordered: list[Commitment]) -> None:
    """Positions 1..n in this order. (pledge_id, position) is unique and checked row by row,
    so everyone steps aside to a negative position first: no two rows ever meet."""
    for i, commitment in enumerate(ordered, start=1):
        commitment.position = -i
    db.session.flush()
    for i, commitment in enumerate(ordered, start=1):
        commitment.position = i
    db.session.flush()


def retire_commitment(commitment: Commitment) -> None:
    """No longer offered to new signers; those who took it on keep it."""
    if commitment.retired_at is not None:
        return
    if commitment.pledge.is_open and commitment.pledge.offered_commitments == [commitment]:
        raise BuilderError(gettext("An open pledge needs at least one commitment on offer."))
    commitment.retired_at = utcnow()
    _commitment_changed("commitment.retire", commitment)


def restore_commitment(commitment: Commitment) -> None:
    if commitment.retired_at is None:
        return
    commitment.retired_at = None
    _commitment_changed("commitment.restore", commitment)


# Organizers and co-signing organizations


def add_organizer(pledge: Pledge, email: str) -> User:
    """Share the pledge with another organizer's existing account."""
    user = user_by_email(email)
    if user is None or not user.active or user.role not in (UserRole.ORGANIZER, UserRole.ADMIN):
        raise BuilderError(
            gettext(
                "There is no active organizer account with that email address. An admin can "
                "create one."
            ),
            field="email",
        )
    if pledge.is_organized_by(user):
        raise BuilderError(
            gettext("%(email)s already runs this pledge.", email=user.email), field="email"
        )
    pledge.organizers.append(PledgeOrganizer(user_id=user.id))
    db.session.flush()
    audit.record("organizer.add", pledge=pledge, target=user, details={"email": user.email})
    return user


def remove_organizer(pledge: Pledge, user_id: int) -> User:
    link = next((o for o in pledge.organizers if o.user_id == user_id), None)
    if link is None:
        raise BuilderError(gettext("That person does not run this pledge."))
    if len(pledge.organizers) == 1:
        raise BuilderError(gettext("A pledge needs at least one organizer: add another one first."))
    user = link.user
    pledge.organizers.remove(link)
    audit.record("organizer.remove", pledge=pledge, target=user, details={"email": user.email})
    return user


def add_cosigner(pledge: Pledge, organization: Organization) -> None:
    if any(c.organization_id == organization.id for c in pledge.cosigners):
        raise BuilderError(
            gettext("%(name)s already co-signs this pledge.", name=organization.name)
        )
    pledge.cosigners.append(PledgeCosigner(organization_id=organization.id))
    db.session.flush()
    audit.record(
        "cosigner.add", pledge=pledge, target=organization, details={"name": organization.name}
    )
    transitions.wall_content_changed(pledge.id)


def remove_cosigner(pledge: Pledge, organization_id: int) -> Organization:
    link = next((c for c in pledge.cosigners if c.organization_id == organization_id), None)
    if link is None:
        raise BuilderError(gettext("That organization does not co-sign this pledge."))
    organization = link.organization
    pledge.cosigners.remove(link)
    audit.record(
        "cosigner.remove",
        pledge=pledge,
        target=organization,
        details={"name": organization.name},
    )
    transitions.wall_content_changed(pledge.id)
    return organization


# Translations: the pledge's own words in other languages (pledges/domain/content.py).


def set_pledge_language(pledge: Pledge, language: str) -> bool:
    """Say which language the pledge is written in; False if it already said so."""
    if language not in content_languages():
        raise BuilderError(gettext("Choose a language from the list."), field="language")
    if language == pledge.language:
        return False
    if any(t.locale == language for t in pledge.translations):
        raise BuilderError(
            gettext("The pledge has a translation into this language: remove it first."),
            field="language",
        )
    before = pledge.language
    pledge.language = language
    audit.record(
        "pledge.language",
        pledge=pledge,
        target=pledge,
        details={"before": before, "after": language},
    )
    transitions.wall_content_changed(pledge.id)
    return True


@dataclass(frozen=True)
class TranslationInput:
    locale: str
    title: str
    preamble: str
    guidelines: str
    commitments: dict[int, str]  # commitment id -> its current wording translated ("" for none)


def translation_of(pledge: Pledge, locale: str) -> PledgeTranslation | None:
    return next((t for t in pledge.translations if t.locale == locale), None)


def current_commitment_translations(pledge: Pledge, locale: str) -> dict[int, str]:
    return current_translations(pledge.commitments, locale)


def _signed_in(commitment: Commitment, locale: str) -> bool:
    """Whether someone signed the current wording of ``commitment`` reading it in ``locale``:
    those words are then theirs, and only a rewording (a new version) can change them."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    SignatureCommitment.commitment_id == commitment.id,
                    SignatureCommitment.version == commitment.version,
                    SignatureCommitment.signature_id == Signature.id,
                    Signature.locale == locale,
                )
            )
        )
    )


def save_translation(pledge: Pledge, data: TranslationInput) -> bool:
    """Add or update the translation into ``data.locale``; True if it is new."""
    if data.locale not in content_languages():
        raise BuilderError(gettext("Choose a language from the list."), field="locale")
    if data.locale == pledge.language:
        raise BuilderError(
            gettext("The pledge is written in this language already."), field="locale"
        )
    translation = translation_of(pledge, data.locale)
    created = translation is None
    if created:
        translation = PledgeTranslation(locale=data.locale, title="", preamble="")
        pledge.translations.append(translation)
    translation.title = data.title
    translation.preamble = data.preamble
    translation.guidelines = data.guidelines
    existing = {
        (row.commitment_id, row.version): row
        for row in db.session.scalars(
            select(CommitmentTranslation).where(
                CommitmentTranslation.commitment_id.in_([c.id for c in pledge.commitments]),
                CommitmentTranslation.locale == data.locale,
            )
        )
    }
    changed_commitments = []
    for commitment in pledge.commitments:
        text = data.commitments.get(commitment.id, "")
        row = existing.get((commitment.id, commitment.version))
        if (row.text if row else "") == text:
            continue
        if row is not None and _signed_in(commitment, data.locale):
            raise BuilderError(
                gettext(
                    "Commitment #%(number)s was signed in this language in these words: "
                    "reword the commitment to change them.",
                    number=commitment.position,
                )
            )
        if row is None:
            db.session.add(
                CommitmentTranslation(
                    commitment_id=commitment.id,
                    version=commitment.version,
                    locale=data.locale,
                    text=text,
                )
            )
        elif text:
            row.text = text
        else:
            db.session.delete(row)
        changed_commitments.append(commitment.position)
    db.session.flush()
    audit.record(
        "translation.add" if created else "translation.update",
        pledge=pledge,
        target=pledge,
        details={"locale": data.locale, "commitments": changed_commitments},
    )
    transitions.wall_content_changed(pledge.id)
    return created


def remove_translation(pledge: Pledge, locale: str) -> None:
    """Take a translation off the public pages. Commitment wordings someone signed in it
    stay on record: they are what those signers agreed to."""
    translation = translation_of(pledge, locale)
    if translation is None:
        raise BuilderError(gettext("There is no translation into this language."))
    pledge.translations.remove(translation)
    for commitment in pledge.commitments:
        if not _signed_in(commitment, locale):
            db.session.execute(
                delete(CommitmentTranslation).where(
                    CommitmentTranslation.commitment_id == commitment.id,
                    CommitmentTranslation.version == commitment.version,
                    CommitmentTranslation.locale == locale,
                )
            )
    db.session.flush()
    audit.record("translation.remove", pledge=pledge, target=pledge, details={"locale": locale})
    transitions.wall_content_changed(pledge.id)


def waiting_for_review(pledge_ids: list[int]) -> dict[int, int]:
    """Per pledge, the confirmed or held signatures no moderator has looked at yet."""
    if not pledge_ids:
        return {}
    rows = db.session.execute(
        select(Signature.pledge_id, func.count())
        .where(
            Signature.pledge_id.in_(pledge_ids),
            Signature.reviewed_at.is_(None),
            Signature.status.in_((SignatureStatus.CONFIRMED, SignatureStatus.HELD)),
        )
        .group_by(Signature.pledge_id)
    )
    return {pledge_id: count for pledge_id, count in rows}
