"""Fixtures: an app on a fresh database per test, on SQLite and, when configured, PostgreSQL.

PostgreSQL runs when PLEDGES_TEST_POSTGRES_URL is set (``.ci/run`` sets it). Every test that
takes ``app`` then runs once per database; an unreachable server is an error, not a skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pledges import create_app
from pledges.extensions import db
from pledges.mail.dispatch import EXTENSION_KEY

POSTGRES_URL = os.environ.get("PLEDGES_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("PLEDGES_TEST_REDIS_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_report_header(config) -> str:
    return (
        f"databases: {', '.join(BACKENDS)}"
        + ("" if POSTGRES_URL else " (set PLEDGES_TEST_POSTGRES_URL to add PostgreSQL)")
        + f"; redis: {'yes' if REDIS_URL else 'no (set PLEDGES_TEST_REDIS_URL)'}"
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
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "BASE_URL": "http://pledges.test",
        # Tests share one Redis: each app gets keys of its own.
        "CACHE_KEY_PREFIX": f"pledges-test-{secrets.token_hex(6)}:",
        "RATELIMIT_KEY_PREFIX": f"pledges-test-rl-{secrets.token_hex(6)}",
    }


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


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
def app(app_config: dict, backend: str, request) -> Iterator[Flask]:
    """The app on an empty database; ``@pytest.mark.config(KEY=value)`` changes settings."""
    marker = request.node.get_closest_marker("config")
    app = create_app({**app_config, **(marker.kwargs if marker else {})})
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
