"""Lock-out after repeated failed logins, per email address.

Counted in the rate-limit storage (Redis when REDIS_URL is set), so every host sees the
same count, and addresses with no account lock out exactly like real ones: the message
never tells a guesser which addresses exist. It has its own counter on that storage, so
switching rate limits off (RATELIMIT_ENABLED=0) never switches the lock-out off.
"""

from __future__ import annotations

import logging
import math
import time

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

EXTENSION_KEY = "pledges.lockout"
NAMESPACE = "login-failures"


def _strategy() -> MovingWindowRateLimiter:
    strategy = current_app.extensions.get(EXTENSION_KEY)
    if strategy is None:
        storage = storage_from_string(current_app.config["RATELIMIT_STORAGE_URI"])
        strategy = current_app.extensions[EXTENSION_KEY] = MovingWindowRateLimiter(storage)
    return strategy


def _item() -> RateLimitItem:
    return parse(current_app.config["LOGIN_FAILURES_BEFORE_LOCKOUT"])


def _identifiers(email: str) -> tuple[str, str, str]:
    return current_app.config["RATELIMIT_KEY_PREFIX"], NAMESPACE, email.strip().lower()


def minutes_locked(email: str) -> int:
    """0 if the address may try to log in; otherwise whole minutes until it may."""
    item = _item()
    try:
        if _strategy().test(item, *_identifiers(email)):
            return 0
        reset_at, _ = _strategy().get_window_stats(item, *_identifiers(email))
    except Exception:  # the storage is unreachable: the per-address login limit still holds
        log.warning("lock-out storage unavailable; login not locked", exc_info=True)
        return 0
    return max(1, math.ceil((reset_at - time.time()) / 60))


def record_failure(email: str) -> None:
    try:
        _strategy().hit(_item(), *_identifiers(email))
    except Exception:
        log.warning("lock-out storage unavailable; failure not counted", exc_info=True)


def clear(email: str) -> None:
    try:
        _strategy().clear(_item(), *_identifiers(email))
    except Exception:
        log.warning("lock-out storage unavailable; failures not cleared", exc_info=True)
