"""Configuration in layers: defaults here, then ``instance/config.py``, then the environment.

Every setting that can come from the environment is listed in ``ENV_SETTINGS`` with the
function that parses it, so the README's table and this module stay one place.
"""

from __future__ import annotations

import os
import re
import secrets
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import limits
from babel import Locale, UnknownLocaleError
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

#: A key that must never be used outside development; production refuses it.
INSECURE_SECRET_KEYS = frozenset({"", "dev", "change-me", "changeme", "secret"})
MIN_SECRET_KEY_LENGTH = 32


class ConfigurationError(RuntimeError):
    """The app was started with settings it must not run with."""


def _bool(value: str) -> bool:
    spelling = value.strip().lower()
    if spelling in {"1", "true", "yes", "on"}:
        return True
    if spelling in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _seconds_list(value: str) -> tuple[int, ...]:
    try:
        seconds = tuple(int(item) for item in _list(value))
    except ValueError:
        raise ValueError("expected whole numbers of seconds separated by commas") from None
    if any(second < 0 for second in seconds):
        raise ValueError("expected whole numbers of seconds separated by commas")
    return seconds


DEFAULTS: dict[str, Any] = {
    # "development" or "production"; production refuses insecure settings.
    "PLEDGES_ENV": "development",
    "SECRET_KEY": None,
    "SQLALCHEMY_DATABASE_URI": None,  # computed: SQLite in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # A database server may restart or fail over: a pooled connection that sat unused for
    # this long is tested before use (pledges.infrastructure.database.ping_after_idle).
    "DATABASE_PING_AFTER_IDLE_SECONDS": 10,
    # The public address links in emails, documents, feeds and share buttons start with,
    # e.g. "https://pledges.example.org". Production must set it. Unset in development:
    # each request's own address, and http://127.0.0.1:$PORT (default 5000) outside one.
    "BASE_URL": None,
    "MAIL_TRANSPORT": "file",  # file | smtp
    "MAIL_FROM": "Joining Forces <pledges@localhost>",
    "MAIL_OUTBOX_DIR": None,  # computed: instance/outbox
    # The sender name of a signer's mail when they asked for discreet emails: it must not
    # name gender, violence or the pledge.
    "DISCREET_SENDER_NAME": "Notifications",
    # Where "Leave this page quickly" goes: a neutral site that looks ordinary on a screen.
    "QUICK_EXIT_URL": "https://www.bbc.com/weather",
    # thread: deliver right after commit; queue: a job on the job queue (the default with
    # JOBS_BACKEND=rq); worker: only `pledges deliver-mail`. None: computed.
    "MAIL_DISPATCH": None,
    "MAIL_MAX_ATTEMPTS": 8,
    # Outbox rows one delivery round claims in one statement and sends over one SMTP
    # connection, and how long its claim holds before another process may send them
    # (renewed while the batch is still being sent; see pledges/mail/delivery.py).
    "MAIL_BATCH_SIZE": 200,
    "MAIL_CLAIM_SECONDS": 300,
    "SMTP_HOST": "localhost",
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_SECURITY": "starttls",  # starttls | ssl | none
    "SMTP_TIMEOUT": 20,
    "WALL_PAGE_SIZE": 50,
    # Small-count protection: a public breakdown cell under this shows as "fewer than N",
    # and an unnamed signer from a country with fewer such signers is shown without it.
    "MIN_PUBLIC_COUNT": 5,
    # Abuse protection (see pledges/infrastructure/abuse.py). Limits use the `limits`
    # notation and may hold several, separated by ";".
    "RATELIMIT_STORAGE_URI": None,  # computed: REDIS_URL, else in-process memory
    # Explicit, because Flask-Limiter otherwise inherits the previous app's setting.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "pledges-rl",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_SWALLOW_ERRORS": True,  # Redis down: let people sign rather than fail
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "SIGN_LIMIT_PER_IP": "10 per minute;60 per hour",
    "SIGN_LIMIT_PER_DOMAIN": "30 per 10 minutes;200 per day",
    "SIGN_LIMIT_EXEMPT_DOMAINS": (
        "gmail.com,googlemail.com,outlook.com,hotmail.com,live.com,yahoo.com,icloud.com,"
        "proton.me,protonmail.com,aol.com,gmx.com,yandex.com,mail.ru,qq.com,163.com"
    ),
    "CONFIRM_LIMIT_PER_IP": "30 per minute",
    # "Lost your link?" (pledges/signing/recover.py): requests per client address, and
    # per email address typed, whoever asks (each sends mail to that inbox).
    "LOST_LINK_LIMIT_PER_IP": "5 per 10 minutes;20 per day",
    "LOST_LINK_LIMIT_PER_ADDRESS": "3 per hour;6 per day",
    "API_LIMIT_PER_IP": "120 per minute",
    # Public reports of wall entries (pledges/moderation), counting submissions.
    "REPORT_LIMIT_PER_IP": "5 per hour;20 per day",
    # Signed pledge PDFs rendered per client address (each costs about 0.1 s of CPU), and
    # verification pages and uploads (codes cannot be guessed by trying them all).
    "PDF_LIMIT_PER_IP": "10 per minute;60 per hour",
    "VERIFY_LIMIT_PER_IP": "60 per minute;600 per hour",
    "IP_HASH_RETENTION_DAYS": 30,
    # Sent emails are deleted after this many days by `pledges purge-sent-mail`.
    "OUTBOX_RETENTION_DAYS": 30,
    # Fernet keys (comma-separated) that encrypt queued email bodies: the first encrypts,
    # every one decrypts. Empty: one key derived from SECRET_KEY (pledges/mail/sealing.py).
    "OUTBOX_KEYS": (),
    # Actions one signer may log in one check-in cycle, and action posts (new, edit,
    # delete) per signer's link; the signed PDF lists only the newest PDF_MAX_ACTIONS.
    "ACTIONS_PER_CYCLE": 50,
    "ACTION_LIMIT_PER_TOKEN": "20 per hour;100 per day",
    "PDF_MAX_ACTIONS": 30,
    # Rendered wall pages are cached under a key that includes the pledge's wall_version,
    # so a change shows at once on every host; the timeout only bounds memory.
    "WALL_CACHE_SECONDS": 300,
    # Public pages that are the same for every visitor (wall, actions, feed, embed, About,
    # the API) tell browsers and reverse proxies they may keep them this long, and serve
    # them stale for HTTP_STALE_SECONDS more while fetching a fresh copy; each carries an
    # ETag from the pledge's wall version, so a revalidation costs a 304.
    "HTTP_CACHE_SECONDS": 10,
    "HTTP_STALE_SECONDS": 60,
    # A process answers a revalidation of a wall, actions page or feed from the ETag it found
    # current this recently, without a database read (pledges/wall/cache.py); never longer
    # than HTTP_CACHE_SECONDS. 0: every revalidation reads the version.
    "REVALIDATION_MEMO_SECONDS": 1,
    # Responses compressed for clients that accept it (Flask-Compress): brotli first, then
    # gzip; the types below, when larger than COMPRESS_MIN_SIZE bytes.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    # Streamed answers (CSV exports) go out as they are made; static files are read
    # whole first (pledges/infrastructure/http_cache.py), so they are compressed too.
    "COMPRESS_STREAMS": False,
    "COMPRESS_BR_LEVEL": 5,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/calendar",
        "text/csv",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/atom+xml",
        "application/xml",
        "image/svg+xml",
    ],
    "REDIS_URL": None,
    # Long work (pledges/infrastructure/jobs.py): "thread" in this process, or "rq" on Redis
    # run by `pledges worker` (None: rq when REDIS_URL is set). A failed job is retried
    # after each of JOBS_RETRY_INTERVALS seconds; a worker's job sends a heartbeat every
    # JOBS_HEARTBEAT_SECONDS (three missed: abandoned, and retried by the next maintenance
    # round, every JOBS_MAINTENANCE_SECONDS).
    "JOBS_BACKEND": None,
    "JOBS_QUEUE_NAME": "pledges",
    "JOBS_RETRY_INTERVALS": (10, 60, 300),
    "JOBS_TIMEOUT_SECONDS": 3600,
    "JOBS_HEARTBEAT_SECONDS": 30,
    "JOBS_MAINTENANCE_SECONDS": 60,
    "CACHE_TYPE": None,  # computed: RedisCache with REDIS_URL, else SimpleCache
    "CACHE_KEY_PREFIX": "pledges:",
    "API_MAX_LIMIT": 200,
    "WTF_CSRF_TIME_LIMIT": 24 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": None,  # computed: on in production, off in development
    # Hops of trusted proxies in front of the app whose X-Forwarded-For / X-Forwarded-Proto
    # are believed; 0 (the default) believes no one, so a client cannot claim HTTPS.
    "PROXY_FIX_X_FOR": 0,
    "PROXY_FIX_X_PROTO": 0,
    "LOG_FORMAT": None,  # computed: json in production, text in development
    "LOG_LEVEL": "INFO",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Organizer accounts (pledges/accounts). A session ends after this long without a
    # request, and at the latest this long after logging in.
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_MAX_HOURS": 24,
    # Failed logins per email address before the account is locked for the window, and
    # login attempts per IP address (both in `limits` notation, shared through Redis).
    "LOGIN_FAILURES_BEFORE_LOCKOUT": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_IP": "30 per 15 minutes",
    "PASSWORD_RESET_HOURS": 2,
    "PASSWORD_MIN_LENGTH": 12,
    # Advocacy dossiers (pledges/dossier): signers per separately laid-out part (memory
    # stays flat whatever the pledge's size), the size above which the web builds in the
    # background, and how long a build may show no progress before it counts as dead.
    "DOSSIER_PART_SIZE": 2000,
    # Signers a dossier names at most (the first to sign); the rest are counted by country,
    # so a dossier of a million stays printable and builds in bounded memory.
    "DOSSIER_MAX_LISTED": 2000,
    "DOSSIER_SYNC_MAX_SIGNATURES": 1000,
    # Organizers' updates (pledges/updates): emails per minute handed to the outbox, as
    # SMTP providers impose (0: as fast as the outbox delivers), and signers per batch.
    "UPDATE_EMAILS_PER_MINUTE": 600,
    "UPDATE_BATCH_SIZE": 500,
    "DOSSIER_STALE_MINUTES": 10,
    # Dossiers being built from the web at once, across every pledge and host (each takes
    # a core and about 150 MB while it runs); the command line is not counted or held.
    "DOSSIER_MAX_BUILDS": 2,
    # Languages of the interface (pledges/infrastructure/i18n.py): each needs a complete
    # catalog in translations/ (tests/test_i18n.py checks every catalog there), except the
    # first, the language the code is written in and the fallback. Arabic and Urdu are
    # right to left (text_direction); adding one is `pybabel init -l xx`, translating every
    # message, and naming it here.
    "SUPPORTED_LOCALES": ("en", "fr", "es", "sw", "ar", "ur", "si", "ta"),
    # Languages a pledge's own words may be written or translated in (pledges/domain/content.py):
    # the interface languages, and others the interface does not speak (yet).
    "CONTENT_LANGUAGES": ("en", "fr", "es", "ur", "ar", "sw"),
}

