"""Pooled PostgreSQL connections are tested before use only after sitting idle
(DATABASE_PING_AFTER_IDLE_SECONDS): a server that dropped them is met by the pool, not by
a visitor, without a round trip added to every request. On a real server, whose backends
are ended with pg_terminate_backend as a restart would end them."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from pledges import create_app
from pledges.extensions import db
from pledges.infrastructure.database import read_row
from tests.conftest import _USED, POSTGRES_URL, _base_config, admin_engine
from tests.factories import make_pledge


@pytest.fixture(params=["postgresql"] if POSTGRES_URL else [])
def postgres_url(request) -> str:
    _USED["postgresql"] = True
    return request.getfixturevalue("postgres_schema")


def make_app(url: str, tmp_path: Path, idle_seconds: int):
    return create_app(
        {**_base_config(url, tmp_path), "DATABASE_PING_AFTER_IDLE_SECONDS": idle_seconds}
    )


def backend_pid(app) -> int:
    with app.app_context(), db.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()


def end_backend(pid: int) -> None:
    """End a server process as a restart would, and wait until it is gone."""
    admin = admin_engine(POSTGRES_URL)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(100):
                alive = connection.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar_one()
                if not alive:
                    return
                time.sleep(0.05)
        raise AssertionError(f"backend {pid} did not end")
    finally:
        admin.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path, idle_seconds=0)
    try:
        dropped = backend_pid(app)  # back in the pool, idle
        end_backend(dropped)
        with app.app_context():
            make_pledge(slug="after-a-restart")
        response = app.test_client().get("/p/after-a-restart/wall")
        assert response.status_code == 200
        assert backend_pid(app) != dropped
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_url, tmp_path):
    """The other side of the trade: within the idle time nothing is tested, so a connection
    dropped in that instant fails the statement that meets it; the pool is then renewed,
    and the next use works."""
    app = make_app(postgres_url, tmp_path, idle_seconds=3600)
    try:
        dropped = backend_pid(app)
        end_backend(dropped)
        with app.app_context():
            with pytest.raises(OperationalError), db.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        assert backend_pid(app) != dropped
    finally:
        with app.app_context():
            db.engine.dispose()


def test_a_failed_hot_path_read_hands_its_connection_back_out_of_autocommit(postgres_url, tmp_path):
    """database.read_row runs in autocommit; a statement that fails there must not leave
    the pooled connection so, or the next request's transaction would commit piecemeal."""
    app = make_app(postgres_url, tmp_path, idle_seconds=10)
    try:
        with app.app_context():
            returned: list[bool] = []
            event.listen(
                db.engine, "checkin", lambda dbapi, record: returned.append(dbapi.autocommit)
            )
            with pytest.raises(psycopg.errors.DivisionByZero):
                read_row(text("SELECT 1 / 0 WHERE :x"), {"x": True})
            assert read_row(text("SELECT :x"), {"x": 7}) == (7,)
            assert returned == [False, False]
    finally:
        with app.app_context():
            db.engine.dispose()
