"""Lock-out after repeated failed logins, per email address.

Counted in the rate-limit storage (Redis when REDIS_URL is set), so every host sees the
same count, and addresses with no account lock out exactly like real ones: the message
never tells a guesser which addresses exist.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse

from pledges.extensions import limiter

NAMESPACE = "login-failures"


def _item():
    return parse(current_app.config["LOGIN_FAILURES_BEFORE_LOCKOUT"])


def _key(email: str) -> str:
    return email.strip().lower()


def minutes_locked(email: str) -> int:
    """0 if the address may try to log in; otherwise whole minutes until it may."""
    item = _item()
    if limiter.limiter.test(item, NAMESPACE, _key(email)):
        return 0
    reset_at, _ = limiter.limiter.get_window_stats(item, NAMESPACE, _key(email))
    return max(1, math.ceil((reset_at - time.time()) / 60))


def record_failure(email: str) -> None:
    limiter.limiter.hit(_item(), NAMESPACE, _key(email))


def clear(email: str) -> None:
    limiter.limiter.clear(_item(), NAMESPACE, _key(email))
