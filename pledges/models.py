"""The data model: organizations, pledges and their commitments, signatures, tallies, mail."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import ColumnElement, expression

from pledges.extensions import db
from pledges.infrastructure.database import StrEnumType, UTCDateTime, utcnow


class PledgeStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"

    @classmethod
    def public(cls) -> tuple[PledgeStatus, ...]:
        """The statuses whose pledge the public sees (its page, wall, feed, verification)."""
        return (cls.OPEN, cls.CLOSED)


class SignatureStatus(enum.StrEnum):
    PENDING = "pending"
    # Confirmed by email on a pre-moderated pledge: shown once a moderator approves it.
    HELD = "held"
    CONFIRMED = "confirmed"
    HIDDEN = "hidden"
    WITHDRAWN = "withdrawn"


class AllyRole(enum.StrEnum):
    MAN = "man"
    WOMAN = "woman"
    OTHER = "other"
    UNDISCLOSED = "undisclosed"


class Visibility(enum.StrEnum):
    FULL = "full"
    INITIAL = "initial"
    ORGANIZATION = "organization"
    ANONYMOUS = "anonymous"


class Publication(enum.StrEnum):
    """When the signer lets the public pages show them. They are counted at once whatever
    they choose; only their entry (and actions) waits."""

    NOW = "now"
    WEEK = "week"
    MONTH = "month"
    ON_CLOSE = "on_close"
    NEVER = "never"


def new_public_id() -> str:
    """A signature's public reference: random, URL-safe, unrelated to its database id or to
    any earlier public id it had, so two snapshots of the wall cannot be linked by it."""
    return secrets.token_urlsafe(12)


class TokenPurpose(enum.StrEnum):
    CONFIRM = "confirm"
    MANAGE = "manage"
    # Opens the private page like MANAGE; one live per signer, replaced by each reminder.
    REMINDER = "reminder"
    # In every email to a signer: opens a page whose one button takes them off the public
    # wall. It can do nothing else, not even undo that (only the private page can).
    HIDE = "hide"


class Reminders(enum.StrEnum):
    ON = "on"
    PAUSED = "paused"
    STOPPED = "stopped"


class PartnerStatus(enum.StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DECLINED = "declined"


class ReviewState(enum.StrEnum):
    UNREVIEWED = "unreviewed"
    CONFIRMED = "confirmed"
    QUERIED = "queried"


class ActionKind(enum.StrEnum):
    CONVERSATION = "conversation"
    TRAINING = "training"
    ADVOCACY = "advocacy"
    MENTORING = "mentoring"
    SPEAKING_OUT = "speaking_out"
    PERSONAL_PRACTICE = "personal_practice"
    OTHER = "other"


class ActionVisibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    ORGANIZER = "organizer"


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    FAKE = "fake"
    ABUSIVE = "abusive"
    UNSAFE = "unsafe"  # naming this person puts them in danger
    OTHER = "other"


class ReportResolution(enum.StrEnum):
    DISMISSED = "dismissed"
    HIDDEN = "hidden"


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


# Field lengths, shared by the models and the forms that fill them.
NAME_MAX = 120
EMAIL_MAX = 254
ORGANIZATION_MAX = 160
NOTE_MAX = 1000
TITLE_MAX = 200
SLUG_MAX = 80
COMMITMENT_MAX = 500
ACTION_DESCRIPTION_MAX = 2000
COMMENT_MAX = 2000
MAX_PARTNERS = 3
URL_MAX = 500
PEOPLE_REACHED_MAX = 10_000_000
DESCRIPTION_MAX = 2000
#: A dossier's covering letter: a page of text at most.
LETTER_MAX = 4000
REASON_MAX = 500
# A pledge's own texts: a page or two each, printed in every signed PDF and dossier.
PREAMBLE_MAX = 6000
GUIDELINES_MAX = 4000


class User(UserMixin, db.Model):
    """An organizer or admin. Signers never have accounts."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: the login form lower-cases what it is given too.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    role: Mapped[UserRole] = mapped_column(StrEnumType(UserRole, 10), default=UserRole.ORGANIZER)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the id in the session cookie: bumping it ends every session of this user
    # (password reset, "log out everywhere", deactivation).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language of emails sent to them outside their own requests (an invitation sent
    # again): chosen by whoever invited them, then the one they last logged in with.
    locale: Mapped[str | None] = mapped_column(String(10))

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login: an inactive user cannot log in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.ADMIN

    @property
    def display_name(self) -> str:
        return self.name or self.email