#: Environment variable -> (config key, parser).
ENV_SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PLEDGES_ENV": ("PLEDGES_ENV", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "BASE_URL": ("BASE_URL", str),
    "REDIS_URL": ("REDIS_URL", str),
    "JOBS_BACKEND": ("JOBS_BACKEND", str),
    "JOBS_QUEUE_NAME": ("JOBS_QUEUE_NAME", str),
    "JOBS_RETRY_INTERVALS": ("JOBS_RETRY_INTERVALS", _seconds_list),
    "JOBS_TIMEOUT_SECONDS": ("JOBS_TIMEOUT_SECONDS", int),
    "JOBS_HEARTBEAT_SECONDS": ("JOBS_HEARTBEAT_SECONDS", int),
    "JOBS_MAINTENANCE_SECONDS": ("JOBS_MAINTENANCE_SECONDS", int),
    "DATABASE_PING_AFTER_IDLE_SECONDS": ("DATABASE_PING_AFTER_IDLE_SECONDS", int),
    "WALL_CACHE_SECONDS": ("WALL_CACHE_SECONDS", int),
    "HTTP_CACHE_SECONDS": ("HTTP_CACHE_SECONDS", int),
    "HTTP_STALE_SECONDS": ("HTTP_STALE_SECONDS", int),
    "REVALIDATION_MEMO_SECONDS": ("REVALIDATION_MEMO_SECONDS", int),
    "MIN_PUBLIC_COUNT": ("MIN_PUBLIC_COUNT", int),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "RATELIMIT_ENABLED": ("RATELIMIT_ENABLED", _bool),
    "SIGN_LIMIT_PER_IP": ("SIGN_LIMIT_PER_IP", str),
    "SIGN_LIMIT_PER_DOMAIN": ("SIGN_LIMIT_PER_DOMAIN", str),
    "SIGN_LIMIT_EXEMPT_DOMAINS": ("SIGN_LIMIT_EXEMPT_DOMAINS", str),
    "CONFIRM_LIMIT_PER_IP": ("CONFIRM_LIMIT_PER_IP", str),
    "LOST_LINK_LIMIT_PER_IP": ("LOST_LINK_LIMIT_PER_IP", str),
    "LOST_LINK_LIMIT_PER_ADDRESS": ("LOST_LINK_LIMIT_PER_ADDRESS", str),
    "API_LIMIT_PER_IP": ("API_LIMIT_PER_IP", str),
    "REPORT_LIMIT_PER_IP": ("REPORT_LIMIT_PER_IP", str),
    "PDF_LIMIT_PER_IP": ("PDF_LIMIT_PER_IP", str),
    "VERIFY_LIMIT_PER_IP": ("VERIFY_LIMIT_PER_IP", str),
    "IP_HASH_RETENTION_DAYS": ("IP_HASH_RETENTION_DAYS", int),
    "OUTBOX_RETENTION_DAYS": ("OUTBOX_RETENTION_DAYS", int),
    "OUTBOX_KEYS": ("OUTBOX_KEYS", _list),
    "ACTIONS_PER_CYCLE": ("ACTIONS_PER_CYCLE", int),
    "ACTION_LIMIT_PER_TOKEN": ("ACTION_LIMIT_PER_TOKEN", str),
    "PDF_MAX_ACTIONS": ("PDF_MAX_ACTIONS", int),
    "MAIL_TRANSPORT": ("MAIL_TRANSPORT", str),
    "MAIL_FROM": ("MAIL_FROM", str),
    "MAIL_OUTBOX_DIR": ("MAIL_OUTBOX_DIR", str),
    "DISCREET_SENDER_NAME": ("DISCREET_SENDER_NAME", str),
    "QUICK_EXIT_URL": ("QUICK_EXIT_URL", str),
    "MAIL_DISPATCH": ("MAIL_DISPATCH", str),
    "MAIL_MAX_ATTEMPTS": ("MAIL_MAX_ATTEMPTS", int),
    "MAIL_BATCH_SIZE": ("MAIL_BATCH_SIZE", int),
    "MAIL_CLAIM_SECONDS": ("MAIL_CLAIM_SECONDS", int),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_USERNAME": ("SMTP_USERNAME", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "SMTP_SECURITY": ("SMTP_SECURITY", str),
    "SMTP_TIMEOUT": ("SMTP_TIMEOUT", int),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "PROXY_FIX_X_FOR": ("PROXY_FIX_X_FOR", int),
    "PROXY_FIX_X_PROTO": ("PROXY_FIX_X_PROTO", int),
    "LOG_FORMAT": ("LOG_FORMAT", str),
    "LOG_LEVEL": ("LOG_LEVEL", str),
    "SESSION_IDLE_MINUTES": ("SESSION_IDLE_MINUTES", int),
    "SESSION_MAX_HOURS": ("SESSION_MAX_HOURS", int),
    "LOGIN_FAILURES_BEFORE_LOCKOUT": ("LOGIN_FAILURES_BEFORE_LOCKOUT", str),
    "LOGIN_LIMIT_PER_IP": ("LOGIN_LIMIT_PER_IP", str),
    "PASSWORD_RESET_HOURS": ("PASSWORD_RESET_HOURS", int),
    "PASSWORD_MIN_LENGTH": ("PASSWORD_MIN_LENGTH", int),
    "DOSSIER_PART_SIZE": ("DOSSIER_PART_SIZE", int),
    "DOSSIER_MAX_LISTED": ("DOSSIER_MAX_LISTED", int),
    "UPDATE_EMAILS_PER_MINUTE": ("UPDATE_EMAILS_PER_MINUTE", int),
    "UPDATE_BATCH_SIZE": ("UPDATE_BATCH_SIZE", int),
    "DOSSIER_SYNC_MAX_SIGNATURES": ("DOSSIER_SYNC_MAX_SIGNATURES", int),
    "DOSSIER_STALE_MINUTES": ("DOSSIER_STALE_MINUTES", int),
    "DOSSIER_MAX_BUILDS": ("DOSSIER_MAX_BUILDS", int),
    "LANGUAGES": ("SUPPORTED_LOCALES", _list),
    "CONTENT_LANGUAGES": ("CONTENT_LANGUAGES", _list),
}


