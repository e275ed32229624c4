"""Password hashing (Argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext

from pledges.domain.rules import RuleError

_hasher = PasswordHasher()

# Hashed once, so that checking a password for an address with no account takes as long
# as checking a real one (no timing hint about who has an account).
_DUMMY_HASH = _hasher.hash("no account has this password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_new_password(password: str, email: str = "") -> None:
    """Raise RuleError (field ``password``) for a password too weak to protect signers' data."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise RuleError(
            gettext("Use at least %(minimum)s characters.", minimum=minimum), field="password"
        )
    if len(password) > 1000:
        raise RuleError(gettext("Use at most 1,000 characters."), field="password")
    if len(set(password)) < 5:
        raise RuleError(gettext("Use more different characters."), field="password")
    local = email.partition("@")[0].lower()
    if local and len(local) >= 4 and local in password.lower():
        raise RuleError(
            gettext("Don't build the password from your email address."), field="password"
        )
