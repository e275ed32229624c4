"""Fixtures: an app on a fresh database per test, on SQLite and, when available, PostgreSQL.

PostgreSQL and Redis join the run whenever they answer at their default local addresses
(127.0.0.1:5432 database ``test``, 127.0.0.1:6379) or PLEDGES_TEST_POSTGRES_URL /
PLEDGES_TEST_REDIS_URL name them, so ``make test`` runs what CI runs. Every test that takes
``app`` then runs once per database. A server named by its variable, or any server when
CI=true, that does not answer is an error, never a quieter SQLite-only run. The closing
summary names the backends that ran. Setting a variable to ``off`` leaves its server out.

``make test`` spreads the files over pytest-xdist workers (``--dist loadfile``): each worker
makes its own PostgreSQL database, its apps their own Redis key prefixes, and its own live
server and browser on free ports, so workers share nothing but the servers.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from pledges import create_app
from pledges.extensions import db
from pledges.mail.dispatch import EXTENSION_KEY

DEFAULT_POSTGRES_URL = "postgresql+psycopg://127.0.0.1:5432/test"
# Database 15: out of the way of an instance's own data on the same server.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
ON_CI = os.environ.get("CI", "").lower() == "true"


def postgres_answers(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 2}, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _server_under_test(variable: str, default: str, answers) -> str | None:
    """The server's URL if it is to be tested: named by ``variable``, or answering at
    ``default``. Named (or on CI) and silent is an error: the run stops saying so."""
    named = os.environ.get(variable)
    if named is not None and named.lower() in {"", "0", "no", "off"}:
        return None  # left out on purpose, for a quick SQLite-only run
    url = named or default
    if answers(url):
        return url
    if named or ON_CI:
        why = f"{variable}={named}" if named else f"CI=true and nothing answers at {default}"
        raise pytest.UsageError(f"{why}: the server does not answer; start it or unset it")
    return None


POSTGRES_URL = _server_under_test(
    "PLEDGES_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL, postgres_answers
)
REDIS_URL = _server_under_test("PLEDGES_TEST_REDIS_URL", DEFAULT_REDIS_URL, redis_answers)
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
# What the tests of this run used, for the closing summary.
_USED: dict[str, bool] = {}


def pytest_report_header(config) -> str:
    return (
        f"databases: {', '.join(BACKENDS)}"
        + ("" if POSTGRES_URL else f" (nothing at {DEFAULT_POSTGRES_URL})")
        + f"; redis: {'yes' if REDIS_URL else f'no (nothing at {DEFAULT_REDIS_URL})'}"
    )


def pytest_sessionfinish(session) -> None:
    """In a pytest-xdist worker: hand the backends this worker used to the main process."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["pledges_backends_used"] = sorted(k for k, v in _USED.items() if v)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """In the main process of a pytest-xdist run: gather what each worker used."""
    for name in getattr(node, "workeroutput", {}).get("pledges_backends_used", []):
        _USED[name] = True


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    ran = [name for name in ("sqlite", "postgresql") if _USED.get(name)]
    terminalreporter.write_line(
        f"backends: {', '.join(ran) or 'none'}; redis: {'yes' if _USED.get('redis') else 'no'}"
    )


@contextmanager
def scratch_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the PLEDGES_TEST_POSTGRES_URL server; dropped afterwards."""
    assert POSTGRES_URL
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = admin_engine(POSTGRES_URL)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A database of this run's own on the server, so parallel runs never collide; each
    test then starts from empty tables. PLEDGES_TEST_POSTGRES_URL names the server."""
    with scratch_postgres_database("pledges_test") as url:
        app = create_app(_base_config(url, Path("/nonexistent")))
        with app.app_context():
            db.create_all()
            db.engine.dispose()
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path) -> Iterator[str]:
    """The URL of an empty database with no tables, on each backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with scratch_postgres_database("pledges_empty") as url:
            yield url


def _base_config(url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": url,
        "MAIL_DISPATCH": "worker",
        # Jobs in a thread even where REDIS_URL is set; tests/test_queue.py uses the queue.
        "JOBS_BACKEND": "thread",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "BASE_URL": "http://pledges.test",
        # Tests share one Redis: each app gets keys of its own.
        "CACHE_KEY_PREFIX": f"pledges-test-{secrets.token_hex(6)}:",
        "RATELIMIT_KEY_PREFIX": f"pledges-test-rl-{secrets.token_hex(6)}",
        # Production lets people sign when Redis is down; a test on Redis must fail instead
        # of passing quietly on the limiter's in-memory stand-in.
        "RATELIMIT_SWALLOW_ERRORS": False,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False,
    }


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    _USED[request.param] = True
    return request.param


@pytest.fixture(params=[REDIS_URL] if REDIS_URL else [], ids=["redis"] if REDIS_URL else [])
def redis_url(request) -> str:
    """The Redis server under test, checked to answer: a test that takes it runs on Redis or
    fails. Without a server (and not on CI) such tests are skipped, and the summary says so."""
    client = redis.Redis.from_url(request.param, socket_connect_timeout=2, socket_timeout=2)
    try:
        assert client.ping(), f"Redis at {request.param} does not answer PING"
    finally:
        client.close()
    _USED["redis"] = True
    return request.param


def redis_settings(url: str) -> dict:
    """Settings that put an app's rate limits, lock-out and page cache in Redis at ``url``."""
    return {
        "REDIS_URL": url,
        "RATELIMIT_STORAGE_URI": url,
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": url,
    }


@pytest.fixture
def database_url(backend: str, request, tmp_path: Path) -> str:
    if backend == "postgresql":
        return request.getfixturevalue("postgres_schema")
    return f"sqlite:///{tmp_path / 'pledges.db'}"


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict:
    """Override in a test module to change settings."""
    return _base_config(database_url, tmp_path)


@pytest.fixture
def app(app_config: dict, backend: str, request, tmp_path: Path) -> Iterator[Flask]:
    """The app on an empty database; ``@pytest.mark.config(KEY=value)`` changes settings."""
    marker = request.node.get_closest_marker("config")
    app = create_app({**app_config, **(marker.kwargs if marker else {})})
    # What the app keeps on disk (kept paper scans) goes to the test's folder, never the
    # project's instance/.
    app.instance_path = str(tmp_path / "instance")
    if app.config["RATELIMIT_STORAGE_URI"].startswith("redis") or app.config["REDIS_URL"]:
        _USED["redis"] = True
    with app.app_context():
        if backend == "postgresql":
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            db.create_all()
    yield app
    dispatcher = app.extensions.get(EXTENSION_KEY)
    if dispatcher is not None:
        dispatcher.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """The app with its context pushed for the whole test, so the test can use the database,
    services and factories directly. Take it last, so the fixtures before it set up outside
    the context. The test client's requests run inside this same context: a test that needs
    a request to start from a fresh session keeps its own ``with app.app_context():`` blocks."""
    with app.app_context():
        yield app


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """The app with a page and an API route that fail, as a bug would."""

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret internal detail")

    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def outbox_dir(app: Flask) -> Path:
    return Path(app.config["MAIL_OUTBOX_DIR"])


def admin_engine(url: str):
    """An autocommit engine for CREATE/DROP DATABASE."""
    return create_engine(url, isolation_level="AUTOCOMMIT")
