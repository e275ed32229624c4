"""The rules of moderation: hiding, showing again, approving, bulk invalidation, reports.

A confirmed signature counts three ways: in the wall's counters, its actions in the
follow-through figures, and (while active this cycle) in the active-signer buckets. Hiding
takes it out of all three but keeps its actions; showing it again puts everything back,
so ``pledges recount`` always agrees with the counters.

Every status change goes through ``pledges.domain.transitions``: a conditional UPDATE on the
status it expects, so two moderators acting at once change (and count) a signature once.
Every act is written to the audit log in the same transaction.

Held and hidden: a signature hidden while it was held (never approved) is shown when it
is unhidden, like any other. Unhiding is a moderator deciding the entry may be shown, so
it is an approval too; nothing is kept that would say it was held.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import has_request_context
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import joinedload

from pledges.domain import transitions
from pledges.domain.rules import RuleError
from pledges.domain.signers import publicly_shown
from pledges.domain.transitions import BATCH, HIDEABLE
from pledges.extensions import db
from pledges.infrastructure import audit
from pledges.infrastructure.abuse import hash_ip
from pledges.infrastructure.database import utcnow
from pledges.models import (
    REASON_MAX,
    AuditEntry,
    Pledge,
    Report,
    ReportResolution,
    Signature,
    SignatureStatus,
)

REPORT_DETAILS_MAX = 2000

_table = Signature.__table__


class ModerationError(RuleError):
    """A moderation rule was broken."""


def _moderator_id() -> int | None:
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def _required_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ModerationError(
            gettext("Say why: the reason is kept in the audit log."), field="reason"
        )
    if len(reason) > REASON_MAX:
        raise ModerationError(
            gettext("Keep the reason under %(max)s characters.", max=REASON_MAX), field="reason"
        )
    return reason


def email_domain(signature: Signature) -> str:
    """All of a signer's address a moderator sees."""
    return (signature.email_normalized or "").rpartition("@")[2]


# Hiding, one or many.


def hide(signature: Signature, reason: str) -> None:
    """Take a shown or held signature off the wall and out of every figure."""
    reason = _required_reason(reason)
    moved = transitions.hide(
        signature.pledge_id,
        [Signature.id == signature.id],
        reason=reason,
        reviewed_by_id=_moderator_id(),
    )
    if not moved:
        raise ModerationError(
            gettext("This signature is not on the wall or waiting: it cannot be hidden.")
        )
    (old_status,) = moved
    db.session.refresh(signature)
    audit.record(
        "signature.hide",
        pledge=signature.pledge,
        target=signature,
        reason=reason,
        details={"from": str(old_status)},
    )


# Showing again and approving.


def unhide(signature: Signature, reason: str) -> None:
    """Show a hidden signature again, counting it and its actions back (see the module doc)."""
    reason = _required_reason(reason)
    if not transitions.unhide(signature, reviewed_by_id=_moderator_id()):
        raise ModerationError(gettext("This signature is not hidden."))
    audit.record("signature.unhide", pledge=signature.pledge, target=signature, reason=reason)


def approve(signature: Signature) -> bool:
    """Approve a held signature, or mark a shown one reviewed. False if nothing was left
    to do (already reviewed, perhaps by another moderator a moment ago).

    An approved signature shows and counts from now, and its check-in cycles start now:
    time spent waiting for review is not taken from the signer's first cycle.
    """
    now = utcnow()
    moderator = _moderator_id()
    if transitions.approve(signature, reviewed_by_id=moderator, now=now):
        audit.record("signature.approve", pledge=signature.pledge, target=signature)
        return True
    reviewed = db.session.execute(
        update(_table)
        .where(
            _table.c.id == signature.id,
            _table.c.status == SignatureStatus.CONFIRMED,
            _table.c.reviewed_at.is_(None),
        )
        .values(reviewed_at=now, reviewed_by_id=moderator)
    )
    db.session.refresh(signature)
    if reviewed.rowcount == 1:
        audit.record("signature.review", pledge=signature.pledge, target=signature)
        return True
    if signature.status == SignatureStatus.CONFIRMED:
        return False
    raise ModerationError(
        gettext("Only a signature waiting for review or on the wall can be approved.")
    )


def approve_shown(pledge: Pledge, signature_ids: Iterable[int]) -> int:
    """ "Mark all shown as reviewed": approve each of these signatures of ``pledge``."""
    signatures = db.session.scalars(
        select(Signature).where(
            Signature.pledge_id == pledge.id,
            Signature.id.in_(list(signature_ids)[:BATCH]),
            Signature.status.in_(HIDEABLE),
        )
    ).all()
    return sum(approve(signature) for signature in signatures)


# Bulk invalidation.

_DOMAIN = re.compile(r"[^\s@%_\\]+\.[^\s@%_\\.]+")


