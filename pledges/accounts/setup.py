"""Binding Flask-Login to the app: loading users, session lifetimes, the login page."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_babel import lazy_gettext

from pledges.accounts import sessions
from pledges.extensions import db, login_manager
from pledges.models import User


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Please log in to reach the organizer pages.")
    login_manager.login_message_category = "info"
    # "basic": a changed IP address (phones move between networks) does not log out.
    login_manager.session_protection = "basic"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(0))

    from pledges.accounts.routes import end_stale_session

    app.before_request(end_stale_session)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session holds "id:session_version" and a session id that must still be in
    ``user_sessions``: logged out, ended or idle too long, the cookie opens nothing."""
    raw_id, _, raw_version = user_id.partition(":")
    if not (raw_id.isdigit() and raw_version.isdigit()):
        return None
    if sessions.session_of(int(raw_id)) is None:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or not user.active or user.session_version != int(raw_version):
        return None
    return user
