"""Email bodies at rest: encrypted while a message waits to be sent, dropped once it is.

A queued message holds working links (a private page, a confirmation, a partner's page, a
password reset). Its bodies are stored as Fernet tokens (AES-128-CBC with an HMAC-SHA256,
from ``cryptography``), so a copy of the database or a backup opens nothing. The keys are
``OUTBOX_KEYS`` (Fernet keys, comma-separated, the first encrypting, every one decrypting:
add a new key first to rotate, drop the old one once no pending message uses it); without
it, one key is derived from ``SECRET_KEY`` with HKDF, so changing SECRET_KEY leaves
messages still queued unreadable (they fail, and end as dead letters saying why).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# Every Fernet token starts so (version byte 0x80, then a 64-bit timestamp): a stored body
# that does not is one written before bodies were encrypted, delivered as it is.
FERNET_PREFIX = "gAAAAA"


class UnreadableMail(Exception):
    """A stored body that none of the keys opens (SECRET_KEY or OUTBOX_KEYS changed)."""


def derived_key(secret_key: str) -> bytes:
    """The Fernet key for the outbox derived from SECRET_KEY (used without OUTBOX_KEYS)."""
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"pledges outbox bodies"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


def outbox_keys(config) -> list[bytes]:
    """The keys from OUTBOX_KEYS (a list or a comma-separated string), else the derived one."""
    keys = config.get("OUTBOX_KEYS") or ()
    if isinstance(keys, str):
        keys = [key.strip() for key in keys.split(",") if key.strip()]
    if keys:
        return [key.encode() if isinstance(key, str) else key for key in keys]
    return [derived_key(config["SECRET_KEY"])]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in outbox_keys(current_app.config)])


def seal(text: str | None) -> str | None:
    if text is None:
        return None
    return _fernet().encrypt(text.encode()).decode()


def sealer():
    """``seal`` with its keys read once, for sealing many messages in a row."""
    fernet = _fernet()
    return lambda text: None if text is None else fernet.encrypt(text.encode()).decode()


def unseal(stored: str | None) -> str | None:
    if not stored:
        return stored
    if not stored.startswith(FERNET_PREFIX):
        return stored
    try:
        return _fernet().decrypt(stored.encode()).decode()
    except InvalidToken:
        raise UnreadableMail(
            "none of the outbox keys opens this message (SECRET_KEY or OUTBOX_KEYS changed?)"
        ) from None