@dataclass(frozen=True)
class BulkCriteria:
    email_domain: str | None = None
    signed_from: datetime | None = None
    signed_until: datetime | None = None

    @classmethod
    def of(
        cls,
        email_domain: str | None = None,
        signed_from: datetime | None = None,
        signed_until: datetime | None = None,
    ) -> BulkCriteria:
        domain = (email_domain or "").strip().lower().lstrip("@") or None
        if domain is not None and not _DOMAIN.fullmatch(domain):
            raise ModerationError(
                gettext("Enter a domain such as example.org."), field="email_domain"
            )
        if domain is None and signed_from is None and signed_until is None:
            raise ModerationError(gettext("Give an email domain, a time window, or both."))
        if signed_from and signed_until and signed_from > signed_until:
            raise ModerationError(
                gettext("The window must end after it starts."), field="signed_until"
            )
        return cls(domain, signed_from, signed_until)

    def clauses(self) -> list:
        clauses = []
        if self.email_domain:
            # The domain itself, or any subdomain of it.
            address = Signature.email_normalized
            clauses.append(
                address.like(f"%@{self.email_domain}") | address.like(f"%@%.{self.email_domain}")
            )
        if self.signed_from:
            clauses.append(Signature.signed_at >= self.signed_from)
        if self.signed_until:
            clauses.append(Signature.signed_at <= self.signed_until)
        return clauses

    def describe(self) -> dict:
        return {
            "email_domain": self.email_domain,
            "signed_from": self.signed_from.isoformat() if self.signed_from else None,
            "signed_until": self.signed_until.isoformat() if self.signed_until else None,
        }


def bulk_preview(pledge: Pledge, criteria: BulkCriteria) -> int:
    """How many signatures ``bulk_invalidate`` would hide now."""
    return db.session.scalar(
        select(func.count())
        .select_from(Signature)
        .where(
            Signature.pledge_id == pledge.id, Signature.status.in_(HIDEABLE), *criteria.clauses()
        )
    )


def bulk_invalidate(
    pledge: Pledge,
    *,
    email_domain: str | None = None,
    signed_from: datetime | None = None,
    signed_until: datetime | None = None,
    reason: str,
) -> int:
    """Hide every confirmed or held signature matching the criteria; returns how many.

    One audit entry holds the count and the criteria.
    """
    criteria = BulkCriteria.of(email_domain, signed_from, signed_until)
    reason = _required_reason(reason)
    moved = transitions.hide(
        pledge.id, criteria.clauses(), reason=reason, reviewed_by_id=_moderator_id()
    )
    count = sum(moved.values())
    audit.record(
        "signatures.bulk_hide",
        pledge=pledge,
        reason=reason,
        details={
            "count": count,
            "confirmed": moved[SignatureStatus.CONFIRMED],
            "held": moved[SignatureStatus.HELD],
            **criteria.describe(),
        },
    )
    return count


# Public reports.


def reportable_signature(pledge: Pledge, public_id: str) -> Signature | None:
    """A wall entry of ``pledge`` by its current public id: only what the public sees now
    can be reported; an old public id (from before a change of appearance) finds nothing."""
    return db.session.scalar(
        select(Signature).where(
            Signature.public_id == public_id,
            Signature.pledge_id == pledge.id,
            publicly_shown(),
        )
    )


def file_report(signature: Signature, reason: str, details: str, ip_address: str | None) -> Report:
    report = Report(
        pledge_id=signature.pledge_id,
        signature_id=signature.id,
        reason=reason,
        details=details[:REPORT_DETAILS_MAX],
        ip_hash=hash_ip(ip_address),
        created_at=utcnow(),
    )
    db.session.add(report)
    return report


