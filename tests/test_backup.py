"""Backups: back up, wipe, restore, and find every row again; refuse what is not a backup,
nor only looks like one; name a path that cannot be written in one line."""

from __future__ import annotations

import secrets
import shutil
import sqlite3
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

from pledges import create_app
from pledges.demo import DEMO_SLUG
from pledges.extensions import db
from pledges.infrastructure.backup import libpq_connection
from pledges.models import Organization, Pledge
from tests.conftest import POSTGRES_URL, _base_config, admin_engine
from tests.helpers import sign_via_form

needs_pg_tools = pytest.mark.skipif(
    shutil.which("pg_dump") is None and not POSTGRES_URL,
    reason="pg_dump is not installed (.ci/run installs it)",
)


@pytest.fixture
def database_url(backend: str, tmp_path: Path):
    """A database of this test's own, built by the migrations, as in production: a backup
    carries the alembic_version table that ``create_all`` would not make."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'pledges.db'}"
        migrate(url, tmp_path)
        yield url
        return
    name = f"pledges_backup_{secrets.token_hex(4)}"
    admin = admin_engine(POSTGRES_URL)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        migrate(url, tmp_path)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def migrate(url: str, tmp_path: Path) -> None:
    app = create_app(_base_config(url, tmp_path))
    with app.app_context():
        upgrade()
        db.engine.dispose()


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    with app.app_context():
        with db.engine.connect() as conn:
            tables = MetaData()
            tables.reflect(conn)
            return {
                name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                for name, table in sorted(tables.tables.items())
            }


def execute(app, *statements: str) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
        db.engine.dispose()


def add_organization(app, slug: str) -> None:
    with app.app_context():
        db.session.add(Organization(slug=slug, name=slug.title()))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def populated(app, runner, client):
    """The demo pledge with signers, actions and counters, and a pending signer's email."""
    result = runner.invoke(args=["seed-demo", "--signatures", "40", "--seed", "11"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        pledge = db.session.scalar(db.select(Pledge).where(Pledge.slug == DEMO_SLUG))
        assert sign_via_form(client, pledge, email="pending@example.org").status_code == 302
    return app


def backup(runner, path: Path):
    return runner.invoke(args=["backup", str(path)])


def restore(runner, path: Path, *extra: str, **kwargs):
    return runner.invoke(args=["restore", *extra, str(path)], **kwargs)


@needs_pg_tools
def test_backup_wipe_restore_gives_back_every_row(populated, runner, client, tmp_path):
    app = populated
    before = snapshot(app)
    for table in ("alembic_version", "pledges", "signatures", "actions", "outbox_emails"):
        assert before[table], f"{table} should have rows to compare"
    file = tmp_path / "backups" / "pledges.backup"

    result = backup(runner, file)
    assert result.exit_code == 0, result.output
    assert f"to {file}" in result.output
    assert file.stat().st_mode & 0o777 == 0o600  # it holds every signer's email
    assert [p.name for p in file.parent.iterdir()] == ["pledges.backup"]  # nothing partial

    # Wipe: the data and the tables themselves.
    with app.app_context():
        db.drop_all()
    execute(app, "DROP TABLE alembic_version")
    assert snapshot(app) == {}

    result = restore(runner, file, "--yes")
    assert result.exit_code == 0, result.output
    assert "schema revision" in result.output and "db upgrade" not in result.output
    assert snapshot(app) == before

    # The restored app works, and new rows get fresh keys (sequences came back too).
    assert client.get(f"/p/{DEMO_SLUG}/wall").status_code == 200
    with app.app_context():
        pledge = db.session.scalar(db.select(Pledge).where(Pledge.slug == DEMO_SLUG))
        assert sign_via_form(client, pledge, email="after@example.org").status_code == 302
        db.session.add(Organization(slug="after-restore", name="After restore"))
        db.session.commit()


@needs_pg_tools
def test_backup_runs_while_the_app_is_writing(populated, runner, tmp_path):
    app = populated
    file = tmp_path / "online.backup"
    with app.app_context():
        # A request is in the middle of a write: the backup neither waits for it nor
        # includes what it has not committed.
        db.session.add(Organization(slug="mid", name="Mid"))
        db.session.flush()
        result = backup(runner, file)
        db.session.rollback()
    assert result.exit_code == 0, result.output
    add_organization(app, "later")
    assert restore(runner, file, "--yes").exit_code == 0
    with app.app_context():
        slugs = set(db.session.scalars(db.select(Organization.slug)))
    assert "mid" not in slugs and "later" not in slugs and slugs


@pytest.mark.parametrize("backend", ["sqlite"])  # another process's connection to the file
def test_sqlite_restore_reaches_connections_that_stay_open(app, runner, tmp_path):
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    add_organization(app, "kept")
    file = tmp_path / "kept.backup"
    assert backup(runner, file).exit_code == 0
    assert backup(runner, database).exit_code == 1  # never over the database itself
    execute(app, "DELETE FROM organizations")
    other_worker = sqlite3.connect(database)
    try:
        assert other_worker.execute("SELECT count(*) FROM organizations").fetchone() == (0,)
        assert restore(runner, file, "--yes").exit_code == 0
        assert other_worker.execute("SELECT slug FROM organizations").fetchall() == [("kept",)]
    finally:
        other_worker.close()


@needs_pg_tools
def test_restore_asks_first(populated, runner, tmp_path):
    app = populated
    file = tmp_path / "ask.backup"
    assert backup(runner, file).exit_code == 0
    execute(app, "DELETE FROM access_tokens")
    changed = snapshot(app)

    declined = restore(runner, file, input="n\n")
    assert "Replace every row" in declined.output
    assert declined.exit_code == 1
    assert snapshot(app) == changed

    accepted = restore(runner, file, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert snapshot(app) != changed


@needs_pg_tools
def test_what_is_not_a_backup_of_this_app_is_refused_and_nothing_changes(
    populated, backend, runner, tmp_path
):
    app = populated
    sqlite = backend == "sqlite"
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 100)
    not_ours = tmp_path / "not-ours.backup"
    newer = tmp_path / "newer.backup"
    truncated = tmp_path / "truncated.backup"
    cut_short = tmp_path / "cut-short.backup"

    execute(app, "UPDATE alembic_version SET version_num = '0123456789ab'")
    assert backup(runner, newer).exit_code == 0
    execute(app, "DROP TABLE alembic_version")
    assert backup(runner, not_ours).exit_code == 0
    # Put the database back as it was, and take a good backup to cut short.
    execute(app, "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version VALUES (:head)"), {"head": head()})
    good = tmp_path / "good.backup"
    assert backup(runner, good).exit_code == 0
    data = good.read_bytes()
    truncated.write_bytes(data[: len(data) * 3 // 5])
    # Whole up to its last rows: it passes the checks and fails while being restored.
    cut_short.write_bytes(data[:-64])
    execute(app, "DELETE FROM access_tokens")  # a change the refused restores must keep
    before = snapshot(app)

    expected = {
        junk: "not a readable SQLite database" if sqlite else "not a pg_dump archive",
        not_ours: "not a backup of this app (it has no alembic_version table)",
        newer: "revision 0123456789ab, which this release's migrations do not know",
        truncated: "nothing restored",
    }
    if not sqlite:  # pg_restore runs in one transaction: a failure halfway undoes it all
        expected[cut_short] = "Nothing restored: the data is as it was"
    for file, message in expected.items():
        result = restore(runner, file, "--yes")
        assert result.exit_code == 1, (file.name, result.output)
        assert message in result.output, result.output
        assert "nothing restored" in result.output.lower()  # and the operator is told so
        assert "Error:" in result.output and "Traceback" not in result.output
        assert snapshot(app) == before, f"{file.name} changed the database"

    assert restore(runner, good, "--yes").exit_code == 0
    assert snapshot(app) != before


@needs_pg_tools
def test_an_older_backup_restores_and_says_to_upgrade(populated, runner, tmp_path):
    app = populated
    execute(app, "UPDATE alembic_version SET version_num = 'be7d72f898e5'")  # the first one
    file = tmp_path / "old.backup"
    assert backup(runner, file).exit_code == 0
    result = restore(runner, file, "--yes")
    assert result.exit_code == 0, result.output
    assert "schema revision be7d72f898e5" in result.output
    assert f"schema is at {head()}: run `pledges db upgrade`" in result.output


def head() -> str:
    from alembic.script import ScriptDirectory

    from pledges import PROJECT_ROOT

    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()


# --- a file that only looks like a backup, and a path that cannot be written ---------------

FIRST_REVISION = "be7d72f898e5"
FIRST_TABLES = {
    "organizations",
    "outbox_emails",
    "pledges",
    "commitments",
    "pledge_tallies",
    "signatures",
    "access_tokens",
    "signature_commitments",
}


def drop_tables_except(app, kept: set[str]) -> None:
    """Drop the app's other tables, and the constraints of kept ones that point at them."""
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        doomed = [table.name for table in db.metadata.sorted_tables if table.name not in kept]
    execute(
        app,
        *(["PRAGMA foreign_keys = OFF"] if sqlite else []),
        *(f"DROP TABLE {name}{'' if sqlite else ' CASCADE'}" for name in reversed(doomed)),
    )


@needs_pg_tools
@pytest.mark.usefixtures("populated")
@pytest.mark.parametrize("kept", [set(), set(db.metadata.tables) - {"dossier_files"}])
def test_a_backup_missing_tables_of_its_revision_is_refused(app, runner, tmp_path, kept):
    good = tmp_path / "good.backup"
    assert backup(runner, good).exit_code == 0
    drop_tables_except(app, kept)  # alembic_version stays, at the head revision
    lookalike = tmp_path / "lookalike.backup"
    assert backup(runner, lookalike).exit_code == 0
    assert restore(runner, good, "--yes").exit_code == 0
    before = snapshot(app)

    result = restore(runner, lookalike, "--yes")
    assert result.exit_code == 1, result.output
    assert "not a whole backup of this app" in result.output
    assert "dossier_files" in result.output and "nothing restored" in result.output
    assert "Traceback" not in result.output
    assert snapshot(app) == before


@needs_pg_tools
@pytest.mark.usefixtures("populated")
def test_an_older_backup_with_the_tables_of_its_revision_restores(app, runner, tmp_path):
    drop_tables_except(app, FIRST_TABLES)
    execute(app, f"UPDATE alembic_version SET version_num = '{FIRST_REVISION}'")  # noqa: S608
    file = tmp_path / "first.backup"
    assert backup(runner, file).exit_code == 0
    result = restore(runner, file, "--yes")
    assert result.exit_code == 0, result.output
    assert f"schema is at {head()}: run `pledges db upgrade`" in result.output


@needs_pg_tools
@pytest.mark.usefixtures("populated")
def test_an_unwritable_backup_path_is_named_in_one_line(runner, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    before = sorted(tmp_path.iterdir())
    for target, reason in [
        (a_file / "x.backup", f"{a_file} is not a directory"),
        ("/etc/passwd/x.backup", "/etc/passwd is not a directory"),
        ("/proc/x.backup", "/proc"),
    ]:
        result = backup(runner, target)
        assert result.exit_code == 1, result.output
        assert f"Cannot write the backup to {target}" in result.output, result.output
        assert reason in result.output and "no backup made" in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert sorted(tmp_path.iterdir()) == before  # nothing partial left behind


# --- PostgreSQL tools: found, and given the password out of sight ---------------------------


def test_the_password_goes_in_the_environment_not_on_the_command_line():
    url = make_url("postgresql+psycopg://pledges:s3cr%40t@db.example:6432/live?sslmode=require")
    uri, env = libpq_connection(url)
    assert uri == "postgresql://pledges@db.example:6432/live?sslmode=require"
    assert "s3cr" not in uri
    assert env["PGPASSWORD"] == "s3cr@t"


def pg_app(tmp_path: Path):
    """An app on a PostgreSQL server that is not there (port 1)."""
    return create_app(_base_config("postgresql+psycopg://u:hunter2@127.0.0.1:1/x", tmp_path))


def test_missing_pg_tools_are_named(tmp_path, monkeypatch):
    runner = pg_app(tmp_path).test_cli_runner()
    monkeypatch.setenv("PATH", str(tmp_path))  # a real lookup that finds nothing
    file = tmp_path / "x.backup"
    result = backup(runner, file)
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output and "postgresql-client" in result.output
    file.write_bytes(b"PGDMP")
    result = restore(runner, file, "--yes")
    assert result.exit_code == 1
    assert "pg_restore is not installed" in result.output


@needs_pg_tools
def test_a_failed_pg_dump_leaves_no_file(tmp_path):
    runner = pg_app(tmp_path).test_cli_runner()
    target = tmp_path / "out" / "x.backup"
    result = backup(runner, target)
    assert result.exit_code == 1
    assert "pg_dump failed" in result.output
    assert "hunter2" not in result.output
    assert list(target.parent.iterdir()) == []
