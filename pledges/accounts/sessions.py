"""Organizer sessions kept in the database, so that logging out ends them on every host.

The signed cookie carries the user's id and a random session id; the ``user_sessions``
table holds only the SHA-256 of that id, with when it began and when it was last used.
A cookie whose row is gone (logged out, "log out everywhere", a new password) or too old
opens nothing, whichever host it is replayed to, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, session
from sqlalchemy import delete, or_, select

from pledges.extensions import db
from pledges.infrastructure.database import utcnow
from pledges.models import User, UserSession

#: The cookie key of the random session id.
SESSION_ID_KEY = "sid"
#: last_seen_at is written at most this often: not one UPDATE per request.
TOUCH_INTERVAL = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _max_age() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def open_session(user: User) -> str:
    """A new session of ``user`` (added to the db session); its secret goes in the cookie.

    The user's expired rows are removed on the way, so the table does not grow.
    """
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(
                UserSession.last_seen_at < now - _idle_limit(),
                UserSession.created_at < now - _max_age(),
            ),
        )
    )
    secret = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(user_id=user.id, secret_hash=_hash(secret), created_at=now, last_seen_at=now)
    )
    return secret


def close_current_session() -> None:
    """Forget the session whose cookie this request carries (logging out)."""
    secret = session.get(SESSION_ID_KEY)
    if isinstance(secret, str):
        db.session.execute(delete(UserSession).where(UserSession.secret_hash == _hash(secret)))


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def _is_current(row: UserSession, now: datetime) -> bool:
    return now - row.last_seen_at <= _idle_limit() and now - row.created_at <= _max_age()


def session_of(user_id: int) -> UserSession | None:
    """The live session row this request's cookie names for ``user_id``, or None."""
    secret = session.get(SESSION_ID_KEY)
    if not isinstance(secret, str):
        return None
    row = db.session.scalar(
        select(UserSession).where(
            UserSession.secret_hash == _hash(secret), UserSession.user_id == user_id
        )
    )
    if row is None or not _is_current(row, utcnow()):
        return None
    g.user_session = row
    return row


def touch_current_session() -> None:
    """Note that the session was used now, if it was not noted in the last minute."""
    row: UserSession | None = g.pop("user_session", None)
    if row is None:
        return
    now = utcnow()
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