#: Numeric settings and the least each may be (the greatest, for a port).
NUMBER_RANGES: dict[str, tuple[int, int | None]] = {
    "DATABASE_PING_AFTER_IDLE_SECONDS": (0, None),  # 0: test every connection before use
    "WALL_CACHE_SECONDS": (0, None),  # 0: no cache
    "HTTP_CACHE_SECONDS": (0, None),  # 0: browsers and proxies revalidate every time
    "HTTP_STALE_SECONDS": (0, None),
    "REVALIDATION_MEMO_SECONDS": (0, None),  # 0: every revalidation reads the version
    "MIN_PUBLIC_COUNT": (1, None),  # 1: every count exact
    "IP_HASH_RETENTION_DAYS": (0, None),
    "OUTBOX_RETENTION_DAYS": (0, None),
    "ACTIONS_PER_CYCLE": (1, None),
    "PDF_MAX_ACTIONS": (1, None),
    "MAIL_MAX_ATTEMPTS": (1, None),
    "MAIL_BATCH_SIZE": (1, None),
    "MAIL_CLAIM_SECONDS": (1, None),
    "SMTP_PORT": (1, 65535),
    "SMTP_TIMEOUT": (1, None),
    "SESSION_IDLE_MINUTES": (1, None),
    "SESSION_MAX_HOURS": (1, None),
    "PASSWORD_RESET_HOURS": (1, None),
    "PASSWORD_MIN_LENGTH": (8, None),
    "DOSSIER_PART_SIZE": (1, None),
    # 0: nobody named, every signer counted by country. The whole list is laid out in
    # memory (about a megabyte per 130 names), hence the ceiling.
    "DOSSIER_MAX_LISTED": (0, 20_000),
    "UPDATE_EMAILS_PER_MINUTE": (0, None),  # 0: no limit
    "UPDATE_BATCH_SIZE": (1, None),
    "DOSSIER_SYNC_MAX_SIGNATURES": (0, None),  # 0: always in the background
    "DOSSIER_STALE_MINUTES": (1, None),
    "DOSSIER_MAX_BUILDS": (1, None),
    "JOBS_TIMEOUT_SECONDS": (1, None),
    "JOBS_HEARTBEAT_SECONDS": (1, None),
    "JOBS_MAINTENANCE_SECONDS": (1, None),
}

