"""The SQLite files at rest: readable by their owner only, deleted text overwritten, the
WAL emptied after an erasure. On real files, since that is where the data lingers."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from pledges import create_app
from pledges.extensions import db
from pledges.infrastructure.database import checkpoint
from tests.conftest import _base_config
from tests.factories import confirmed_signature, make_pledge

SECRET = "Zebedee Quartermain-Oyelaran"


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.fixture
def sqlite_app(tmp_path: Path):
    """An app on a SQLite file of its own, made under a permissive umask."""
    previous = os.umask(0o022)
    try:
        app = create_app(_base_config(f"sqlite:///{tmp_path / 'pledges.db'}", tmp_path))
        with app.app_context():
            db.create_all()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        os.umask(previous)


def test_the_database_and_its_wal_files_are_readable_by_their_owner_only(sqlite_app, tmp_path):
    with sqlite_app.app_context():
        confirmed_signature(make_pledge(), name=SECRET)
        database = tmp_path / "pledges.db"
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert path.exists(), path
            assert mode(path) == 0o600, (path, oct(mode(path)))


def test_a_database_made_before_is_restricted_when_the_app_opens_it(tmp_path):
    database = tmp_path / "old.db"
    sqlite3.connect(database).close()
    os.chmod(database, 0o644)
    app = create_app(_base_config(f"sqlite:///{database}", tmp_path))
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    assert mode(database) == 0o600


def test_every_connection_overwrites_deleted_content(sqlite_app):
    with sqlite_app.app_context():
        assert db.session.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_after_a_checkpoint_deleted_text_is_in_neither_the_file_nor_the_wal(sqlite_app, tmp_path):
    database = tmp_path / "pledges.db"
    wal = Path(f"{database}-wal")
    with sqlite_app.app_context():
        signature = confirmed_signature(make_pledge(), name=SECRET)
        assert SECRET.encode() in database.read_bytes() + wal.read_bytes()
        db.session.execute(text("DELETE FROM outbox_emails"))
        db.session.delete(signature)
        db.session.commit()
        assert checkpoint() is True
        assert wal.stat().st_size == 0  # TRUNCATE: nothing left in the WAL
        assert SECRET.encode() not in database.read_bytes()


def test_checkpoint_is_harmless_on_every_backend(app):
    with app.app_context():
        assert checkpoint() is True
