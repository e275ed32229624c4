"""Gunicorn settings: `gunicorn 'pledges:create_app()'` reads this file from the working
directory. Every value comes from the environment, so one file serves every host.

BIND            address to listen on; else 0.0.0.0:$PORT when PORT is set (platforms that
                route to a port), else 127.0.0.1:8000 (behind a proxy on the same host)
WEB_CONCURRENCY worker processes; default 2 x cores + 1
FORWARDED_ALLOW_IPS  peers whose X-Forwarded-Proto gunicorn itself believes; default none,
                since the app's PROXY_FIX_* settings decide that in one place
LOG_LEVEL, LOG_FORMAT, PLEDGES_ENV  gunicorn's own lines follow the app's format
"""

import multiprocessing
import os

from pledges.infrastructure.logs import resolve_log_format


def _whole_number(name: str, least: int, most: int | None = None) -> int | None:
    """The environment's ``name`` as a number in range, None when unset; else exit with a
    one-line message (SystemExit passes through gunicorn without a traceback)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    allowed = f"from {least} to {most}" if most is not None else f"{least} or more"
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < least or (most is not None and value > most):
        raise SystemExit(f"{name}={raw!r} is not valid: a whole number {allowed}.")
    return value


_port = _whole_number("PORT", 1, 65535)
bind = os.environ.get("BIND") or (f"0.0.0.0:{_port}" if _port else "127.0.0.1:8000")
workers = _whole_number("WEB_CONCURRENCY", 1) or multiprocessing.cpu_count() * 2 + 1

# A request that takes longer than this is stuck: the worker is killed and replaced.
timeout = 30
# On SIGTERM or a restart, requests in flight get this long to finish.
graceful_timeout = 30

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# The app logs every request itself (without query strings or tokens): no access log.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

if resolve_log_format(os.environ.get("LOG_FORMAT"), os.environ.get("PLEDGES_ENV", "")) == "json":
    logconfig_dict = {
        # The app puts its own handler on the root logger when a worker loads it.
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {
                "level": loglevel.upper(),
                "handlers": ["stderr"],
                "propagate": False,
                "qualname": "gunicorn.error",
            },
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
        "handlers": {
            "stderr": {"class": "pledges.infrastructure.logs.StderrHandler", "formatter": "json"}
        },
        "formatters": {"json": {"()": "pledges.infrastructure.logs.JsonFormatter"}},
    }
