"""The audit log: who did what, when and why. Written in the transaction of the act itself."""

from __future__ import annotations

import json
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import String, and_, cast, func, or_, select

from pledges.extensions import db
from pledges.models import AuditEntry, Pledge, User

CLI_ACTOR = "cli"
#: What replaces the free text of an entry about someone who withdrew.
WITHDRAWN = "[withdrawn]"


def record(
    action: str,
    *,
    pledge: Pledge | None = None,
    target: Any = None,
    reason: str = "",
    details: dict | None = None,
    actor: User | None = None,
) -> AuditEntry:
    """Add an audit entry for ``action`` (a dotted name such as ``signature.hide``).

    The actor is the logged-in user, or ``actor``, or "cli" outside a request.
    """
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    entry = AuditEntry(
        user_id=actor.id if actor else None,
        actor=actor.email if actor else CLI_ACTOR,
        action=action,
        pledge_id=pledge.id if pledge is not None else None,
        target_type=target.__tablename__ if target is not None else "",
        target_id=target.id if target is not None else None,
        reason=reason,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def quoting(column, quotes: list[str]):
    """A condition: text ``column`` holds one of ``quotes``, in any case. JSON is compared
    as stored, where a non-ASCII letter may be written as an escape."""
    forms = {
        form.lower()
        for q in quotes
        for form in (q, json.dumps(q)[1:-1], json.dumps(q.lower())[1:-1])
    }
    return or_(*(func.lower(column).contains(form, autoescape=True) for form in sorted(forms)))


def erase_mentions(*, pledge_id: int, about: list[tuple[str, list[int]]], quotes: list[str]) -> int:
    """Someone withdrew: the entries about them (``about``: table name and ids) and the
    pledge's entries quoting them keep their act, actor and time; their reason becomes
    "[withdrawn]", and so does any text in their details quoting them. Returns how many
    entries changed; the caller commits."""
    targets = [
        and_(AuditEntry.target_type == table, AuditEntry.target_id.in_(ids))
        for table, ids in about
        if ids
    ]
    quoted = (
        [quoting(AuditEntry.reason, quotes), quoting(cast(AuditEntry.details, String), quotes)]
        if quotes
        else []
    )
    if not targets and not quoted:
        return 0
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.pledge_id == pledge_id, or_(*targets, *quoted))
    ).all()
    lowered = [q.lower() for q in quotes]
    for entry in entries:
        is_about = any(
            entry.target_type == table and entry.target_id in ids for table, ids in about
        )
        if entry.reason and (is_about or any(q in entry.reason.lower() for q in lowered)):
            entry.reason = WITHDRAWN
        entry.details = _scrubbed(entry.details or {}, lowered)
    return len(entries)


def _scrubbed(value: Any, lowered: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _scrubbed(v, lowered) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, lowered) for v in value]
    if isinstance(value, str) and any(q in value.lower() for q in lowered):
        return WITHDRAWN
    return value
