"""Accounts: creating users, logging in, password resets."""

from __future__ import annotations

from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import get_locale, gettext, ngettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from pledges.accounts import lockout, sessions
from pledges.accounts.passwords import (
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from pledges.domain.rules import RuleError
from pledges.extensions import db
from pledges.forms import (
    bidi_control_message,
    clean_line,
    has_bidi_controls,
    has_control_characters,
)
from pledges.infrastructure import audit
from pledges.infrastructure.database import utcnow
from pledges.infrastructure.urls import external_url
from pledges.mail.outbox import queue_email
from pledges.models import EMAIL_MAX, NAME_MAX, User, UserRole


class AccountError(RuleError):
    pass


class LockedOut(AccountError):
    def __init__(self, minutes: int) -> None:
        super().__init__(
            ngettext(
                "Too many failed attempts: this account is locked for %(num)d minute. "
                "Try again then, or reset your password by email.",
                "Too many failed attempts: this account is locked for %(num)d minutes. "
                "Try again then, or reset your password by email.",
                minutes,
            )
        )
        self.minutes = minutes


def normalize(email: str) -> str:
    return email.strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize(email)))


def create_user(email: str, password: str, role: str = UserRole.ORGANIZER, name: str = "") -> User:
    email = normalize(email)
    if role not in set(UserRole):
        raise AccountError(f"Role must be one of: {', '.join(UserRole)}.", field="role")
    _check_email(email)
    name = _checked_name(name)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise AccountError(
            gettext("There is already an account for %(email)s.", email=email), field="email"
        )
    check_new_password(password, email)
    user = User(email=email, name=name, role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", target=user, details={"email": email, "role": role})
    return user


def _check_email(email: str) -> None:
    """The rules of the invite form's Email() validator, for the CLI too."""
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(gettext("Enter a valid email address."), field="email") from error
    if len(email) > EMAIL_MAX:
        raise AccountError(gettext("Enter a valid email address."), field="email")


def _checked_name(name: str) -> str:
    name = clean_line(name)
    if len(name) > NAME_MAX:
        raise AccountError(
            gettext("Keep the name under %(max)s characters.", max=NAME_MAX), field="name"
        )
    if has_control_characters(name):
        raise AccountError(
            gettext("Remove the invisible control characters from this text."), field="name"
        )
    if has_bidi_controls(name):
        raise AccountError(bidi_control_message(), field="name")
    return name


def _refuse_if_locked(email: str) -> None:
    minutes = lockout.minutes_locked(email)
    if minutes:
        raise LockedOut(minutes)


def _count_failure(email: str) -> None:
    """A wrong password counts toward the lock-out; LockedOut once it was one too many."""
    lockout.record_failure(email)
    _refuse_if_locked(email)


def authenticate(email: str, password: str) -> User:
    """The user these credentials belong to, or AccountError / LockedOut.

    The message for a wrong address and a wrong password is the same.
    """
    _refuse_if_locked(email)
    user = user_by_email(email)
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        _count_failure(email)
        raise AccountError(
            gettext("That email address and password don't match an active account.")
        )
    lockout.clear(email)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_login(user)
    return user


def record_login(user: User) -> None:
    """Whoever logs in, by password or through a reset or invitation link."""
    user.last_login_at = utcnow()
    locale = get_locale()
    if locale is not None:  # the language they work in, for mail sent outside their requests
        user.locale = str(locale)


def check_current_password(user: User, password: str) -> None:
    """Guesses at the current password count toward the login lock-out, so a stolen
    session cannot try passwords freely."""
    _refuse_if_locked(user.email)
    if not verify_password(user.password_hash, password):
        _count_failure(user.email)
        raise AccountError(gettext("That is not your current password."), field="current")


def set_password(user: User, password: str) -> None:
    """A new password; every existing session of this user ends."""
    check_new_password(password, user.email)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    end_sessions(user)
    lockout.clear(user.email)


def end_sessions(user: User) -> None:
    """Every session of ``user`` ends, on every host (the caller commits)."""
    user.session_version += 1
    sessions.end_all_sessions(user)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def reset_token(user: User) -> str:
    # The tail of the current hash makes the link single-use: setting a password changes it.
    return _serializer().dumps({"u": user.id, "h": user.password_hash[-16:]})


def user_for_reset_token(token: str) -> User | None:
    max_age = timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"]).total_seconds()
    try:
        data = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        return None
    return user


def send_reset_link(email: str) -> None:
    """Email a reset link if the address has an active account; say nothing either way.

    Known or not, the request does the same work, so its time does not tell which
    addresses have accounts: the same lookup, a link signed, the email rendered and its
    row written; for an unknown address the message goes to a stand-in account that is
    never stored, and its row is rolled back to a savepoint instead of being kept.
    """
    user = user_by_email(email)
    known = user is not None and user.active
    recipient = user if known else User(id=0, email=normalize(email), password_hash="-" * 16)
    with db.session.begin_nested() as savepoint:
        queue_email(
            recipient.email,
            gettext("Reset your Joining Forces password"),
            "password_reset",
            user=recipient,
            reset_url=external_url("accounts.reset_password", token=reset_token(recipient)),
            hours=current_app.config["PASSWORD_RESET_HOURS"],
        )
        db.session.flush()
        if not known:
            savepoint.rollback()
