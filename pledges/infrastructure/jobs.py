"""Long work run outside the request that asked for it: the one door for enqueuing it.

``enqueue(func, *args)`` runs ``func(*args)`` later, inside an application context, in the
language of the request that enqueued it. ``func`` must be a module-level function (it is
named by its import path, so a worker process can find it) and its arguments plain values
(ids, strings, numbers): the work reads what it needs from the database when it runs, so it
may be retried, and must be safe to run twice.

The embedded default runs the job in a daemon thread of this process, as the app has always
done for long dossier builds. A job queue on Redis replaces it where one is configured.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale, get_locale

log = logging.getLogger(__name__)


def job_name(func: Callable[..., Any]) -> str:
    """The import path a worker finds ``func`` by."""
    return f"{func.__module__}.{func.__qualname__}"


def enqueue(func: Callable[..., Any], *args: Any) -> threading.Thread:
    """Run ``func(*args)`` in the background, in an app context and the current locale."""
    if "." in func.__qualname__ or "<" in func.__qualname__:
        raise ValueError(f"{job_name(func)} is not a module-level function")
    app = current_app._get_current_object()  # noqa: SLF001 - the thread needs the app itself
    locale = str(get_locale() or app.config["SUPPORTED_LOCALES"][0])
    thread = threading.Thread(
        target=_run_in_thread,
        args=(app, func, args, locale),
        name=f"job-{func.__name__}",
        daemon=True,
    )
    thread.start()
    return thread


def _run_in_thread(
    app: Flask, func: Callable[..., Any], args: tuple[Any, ...], locale: str
) -> None:
    from pledges.extensions import db

    with app.app_context(), force_locale(locale):
        try:
            func(*args)
        except Exception:
            log.exception("background job %s failed", job_name(func))
        finally:
            db.session.remove()
