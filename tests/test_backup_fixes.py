"""Backups: a file that only looks like a backup is refused, and a path that cannot be
written is named in one line."""

from __future__ import annotations

import pytest

from pledges.extensions import db
from tests.test_backup import (  # noqa: F401 - database_url and populated are fixtures
    backup,
    database_url,
    execute,
    head,
    needs_pg_tools,
    populated,
    restore,
    snapshot,
)

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
