"""Secrets handed to signers (link tokens, stored hashed, and verification codes), and the
SHA-256 fingerprint by which tokens, issued documents and dossiers are recorded."""

from __future__ import annotations

import hashlib
import secrets
from typing import BinaryIO

# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
_CODE_TRANSLATION = str.maketrans({"I": "1", "L": "1", "O": "0", "-": None, " ": None})


def sha256_hex(data: bytes | BinaryIO) -> str:
    """The SHA-256 of ``data`` in hex: bytes, or a binary stream read (in blocks) to its end."""
    digest = hashlib.sha256()
    if isinstance(data, bytes | bytearray):
        digest.update(data)
    else:
        for block in iter(lambda: data.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh link token and the hash to store for it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is enough: nothing to brute-force.
    return sha256_hex(token.encode())


def new_verification_code() -> str:
    """A 10-character code shown as ``XXXXX-XXXXX`` (50 random bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def normalize_verification_code(typed: str) -> str | None:
    """Accept what people type (lower case, spaces, O for 0); None if it cannot be a code."""
    raw = typed.upper().translate(_CODE_TRANSLATION)
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:5]}-{raw[5:]}"
