"""Jobs for tests/test_queue.py, in a module of their own that a worker process imports
(a test module would drag pytest and its fixtures into the worker)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask_babel import get_locale

from pledges.extensions import db
from pledges.infrastructure import audit


def record(marker: str) -> None:
    """The side effect: an audit entry naming ``marker`` and the language the job ran in."""
    audit.record("test.job", details={"marker": marker, "locale": str(get_locale())})
    db.session.commit()


def hold_then_record(hold: str, marker: str) -> None:
    """Note this attempt's process, wait while the file ``hold`` exists, then record."""
    with Path(f"{hold}.attempts").open("a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    while Path(hold).exists():
        time.sleep(0.05)
    record(marker)


def always_fail(attempts: str) -> None:
    """Note the time of this attempt, then fail with an error that quotes an address."""
    with Path(attempts).open("a") as log:
        log.write(f"{time.time()}\n")
    raise RuntimeError("550 mailbox unavailable: amina.secret@example.org")
