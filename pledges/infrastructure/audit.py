"""The audit log: who did what, when and why. Written in the transaction of the act itself."""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_login import current_user

from pledges.extensions import db
from pledges.models import AuditEntry, Pledge, User

CLI_ACTOR = "cli"


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