class UserSession(db.Model):
    """One logged-in browser of an organizer, known to every host through the database.

    The cookie holds a random id; only its SHA-256 is stored, so a copy of the database
    opens no session. Deleting the row (logout, "log out everywhere", a new password) ends
    the session on every host at once, whatever the cookie says.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(ORGANIZATION_MAX))
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class PledgeOrganizer(db.Model):
    """An organizer who runs a pledge: its creator, or someone it was shared with."""

    __tablename__ = "pledge_organizers"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class PledgeCosigner(db.Model):
    """An ally organization that co-signs a pledge: "Joined by …"."""

    __tablename__ = "pledge_cosigners"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()


class Pledge(db.Model):
    __tablename__ = "pledges"
    __table_args__ = (
        CheckConstraint("goal IS NULL OR goal > 0", name="goal_positive"),
        CheckConstraint("checkin_cadence_days > 0", name="cadence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    preamble: Mapped[str] = mapped_column(Text)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PledgeStatus] = mapped_column(
        StrEnumType(PledgeStatus, 10), default=PledgeStatus.DRAFT
    )
    goal: Mapped[int | None] = mapped_column(Integer)
    checkin_cadence_days: Mapped[int] = mapped_column(Integer, default=30)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every change that shows on the wall; part of the wall's cache keys.
    wall_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # New signatures wait for a moderator (status HELD) before they show on the wall.
    premoderation: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The language the pledge was written in (a locale code such as "en", "fr", "ur");
    # translations into other languages are in pledge_translations.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")

    organization: Mapped[Organization | None] = relationship()
    translations: Mapped[list[PledgeTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="PledgeTranslation.locale"
    )
    commitments: Mapped[list[Commitment]] = relationship(
        back_populates="pledge",
        order_by="Commitment.position",
        cascade="all, delete-orphan",
    )
    organizers: Mapped[list[PledgeOrganizer]] = relationship(
        cascade="all, delete-orphan", order_by="PledgeOrganizer.added_at"
    )
    cosigners: Mapped[list[PledgeCosigner]] = relationship(
        cascade="all, delete-orphan", order_by="PledgeCosigner.added_at"
    )

    def is_organized_by(self, user: User) -> bool:
        return any(o.user_id == user.id for o in self.organizers)

    @property
    def offered_commitments(self) -> list[Commitment]:
        """What a new signer can choose: every commitment not retired."""
        return [c for c in self.commitments if c.retired_at is None]

    @property
    def is_open(self) -> bool:
        return self.status == PledgeStatus.OPEN

    @hybrid_property
    def is_public(self) -> bool:
        """Shown to the public; in a query, ``where(Pledge.is_public)``."""
        return self.status in PledgeStatus.public()

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> ColumnElement[bool]:
        # ``status = 'open' OR status = 'closed'`` rather than ``IN (...)``: an IN list is
        # expanded at every execution, which is a good part of a cached wall hit's cost.
        return expression.or_(*(cls.status == status for status in PledgeStatus.public()))


class PledgeTranslation(db.Model):
    """The pledge's own words in another language."""

    __tablename__ = "pledge_translations"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    preamble: Mapped[str] = mapped_column(Text)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Commitment(db.Model):
    __tablename__ = "commitments"
    __table_args__ = (UniqueConstraint("pledge_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    # The current wording; every wording ever used is in commitment_versions.
    text: Mapped[str] = mapped_column(String(COMMITMENT_MAX))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Retired: no longer offered to new signers; those who chose it keep it.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    pledge: Mapped[Pledge] = relationship(back_populates="commitments")
    versions: Mapped[list[CommitmentVersion]] = relationship(
        back_populates="commitment",
        cascade="all, delete-orphan",
        order_by="CommitmentVersion.version",
    )

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # Every commitment starts with its first wording on record.
        if not self.versions:
            self.version = self.version or 1
            self.versions.append(CommitmentVersion(version=self.version, text=self.text))

    def choose(self) -> SignatureCommitment:
        """A signer taking on this commitment, in its current wording."""
        return SignatureCommitment(commitment_id=self.id, version=self.version)


class CommitmentVersion(db.Model):
    """One wording of a commitment. What each signer agreed to is one of these."""

    __tablename__ = "commitment_versions"

    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(COMMITMENT_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    commitment: Mapped[Commitment] = relationship(back_populates="versions")
    translations: Mapped[list[CommitmentTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="CommitmentTranslation.locale"
    )


class CommitmentTranslation(db.Model):
    """One wording of a commitment in another language. A signer who signed in that
    language agreed to these words; rewording makes a new version, translated anew."""

    __tablename__ = "commitment_translations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["commitment_id", "version"],
            ["commitment_versions.commitment_id", "commitment_versions.version"],
            ondelete="CASCADE",
            name="fk_commitment_translations_version",
        ),
    )

    commitment_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    locale: Mapped[str] = mapped_column(String(10), primary_key=True)
    text: Mapped[str] = mapped_column(String(COMMITMENT_MAX))


class Signature(db.Model):
    __tablename__ = "signatures"
    __table_args__ = (
        # One signature per address per pledge. A withdrawn signature's address is erased
        # (NULL), which frees the address to sign again.
        UniqueConstraint("pledge_id", "email_normalized"),
        CheckConstraint("length(country) = 2", name="country_iso2"),
        # The wall: signatures shown publicly, newest publication day first, then by public
        # id (keyset paging on (public_since, public_id)), optionally filtered.
        Index("ix_signatures_wall", "pledge_id", "status", "public_since", "public_id"),
        Index(
            "ix_signatures_wall_country",
            "pledge_id",
            "status",
            "country",
            "public_since",
            "public_id",
        ),
        Index(
            "ix_signatures_wall_role", "pledge_id", "status", "role", "public_since", "public_id"
        ),
        Index("ix_signatures_checkin_due", "status", "reminders", "next_checkin_at"),
        Index("ix_signatures_ip_hash", "pledge_id", "ip_hash"),
        Index("ix_signatures_review_queue", "pledge_id", "reviewed_at", "status"),
        # "Lost your link?": every pledge an address signed, across pledges.
        Index("ix_signatures_email_normalized", "email_normalized"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    full_name: Mapped[str] = mapped_column(String(NAME_MAX))
    # Private: never rendered on a public page, feed, API or PDF.
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    email_normalized: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    country: Mapped[str] = mapped_column(String(2))
    role: Mapped[AllyRole] = mapped_column(StrEnumType(AllyRole, 12))
    organization_name: Mapped[str] = mapped_column(String(ORGANIZATION_MAX), default="")
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL"), index=True
    )
    visibility: Mapped[Visibility] = mapped_column(StrEnumType(Visibility, 12))
    # The public reference to this entry (report links, feed ids, API ids, cursors): random,
    # and replaced whenever how the entry appears changes (pledges.domain.transitions).
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=new_public_id)
    # Whether the public entry shows the ally role ("man", "woman", ...); counts by role
    # include everyone whatever they choose.
    show_role: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    publication: Mapped[Publication] = mapped_column(
        StrEnumType(Publication, 10), default=Publication.NOW, server_default=Publication.NOW.value
    )
    # The UTC day (00:00) from which the entry may be shown publicly; NULL: not shown.
    # Kept by the one door from status, publication and self-hiding.
    public_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The signer took themselves off every public surface; only they can undo it.
    self_hidden: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    # When the signer last made their entry less identifying (a name taken off, the role
    # hidden, self-hidden): what the public saw of them before (their note, the actions they
    # had logged) is not shown again beside the new appearance, where it would tie the two.
    appearance_reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Emails with a neutral subject and sender name.
    discreet_mail: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    # Asked at signing ("Email me updates about this pledge"), off unless ticked.
    wants_updates: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=expression.false()
    )
    personal_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SignatureStatus] = mapped_column(
        StrEnumType(SignatureStatus, 10), default=SignatureStatus.PENDING
    )
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # HMAC of the signing IP address, for moderators to spot floods; dropped after
    # IP_HASH_RETENTION_DAYS. The address itself is never stored.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    # Check-in cycles run from the confirmation, one cadence long each.
    reminders: Mapped[Reminders] = mapped_column(
        StrEnumType(Reminders, 10), default=Reminders.ON, server_default=Reminders.ON.value
    )
    next_checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reminded_cycle: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    renewed_for_cycle: Mapped[int | None] = mapped_column(Integer)
    # End of the cycle in which the signer last logged an action: until then they count
    # as active in the follow-through figures.
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Moderation: NULL until a moderator has looked at it (the "new signatures" queue).
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Why moderators hid it; shown to organizers only.
    hidden_reason: Mapped[str] = mapped_column(String(REASON_MAX), default="", server_default="")
    # The language the signer read the pledge in and signed: their emails and signed PDF
    # use it, and their commitments read in it where a translation exists.
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    # Signed on a printed sheet (pledges.paper) and entered by an organizer; NULL: online.
    paper_sheet_id: Mapped[int | None] = mapped_column(
        ForeignKey("paper_sheets.id", ondelete="SET NULL"), index=True
    )

    pledge: Mapped[Pledge] = relationship()
    organization: Mapped[Organization | None] = relationship()
    paper_sheet: Mapped[PaperSheet | None] = relationship()
    chosen: Mapped[list[SignatureCommitment]] = relationship(
        back_populates="signature", cascade="all, delete-orphan"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="signature",
        cascade="all, delete-orphan",
        order_by="(Action.done_on.desc(), Action.id.desc())",
    )
    partners: Mapped[list[Partner]] = relationship(
        back_populates="signature", cascade="all, delete-orphan", order_by="Partner.id"
    )

    @classmethod
    def shown_publicly(cls, now: datetime) -> ColumnElement[bool]:
        """The one SQL predicate for "the public pages show this entry at ``now``"."""
        return (
            (cls.status == SignatureStatus.CONFIRMED)
            & cls.public_since.is_not(None)
            & (cls.public_since <= now)
        )

    def is_shown_publicly(self, now: datetime) -> bool:
        return (
            self.status == SignatureStatus.CONFIRMED
            and self.public_since is not None
            and self.public_since <= now
        )

    @property
    def chosen_commitment_ids(self) -> set[int]:
        """Every commitment this signer has taken on, including ones they have since ended."""
        return {c.commitment_id for c in self.chosen}

    def active_commitment_ids(self, at: datetime | None = None) -> set[int]:
        """The commitments in force at ``at``: taking one off takes effect at its cycle's end."""
        at = at or utcnow()
        return {c.commitment_id for c in self.chosen if c.ends_at is None or c.ends_at > at}

    @property
    def chosen_commitments(self) -> list[SignedCommitment]:
        """What this signer is committed to now, in the pledge's order and in the words
        they agreed to (a commitment reworded since keeps its old wording here)."""
        active = self.active_commitment_ids()
        signed = {c.commitment_id: c for c in self.chosen if c.commitment_id in active}
        return [
            SignedCommitment(id=c.id, text=signed[c.id].text, required=c.required)
            for c in self.pledge.commitments
            if c.id in signed
        ]