#: Settings in the `limits` notation ("10 per minute;60 per hour").
RATE_LIMITS = tuple(
    key
    for key in DEFAULTS
    if key.endswith(
        ("_LIMIT_PER_IP", "_LIMIT_PER_DOMAIN", "_LIMIT_PER_TOKEN", "_LIMIT_PER_ADDRESS")
    )
    or key == "LOGIN_FAILURES_BEFORE_LOCKOUT"
)

#: The language the interface is written in: it needs no catalog.
SOURCE_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def normalize_database_url(url: str) -> str:
    """Let operators write the URL their platform gives them; we speak psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Fill ``app.config``: defaults, then instance/config.py, then env, then ``overrides``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for env_name, (key, parse) in ENV_SETTINGS.items():
        raw = os.environ.get(env_name)
        if raw is not None and raw != "":
            try:
                app.config[key] = parse(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{env_name}={raw!r} is not valid: {exc}") from exc
    # Tests name languages without catalogs in their mappings; an operator's must have one.
    _require_catalogs(_locales(app.config["SUPPORTED_LOCALES"], "LANGUAGES"))
    if overrides:
        app.config.from_mapping(overrides)

    instance = Path(app.instance_path)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'pledges.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config["CACHE_TYPE"]:
        if app.config["REDIS_URL"]:
            app.config["CACHE_TYPE"] = "RedisCache"
            app.config["CACHE_REDIS_URL"] = app.config["REDIS_URL"]
        else:
            app.config["CACHE_TYPE"] = "SimpleCache"
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"] or "memory://"
    if not app.config["JOBS_BACKEND"]:
        app.config["JOBS_BACKEND"] = "rq" if app.config["REDIS_URL"] else "thread"
    if not app.config["MAIL_DISPATCH"]:
        app.config["MAIL_DISPATCH"] = "queue" if app.config["JOBS_BACKEND"] == "rq" else "thread"
    if not app.config["MAIL_OUTBOX_DIR"]:
        app.config["MAIL_OUTBOX_DIR"] = str(instance / "outbox")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite serialises writers: wait for the lock rather than fail under load. (A file
        # cannot drop a connection: its connections are never pinged.)
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"timeout": 30, **options.get("connect_args", {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    _settle_base_url(app)
    _settle_secret_key(app)
    _check(app)


#: Where `make run` serves when PORT is not given (the Makefile's default too).
DEFAULT_PORT = 5000


def default_base_url() -> str:
    """Where `make run` serves: this host on $PORT (the Makefile passes its PORT on)."""
    port = os.environ.get("PORT", "").strip()
    if not (port.isdecimal() and 1 <= int(port) <= 65535):
        port = str(DEFAULT_PORT)
    return f"http://127.0.0.1:{int(port)}"


def _settle_base_url(app: Flask) -> None:
    """BASE_URL as set; unset, production stops and development follows each request."""
    cfg = app.config
    explicit = bool((cfg["BASE_URL"] or "").strip())
    if not explicit and cfg["PLEDGES_ENV"] == "production":
        raise ConfigurationError(
            "Production needs BASE_URL set to the site's public address, e.g. "
            "BASE_URL=https://pledges.example.org: every link in emails, PDFs, feeds and "
            "share buttons starts with it."
        )
    cfg["BASE_URL"] = cfg["BASE_URL"].strip().rstrip("/") if explicit else default_base_url()
    cfg["BASE_URL_FROM_REQUEST"] = not explicit
    try:
        parts = urllib.parse.urlsplit(cfg["BASE_URL"])
        valid = parts.scheme in {"http", "https"} and bool(parts.hostname) and parts.port != 0
        valid = valid and not (parts.query or parts.fragment)
    except ValueError:  # a port that is not a number, an unclosed [IPv6
        valid = False
    if not valid:
        raise ConfigurationError(
            f"BASE_URL={cfg['BASE_URL']!r} is not valid: write the site's address like "
            "'https://pledges.example.org' (a path prefix is allowed, nothing after it)."
        ) from None


def _settle_secret_key(app: Flask) -> None:
    """Development gets a random key kept in instance/; production must bring its own."""
    if app.config["SECRET_KEY"] or app.config["PLEDGES_ENV"] == "production":
        return
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL so two processes starting at once cannot each write a different key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _check(app: Flask) -> None:
    cfg = app.config
    if cfg["PLEDGES_ENV"] not in {"development", "production"}:
        raise ConfigurationError("PLEDGES_ENV must be 'development' or 'production'.")
    if cfg["MAIL_TRANSPORT"] not in {"file", "smtp"}:
        raise ConfigurationError("MAIL_TRANSPORT must be 'file' or 'smtp'.")
    if cfg["MAIL_DISPATCH"] not in {"thread", "queue", "worker"}:
        raise ConfigurationError("MAIL_DISPATCH must be 'thread', 'queue' or 'worker'.")
    _check_jobs(cfg)
    if cfg["SMTP_SECURITY"] not in {"starttls", "ssl", "none"}:
        raise ConfigurationError("SMTP_SECURITY must be 'starttls', 'ssl' or 'none'.")
    if not cfg["SUPPORTED_LOCALES"]:
        raise ConfigurationError("LANGUAGES must name at least one language, e.g. 'en,fr,es'.")
    cfg["SUPPORTED_LOCALES"] = _locales(cfg["SUPPORTED_LOCALES"], "LANGUAGES")
    cfg["CONTENT_LANGUAGES"] = _locales(cfg["CONTENT_LANGUAGES"] or (), "CONTENT_LANGUAGES")
    _check_urls(cfg)
    _check_numbers(cfg)
    _check_safety(cfg)
    for key in RATE_LIMITS:
        try:
            limits.parse_many(cfg[key])
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{key}={cfg[key]!r} is not a rate limit: write it like '10 per minute' "
                "(several separated by ';')."
            ) from exc
    _check_outbox_keys(cfg)
    if cfg["PLEDGES_ENV"] == "production":
        key = cfg["SECRET_KEY"] or ""
        if key.strip().lower() in INSECURE_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                "Production needs SECRET_KEY set to a random value of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters (python -c 'import secrets; "
                "print(secrets.token_hex(32))')."
            )


def _check_jobs(cfg: dict[str, Any]) -> None:
    if cfg["JOBS_BACKEND"] not in {"thread", "rq"}:
        raise ConfigurationError("JOBS_BACKEND must be 'thread' or 'rq'.")
    if cfg["JOBS_BACKEND"] == "rq" and not cfg["REDIS_URL"]:
        raise ConfigurationError("JOBS_BACKEND=rq needs REDIS_URL: the queue lives in Redis.")
    if cfg["MAIL_DISPATCH"] == "queue" and cfg["JOBS_BACKEND"] != "rq":
        raise ConfigurationError("MAIL_DISPATCH=queue needs the job queue (JOBS_BACKEND=rq).")
    name = cfg["JOBS_QUEUE_NAME"]
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ConfigurationError(
            f"JOBS_QUEUE_NAME={name!r} is not valid: letters, digits, '.', '_' or '-'."
        )
    intervals = cfg["JOBS_RETRY_INTERVALS"]
    if isinstance(intervals, str):  # from instance/config.py, written as in the env
        try:
            intervals = _seconds_list(intervals)
        except ValueError as exc:
            raise ConfigurationError(f"JOBS_RETRY_INTERVALS={intervals!r}: {exc}.") from exc
    cfg["JOBS_RETRY_INTERVALS"] = tuple(intervals)


def _check_outbox_keys(cfg: dict[str, Any]) -> None:
    if isinstance(cfg["OUTBOX_KEYS"], str):  # from instance/config.py, written as in the env
        cfg["OUTBOX_KEYS"] = _list(cfg["OUTBOX_KEYS"])
    for key in cfg["OUTBOX_KEYS"] or ():
        try:
            Fernet(key)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                "OUTBOX_KEYS must be Fernet keys separated by commas (python -c 'from "
                "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
            ) from exc


def _locales(codes: tuple[str, ...], setting: str) -> tuple[str, ...]:
    """``codes`` as babel names them (pt-BR -> pt_BR); a ConfigurationError for one it
    does not know, which would otherwise fail every page."""
    names = []
    for code in codes:
        try:
            names.append(str(Locale.parse(str(code).strip().replace("-", "_"))))
        except (ValueError, UnknownLocaleError) as exc:
            raise ConfigurationError(
                f"{setting}: {code!r} is not a language code babel knows (e.g. 'fr', 'pt_BR')."
            ) from exc
    return tuple(dict.fromkeys(names))


def _require_catalogs(locales: tuple[str, ...]) -> None:
    for name in locales:
        language = name.split("_")[0]
        if language == SOURCE_LANGUAGE:
            continue
        # gettext looks for pt_BR, then pt.
        if not any((TRANSLATIONS_DIR / code / "LC_MESSAGES").is_dir() for code in {name, language}):
            raise ConfigurationError(
                f"LANGUAGES: {name!r} has no catalog in {TRANSLATIONS_DIR}/{name}/LC_MESSAGES "
                "(create one with pybabel init, or leave it out)."
            )


def _check_urls(cfg: Mapping[str, Any]) -> None:
    try:
        make_url(cfg["SQLALCHEMY_DATABASE_URI"])
    except ArgumentError:
        # Not echoed: the URL may carry a password.
        raise ConfigurationError(
            "DATABASE_URL is not a database URL: write it like "
            "'postgresql://user:password@host:5432/pledges' or 'sqlite:////path/pledges.db'."
        ) from None
    redis_url = cfg["REDIS_URL"]
    if redis_url and urllib.parse.urlsplit(redis_url).scheme not in {"redis", "rediss"}:
        raise ConfigurationError(  # not echoed: the URL may carry a password
            "REDIS_URL is not a Redis URL: write it like 'redis://host:6379/0' "
            "(or rediss:// for TLS)."
        )


def _check_safety(cfg: Mapping[str, Any]) -> None:
    exit_url = urllib.parse.urlsplit(str(cfg["QUICK_EXIT_URL"] or ""))
    if exit_url.scheme not in {"http", "https"} or not exit_url.netloc:
        raise ConfigurationError(
            f"QUICK_EXIT_URL={cfg['QUICK_EXIT_URL']!r} is not valid: an address on another, "
            "neutral site, like 'https://www.bbc.com/weather'."
        )
    name = cfg["DISCREET_SENDER_NAME"]
    if not isinstance(name, str) or not name.strip() or any(c in name for c in '<>@"\r\n'):
        raise ConfigurationError(
            f"DISCREET_SENDER_NAME={name!r} is not valid: a plain name like 'Notifications', "
            "without an address, quotes or line breaks."
        )


def _check_numbers(cfg: Mapping[str, Any]) -> None:
    for key, (least, most) in NUMBER_RANGES.items():
        value = cfg[key]
        in_range = (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value >= least
            and (most is None or value <= most)
        )
        if not in_range:
            allowed = f"from {least} to {most}" if most is not None else f"{least} or more"
            raise ConfigurationError(f"{key}={value!r} is not valid: a whole number {allowed}.")