def resolve_reports(signature: Signature, resolution: str, reason: str = "") -> int:
    """Close every open report on ``signature``: dismissed, or hidden (with a reason).

    Returns how many reports were closed.
    """
    if resolution == ReportResolution.HIDDEN:
        reason = _required_reason(reason)
        if signature.status in HIDEABLE:
            hide(signature, reason)
        elif signature.status != SignatureStatus.HIDDEN:
            raise ModerationError(gettext("This signature is no longer on the wall."))
    elif resolution != ReportResolution.DISMISSED:
        raise ModerationError(gettext("Choose to dismiss the reports or to hide the entry."))
    result = db.session.execute(
        update(Report)
        .where(Report.signature_id == signature.id, Report.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=_moderator_id(), resolution=resolution)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0 and resolution == ReportResolution.DISMISSED:
        raise ModerationError(gettext("These reports were already resolved."))
    audit.record(
        f"reports.{'dismiss' if resolution == ReportResolution.DISMISSED else 'hide'}",
        pledge=signature.pledge,
        target=signature,
        reason=(reason or "").strip(),
        details={"reports": result.rowcount},
    )
    return result.rowcount


# Reading: the queue, the reports, the audit log.


class QueueView(enum.StrEnum):
    """The moderation queue's tabs: its ``?view=`` argument."""

    NEW = "new"
    HIDDEN = "hidden"
    ALL = "all"


QUEUE_VIEWS = {
    QueueView.NEW: lazy_gettext("New"),
    QueueView.HIDDEN: lazy_gettext("Hidden"),
    QueueView.ALL: lazy_gettext("All"),
}


@dataclass(frozen=True)
class QueueRow:
    signature: Signature
    email_domain: str
    same_ip: int  # other signatures of this pledge from the same address (hashed)


@dataclass(frozen=True)
class Page:
    items: list
    number: int
    has_next: bool


def _new_clause():
    return Signature.reviewed_at.is_(None) & Signature.status.in_(HIDEABLE)


def queue_page(pledge: Pledge, view: QueueView, number: int, per_page: int) -> Page:
    """One page of the moderation queue: ``new`` (held first), ``hidden`` or ``all``."""
    query = select(Signature).where(Signature.pledge_id == pledge.id)
    if view == QueueView.NEW:
        held_first = case((Signature.status == SignatureStatus.HELD, 0), else_=1)
        query = query.where(_new_clause()).order_by(held_first, Signature.id)
    elif view == QueueView.HIDDEN:
        query = query.where(Signature.status == SignatureStatus.HIDDEN).order_by(
            Signature.reviewed_at.desc(), Signature.id.desc()
        )
    else:
        query = query.order_by(Signature.id.desc())
    rows = list(db.session.scalars(query.limit(per_page + 1).offset((number - 1) * per_page)))
    page_rows = rows[:per_page]
    hashes = {s.ip_hash for s in page_rows if s.ip_hash}
    shared: dict[str, int] = {}
    if hashes:
        shared = dict(
            db.session.execute(
                select(Signature.ip_hash, func.count())
                .where(Signature.pledge_id == pledge.id, Signature.ip_hash.in_(hashes))
                .group_by(Signature.ip_hash)
            ).all()
        )
    return Page(
        items=[
            QueueRow(s, email_domain(s), shared.get(s.ip_hash, 1) - 1 if s.ip_hash else 0)
            for s in page_rows
        ],
        number=number,
        has_next=len(rows) > per_page,
    )


def queue_counts(pledge: Pledge) -> dict[str, int]:
    def count(clause) -> int:
        return db.session.scalar(
            select(func.count())
            .select_from(Signature)
            .where(Signature.pledge_id == pledge.id, clause)
        )

    return {
        QueueView.NEW: count(_new_clause()),
        QueueView.HIDDEN: count(Signature.status == SignatureStatus.HIDDEN),
    }


@dataclass(frozen=True)
class ReportGroup:
    signature: Signature
    email_domain: str
    open_count: int
    total: int
    reports: list[Report]


# The reports shown per entry: the open ones and the latest few.
REPORTS_SHOWN = 20


def report_groups(pledge: Pledge, number: int, per_page: int) -> Page:
    """Reported signatures, those with open reports first, latest report first."""
    open_count = func.count(Report.id).filter(Report.resolved_at.is_(None))
    latest = func.max(Report.created_at)
    rows = db.session.execute(
        select(Report.signature_id, open_count, func.count(Report.id))
        .where(Report.pledge_id == pledge.id)
        .group_by(Report.signature_id)
        .order_by(case((open_count > 0, 0), else_=1), latest.desc(), Report.signature_id.desc())
        .limit(per_page + 1)
        .offset((number - 1) * per_page)
    ).all()
    page_rows = rows[:per_page]
    ids = [r[0] for r in page_rows]
    signatures = {
        s.id: s for s in db.session.scalars(select(Signature).where(Signature.id.in_(ids)))
    }
    reports: dict[int, list[Report]] = {i: [] for i in ids}
    for report in db.session.scalars(
        select(Report)
        .options(joinedload(Report.resolved_by))
        .where(Report.signature_id.in_(ids))
        .order_by(Report.created_at.desc(), Report.id.desc())
    ):
        if len(reports[report.signature_id]) < REPORTS_SHOWN or report.resolved_at is None:
            reports[report.signature_id].append(report)
    return Page(
        items=[
            ReportGroup(signatures[i], email_domain(signatures[i]), opened, total, reports[i])
            for i, opened, total in page_rows
        ],
        number=number,
        has_next=len(rows) > per_page,
    )


def open_report_count(pledge: Pledge) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Report)
        .where(Report.pledge_id == pledge.id, Report.resolved_at.is_(None))
    )


def audit_entries(
    *,
    pledge_id: int | None = None,
    action: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], int | None]:
    """Audit entries newest first, and the ``before_id`` of the next page, if any."""
    query = select(AuditEntry).options(joinedload(AuditEntry.pledge))
    if pledge_id is not None:
        query = query.where(AuditEntry.pledge_id == pledge_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return page, (page[-1].id if len(rows) > limit else None)


def audit_actions() -> list[str]:
    return list(
        db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action))
    )