@dataclass(frozen=True)
class SignedCommitment:
    id: int  # the commitment's id
    text: str  # the wording this signer agreed to
    required: bool


class SignatureCommitment(db.Model):
    """A commitment one signer chose, in the wording they agreed to."""

    __tablename__ = "signature_commitments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["commitment_id", "version"],
            ["commitment_versions.commitment_id", "commitment_versions.version"],
            name="fk_signature_commitments_version",
        ),
    )

    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True
    )
    commitment_id: Mapped[int] = mapped_column(
        ForeignKey("commitments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # Which wording of the commitment this signer agreed to.
    version: Mapped[int] = mapped_column(Integer)
    # Taken off by the signer: it stays part of the pledge until the end of that cycle.
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    signature: Mapped[Signature] = relationship(back_populates="chosen")
    commitment: Mapped[Commitment] = relationship()
    signed_version: Mapped[CommitmentVersion] = relationship(viewonly=True)

    @property
    def text(self) -> str:
        """The words this signer agreed to, even if the commitment was reworded since: in
        the language they signed in, where that wording was translated into it."""
        locale = self.signature.locale
        for translation in self.signed_version.translations:
            if translation.locale == locale:
                return translation.text
        return self.signed_version.text


class Action(db.Model):
    """Something a signer did to keep one of the commitments they chose."""

    __tablename__ = "actions"
    __table_args__ = (
        # Only a commitment this signer chose: the database holds the rule too.
        ForeignKeyConstraint(
            ["signature_id", "commitment_id"],
            ["signature_commitments.signature_id", "signature_commitments.commitment_id"],
            ondelete="CASCADE",
            name="fk_actions_chosen_commitment",
        ),
        CheckConstraint(
            f"people_reached IS NULL OR people_reached BETWEEN 0 AND {PEOPLE_REACHED_MAX}",
            name="people_reached_range",
        ),
        Index("ix_actions_signature", "signature_id", "done_on", "id"),
        Index("ix_actions_feed", "pledge_id", "visibility", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The pledge is the signature's; kept here so a pledge's actions are one index away.
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id", ondelete="CASCADE"))
    commitment_id: Mapped[int] = mapped_column(ForeignKey("commitments.id", ondelete="CASCADE"))
    kind: Mapped[ActionKind] = mapped_column(StrEnumType(ActionKind, 20))
    done_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    people_reached: Mapped[int | None] = mapped_column(Integer)
    evidence_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    visibility: Mapped[ActionVisibility] = mapped_column(
        StrEnumType(ActionVisibility, 10), default=ActionVisibility.PRIVATE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    review_state: Mapped[ReviewState] = mapped_column(
        StrEnumType(ReviewState, 12), default=ReviewState.UNREVIEWED, server_default="unreviewed"
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("partners.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    signature: Mapped[Signature] = relationship(back_populates="actions")
    commitment: Mapped[Commitment] = relationship()
    reviewed_by: Mapped[Partner | None] = relationship()
    comments: Mapped[list[ActionComment]] = relationship(
        back_populates="action", cascade="all, delete-orphan", order_by="ActionComment.id"
    )


class Partner(db.Model):
    """Someone a signer asked to confirm or query their actions: an accountability partner."""

    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("signature_id", "email_normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    email_normalized: Mapped[str] = mapped_column(String(EMAIL_MAX))
    # Only the SHA-256 of the partner's link token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[PartnerStatus] = mapped_column(
        StrEnumType(PartnerStatus, 10), default=PartnerStatus.INVITED
    )
    # The partner agreed to be named next to the actions they confirmed.
    show_name: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    signature: Mapped[Signature] = relationship(back_populates="partners")


class ActionComment(db.Model):
    """A partner's query or note on an action, or the signer's answer."""

    __tablename__ = "action_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    # Who wrote it: a partner, or (NULL) the signer.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    action: Mapped[Action] = relationship(back_populates="comments")
    partner: Mapped[Partner | None] = relationship()


class AccessToken(db.Model):
    """A secret link for a signer. Only the SHA-256 of the token is stored.

    A signer can hold several live links (each re-send adds one), so a stranger typing
    their address into the form cannot invalidate the link already in their inbox.
    """

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(StrEnumType(TokenPurpose, 10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signature: Mapped[Signature] = relationship()


class PledgeTally(db.Model):
    """Confirmed-signature counters kept in step with every status change.

    ``dimension`` is ``total`` (key ``""``), ``role`` or ``country``; reading the wall's
    totals and breakdowns is then a handful of rows, never a scan of ``signatures``.
    """

    __tablename__ = "pledge_tallies"

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class OutboxEmail(db.Model):
    """An email written in the same transaction as what caused it, delivered afterwards."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The signature the message is about, if any: withdrawing it deletes the message too.
    signature_id: Mapped[int | None] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    # Which email it is (``templates/email/<template>``): what operators see once it is sent.
    template: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # Until sent: the recipient, subject and bodies, the bodies encrypted (pledges.mail.sealing:
    # they hold working links). Once sent: the recipient masked, no subject, no bodies.
    to_address: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Where a one-click unsubscribe (RFC 8058) stops this kind of mail: reminders only.
    list_unsubscribe: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[MailStatus] = mapped_column(
        StrEnumType(MailStatus, 10), default=MailStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)

    signature: Mapped[Signature | None] = relationship()


class DocumentVariant(enum.StrEnum):
    PDF = "pdf"
    PDF_A_3B = "pdf/a-3b"  # archival: PDF/A-3b, as WeasyPrint names it


class IssuedDocument(db.Model):
    """A signed pledge PDF handed to its signer, known only by its SHA-256.

    The file itself is never kept: anyone holding a copy can check it against the hash.
    """

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    variant: Mapped[DocumentVariant] = mapped_column(StrEnumType(DocumentVariant, 10))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signature: Mapped[Signature] = relationship()


class Report(db.Model):
    """Someone from the public flagged a wall entry for the moderators."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_queue", "pledge_id", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[ReportReason] = mapped_column(StrEnumType(ReportReason, 10))
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # HMAC of the reporter's address (see abuse.hash_ip), to spot one person filing many.
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[ReportResolution | None] = mapped_column(StrEnumType(ReportResolution, 10))

    signature: Mapped[Signature] = relationship()
    resolved_by: Mapped[User | None] = relationship()


class AuditEntry(db.Model):
    """Who did what, when and why: every moderation act and organizer change."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_pledge", "pledge_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The actor as they were then (kept if the account is deleted); "cli" for commands.
    actor: Mapped[str] = mapped_column(String(EMAIL_MAX))
    action: Mapped[str] = mapped_column(String(40))
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id", ondelete="SET NULL"))
    target_type: Mapped[str] = mapped_column(String(20), default="")
    target_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
    pledge: Mapped[Pledge | None] = relationship()


class DossierAudience(enum.StrEnum):
    OFFICIALS = "officials"
    FUNDERS = "funders"
    MEDIA = "media"


class DossierStatus(enum.StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


class Dossier(db.Model):
    """An advocacy dossier of a pledge: its build, then the issued file's SHA-256.

    The row exists before the file (its verification code is printed in it), so it also
    carries the build's status and progress, readable from any host. A file built from the
    web is kept in ``dossier_files``; anyone holding a copy can check it against the hash.
    """

    __tablename__ = "dossiers"
    __table_args__ = (Index("ix_dossiers_pledge", "pledge_id", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    audience: Mapped[DossierAudience] = mapped_column(StrEnumType(DossierAudience, 10))
    status: Mapped[DossierStatus] = mapped_column(
        StrEnumType(DossierStatus, 10), default=DossierStatus.QUEUED
    )
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moves with every chunk rendered: a build that stops moving has died with its process.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    # What the issued file holds, for its verification page.
    signatures: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    error: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    # When a signer it lists withdrew: its file is deleted and its verification page says
    # it was superseded (pledges.domain.erasure).
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # --- orgpdf: the organizer's optional letter to the recipients, printed after the cover.
    covering_letter: Mapped[str] = mapped_column(Text, default="", server_default="")

    pledge: Mapped[Pledge] = relationship()
    requested_by: Mapped[User | None] = relationship()


class DossierFile(db.Model):
    """The bytes of a dossier built from the web, so that every app host can serve it.

    Kept apart from ``dossiers`` so listing builds never loads a file.
    """

    __tablename__ = "dossier_files"

    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)


# --- paper: printed sign-up sheets, entered by organizers (issue 18) ---


#: Where kept scans of paper sheets live, under the instance folder (pledges.paper keeps
#: them, pledges.domain.erasure deletes one when a signer on its sheet withdraws).
PAPER_SCAN_FOLDER = "paper-scans"


class PaperSheet(db.Model):
    """A printed sign-up sheet: its code (on the paper, with a QR code to its entry page),
    the language it was printed in, and the commitments in the order it numbered them, so
    the numbers signers wrote still mean what they read after the pledge changes."""

    __tablename__ = "paper_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    language: Mapped[str] = mapped_column(String(10))
    # Commitment ids as numbered on the sheet: number n is commitment_ids[n - 1].
    commitment_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The SHA-256 of the first scan uploaded; later uploads are checked against it.
    scan_sha256: Mapped[str | None] = mapped_column(String(64))
    # The scan's file under the instance folder, only if the organizer chose to keep it.
    scan_file: Mapped[str | None] = mapped_column(String(80))

    pledge: Mapped[Pledge] = relationship()
    created_by: Mapped[User | None] = relationship()


# --- sessions: dialogue sessions of a pledge, their facilitators, RSVPs and attendance


class FacilitatorRole(enum.StrEnum):
    """How a facilitator takes part in the dialogue: the 2011 dialogue paired a man and a
    woman ally to lead each session."""

    WOMAN = "woman"
    MAN = "man"
    OTHER = "other"


class RsvpAnswer(enum.StrEnum):
    YES = "yes"
    NO = "no"


PLACE_MAX = 300
TIMEZONE_MAX = 64
SESSION_MINUTES_MAX = 24 * 60
SESSION_SERIES_MAX = 24


class DialogueSession(db.Model):
    """A dialogue session organizers hold for a pledge's signers.

    ``starts_at`` is UTC; ``timezone`` (an IANA name) is where it is held, for showing the
    local time and for the calendar's TZID. Sessions of one series share ``series_id``.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(
            f"duration_minutes BETWEEN 1 AND {SESSION_MINUTES_MAX}", name="duration_range"
        ),
        Index("ix_sessions_pledge_start", "pledge_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    # The calendar's UID: random and never changed, so a calendar updates the same event.
    uid: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    series_id: Mapped[str | None] = mapped_column(String(32), index=True)
    series_position: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(TIMEZONE_MAX))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(PLACE_MAX), default="")
    # Shown to signers and organizers only: a public meeting link lets anyone in.
    online_url: Mapped[str | None] = mapped_column(String(URL_MAX))
    language: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    pledge: Mapped[Pledge] = relationship()
    facilitators: Mapped[list[SessionFacilitator]] = relationship(
        cascade="all, delete-orphan", order_by="SessionFacilitator.position"
    )
    rsvps: Mapped[list[SessionRsvp]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    attendance: Mapped[list[SessionAttendance]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class SessionFacilitator(db.Model):
    __tablename__ = "session_facilitators"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    role: Mapped[FacilitatorRole] = mapped_column(StrEnumType(FacilitatorRole, 10))


class SessionRsvp(db.Model):
    """A signer's answer to "will you come?"; the latest answer counts."""

    __tablename__ = "rsvps"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: Mapped[RsvpAnswer] = mapped_column(StrEnumType(RsvpAnswer, 3))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[DialogueSession] = relationship(back_populates="rsvps")
    signature: Mapped[Signature] = relationship()


class SessionAttendance(db.Model):
    """A signer an organizer marked present; ``action_id`` is the action it logged for them
    (one per session and signer: the primary key makes marking twice harmless)."""

    __tablename__ = "attendance"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    session: Mapped[DialogueSession] = relationship(back_populates="attendance")
    signature: Mapped[Signature] = relationship()


# --- updates: organizers' updates to signers, step-up milestones, and the emails' fan-out


class UpdateStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class SendStatus(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"  # not in the outbox yet
    OUTBOXED = "outboxed"  # its email written to the outbox, in the same transaction
    SKIPPED = "skipped"  # the signer no longer wanted it (withdrawn, hidden, unsubscribed)


UPDATE_BODY_MAX = 10_000


class PledgeUpdate(db.Model):
    """News from the organizers to the signers of a pledge: a draft until published, then
    on the pledge page, the wall and the feed, and emailed to signers who asked."""

    __tablename__ = "pledge_updates"
    __table_args__ = (
        # One draft per milestone however many signings cross it at once.
        UniqueConstraint("pledge_id", "milestone"),
        Index("ix_pledge_updates_published", "pledge_id", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    # In the pledge's own language; other languages in pledge_update_translations.
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[UpdateStatus] = mapped_column(
        StrEnumType(UpdateStatus, 10), default=UpdateStatus.DRAFT
    )
    # The signature count this update was drafted for ("We reached 500 signers").
    milestone: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    pledge: Mapped[Pledge] = relationship()
    translations: Mapped[list[PledgeUpdateTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="PledgeUpdateTranslation.locale"
    )


class PledgeUpdateTranslation(db.Model):
    """An update's title and text in another of the pledge's languages."""

    __tablename__ = "pledge_update_translations"

    update_id: Mapped[int] = mapped_column(
        ForeignKey("pledge_updates.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)


class PledgeMilestone(db.Model):
    """One of the organizer's step-up goals; the lowest not reached is the pledge's goal."""

    __tablename__ = "pledge_milestones"
    __table_args__ = (CheckConstraint("goal > 0", name="goal_positive"),)

    pledge_id: Mapped[int] = mapped_column(
        ForeignKey("pledges.id", ondelete="CASCADE"), primary_key=True
    )
    goal: Mapped[int] = mapped_column(Integer, primary_key=True)
    reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UpdateSend(db.Model):
    """Emailing one update to its subscribed signers: one per update, paused or running."""

    __tablename__ = "update_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("pledge_updates.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[SendStatus] = mapped_column(
        StrEnumType(SendStatus, 10), default=SendStatus.RUNNING
    )
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the next email may go, at UPDATE_EMAILS_PER_MINUTE.
    next_slot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    update: Mapped[PledgeUpdate] = relationship()


class UpdateDelivery(db.Model):
    """One signer's copy of one update: claimed once, with its outbox row written in the
    same transaction, so a worker killed mid-run sends nobody a second copy."""

    __tablename__ = "update_deliveries"
    __table_args__ = (
        UniqueConstraint("update_id", "signature_id"),
        Index("ix_update_deliveries_send", "send_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    send_id: Mapped[int] = mapped_column(ForeignKey("update_sends.id", ondelete="CASCADE"))
    update_id: Mapped[int] = mapped_column(ForeignKey("pledge_updates.id", ondelete="CASCADE"))
    signature_id: Mapped[int] = mapped_column(
        ForeignKey("signatures.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[DeliveryState] = mapped_column(
        StrEnumType(DeliveryState, 10), default=DeliveryState.QUEUED
    )
    outbox_email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_emails.id", ondelete="SET NULL"), index=True
    )
