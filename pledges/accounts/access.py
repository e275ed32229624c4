"""Who may reach which organizer page.

Not logged in: redirected to /login. Logged in without the role: 403. A pledge the
organizer does not run: 404, as if it did not exist (its slug is not confirmed to them).
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from pledges.extensions import db, login_manager
from pledges.models import Pledge, PledgeOrganizer, UserRole


def organizer_required(view):
    """Any organizer or admin."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if current_user.role not in (UserRole.ORGANIZER, UserRole.ADMIN):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def managed_pledge_or_404(slug: str) -> Pledge:
    """The pledge ``slug`` if the current user runs it (or is an admin), else 404."""
    pledge = db.first_or_404(select(Pledge).where(Pledge.slug == slug))
    if not (current_user.is_admin or pledge.is_organized_by(current_user)):
        abort(404)
    return pledge


def pledges_managed_by_current_user():
    """A select of the pledges the current user may manage, newest first."""
    query = select(Pledge).order_by(Pledge.created_at.desc(), Pledge.id.desc())
    if not current_user.is_admin:
        query = query.where(
            Pledge.id.in_(
                select(PledgeOrganizer.pledge_id).where(PledgeOrganizer.user_id == current_user.id)
            )
        )
    return query


def may_see_emails(pledge: Pledge) -> bool:
    """Signers' addresses go only to the organizers of that pledge, not to every admin."""
    return current_user.is_authenticated and pledge.is_organized_by(current_user)
