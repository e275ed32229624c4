"""Logs on stderr, one line per event: JSON in production, plain text in development.

Every record (ours, Flask's, the libraries') goes through one handler on the root logger,
so a log shipper reads one format, and each request adds one line of its own: method, path,
status, duration and a request id that is echoed in the ``X-Request-ID`` response header.

Secrets never reach the output. A logged path has no query string and the token of a
private page becomes "…"; the formatters also scrub link tokens and email addresses from
every message and traceback, as a last defence for what no one thought of (an exception's
SQL parameters, say).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

from pledges.config import ConfigurationError
from pledges.infrastructure.headers import PRIVATE_PATH_PREFIXES

LOG_FORMATS = ("json", "text")
REQUEST_ID_HEADER = "X-Request-ID"
REDACTED = "…"

APP_LOGGER = "pledges"
request_log = logging.getLogger(f"{APP_LOGGER}.requests")

# An id from the proxy is kept if it is a plain token; anything else could forge log lines.
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_PRIVATE_PATH_RE = re.compile(
    "(" + "|".join(re.escape(prefix) for prefix in PRIVATE_PATH_PREFIXES) + r")[^/?#\s\"']+"
)
_EMAIL_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")

# What every LogRecord carries; anything else on a record was passed as ``extra``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def resolve_log_format(log_format: str | None, pledges_env: str) -> str:
    """LOG_FORMAT as given, else JSON in production and text in development."""
    chosen = (log_format or ("json" if pledges_env == "production" else "text")).lower()
    if chosen not in LOG_FORMATS:
        raise ConfigurationError("LOG_FORMAT must be 'json' or 'text'.")
    return chosen


def resolve_log_level(name: str) -> int:
    level = logging.getLevelNamesMapping().get(str(name).upper())
    if level is None:
        raise ConfigurationError("LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    return level


def redact(text: str) -> str:
    """``text`` without link tokens of private pages or email addresses."""
    text = _PRIVATE_PATH_RE.sub(rf"\1{REDACTED}", text)
    return _EMAIL_RE.sub("[email]", text)


def loggable_path(path: str) -> str:
    """A request path fit for the logs: the token of a private page replaced by "…"."""
    return _PRIVATE_PATH_RE.sub(rf"\1{REDACTED}", path)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and value is not None:
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Lines for a person at a terminal, scrubbed like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return redact(super().format(record))


class RequestContextFilter(logging.Filter):
    """Tag each record emitted while serving a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record: servers and test runners swap it."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr


def make_handler(log_format: str) -> logging.Handler:
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestContextFilter())
    return handler


def configure_logging(log_format: str, level: int) -> None:
    """Route every logger to one stderr handler; calling it again replaces that handler.

    ``level`` applies to the app's own loggers; libraries speak from WARNING up (or from
    ``level`` if that is higher), so their chatter at INFO stays out of the logs.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StderrHandler):
            root.removeHandler(handler)
    root.addHandler(make_handler(log_format))
    root.setLevel(max(level, logging.WARNING))
    logging.getLogger(APP_LOGGER).setLevel(level)


def _incoming_request_id() -> str | None:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if _REQUEST_ID_RE.fullmatch(value) else None


def start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _incoming_request_id() or uuid.uuid4().hex


def log_request(response: Response) -> Response:
    if "request_id" not in g:  # a hook before ours failed the request
        g.request_id = _incoming_request_id() or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = g.request_id
    # Load balancers poll the health check every few seconds; only its failures matter.
    quiet = request.endpoint == "health.healthz" and response.status_code < 400
    level = logging.DEBUG if quiet else logging.INFO
    if not request_log.isEnabledFor(level):
        return response  # nothing to build for a line no one keeps
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    path = loggable_path(request.path)
    request_log.log(
        level,
        "%s %s %s %sms",
        request.method,
        path,
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "request_id": g.request_id,
        },
    )
    return response


def init_app(app: Flask) -> None:
    log_format = resolve_log_format(app.config["LOG_FORMAT"], app.config["PLEDGES_ENV"])
    app.config["LOG_FORMAT"] = log_format
    configure_logging(log_format, resolve_log_level(app.config["LOG_LEVEL"]))
    # Flask adds its own handler to the app's logger when it finds none; ours is on root.
    app.logger.removeHandler(default_handler)
    # Registered first, so it runs before any other hook and its after_request runs last,
    # seeing the final status and headers.
    app.before_request(start_request)
    app.after_request(log_request)
