"""The data model: organizations, pledges and their commitments, signatures, tallies, mail."""

from __future__ import annotations

import enum
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


class TokenPurpose(enum.StrEnum):
    CONFIRM = "confirm"
    MANAGE = "manage"
    # Opens the private page like MANAGE; one live per signer, replaced by each reminder.
    REMINDER = "reminder"


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
        return cls.status.in_(PledgeStatus.public())


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
        # The wall: confirmed signatures of a pledge, newest first, optionally filtered.
        Index("ix_signatures_wall", "pledge_id", "status", "confirmed_at", "id"),
        Index("ix_signatures_wall_country", "pledge_id", "status", "country", "confirmed_at", "id"),
        Index("ix_signatures_wall_role", "pledge_id", "status", "role", "confirmed_at", "id"),
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

    pledge: Mapped[Pledge] = relationship()
    organization: Mapped[Organization | None] = relationship()
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
