"""``pledges backup FILE`` and ``pledges restore FILE``, on SQLite and PostgreSQL.

SQLite goes through its online backup API: a consistent snapshot is copied while the app
keeps serving (WAL readers never block writers), and a restore runs the same copy in
reverse as one write transaction that replaces every page or none. PostgreSQL goes through
``pg_dump --format=custom`` and ``pg_restore --single-transaction``, with the password
handed over in the environment, never on a command line that ``ps`` shows.

A restore first checks that the file is a backup of this app (an ``alembic_version`` table
whose revision our migrations know, and every table the migrations had made by that
revision) and stores nothing when it is not. A backup file is
written beside its target and renamed into place, readable by its owner only: it holds
every signer's name and email.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sqlite3
import subprocess  # pg_dump and pg_restore: argument lists, never a shell
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import click
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from pledges.extensions import db

PG_ARCHIVE_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


# --- the schema a backup must carry ---------------------------------------------------------


def _migrations() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def _check_revisions(revisions: list[str], source: Path) -> str:
    if not revisions:
        raise BackupError(
            f"{source} is not a backup of this app: its alembic_version table is empty; "
            "nothing restored."
        )
    known = {script.revision for script in _migrations().walk_revisions()}
    unknown = [revision for revision in revisions if revision not in known]
    if unknown or len(revisions) > 1:
        raise BackupError(
            f"{source} is at schema revision {', '.join(revisions)}, which this release's "
            "migrations do not know: it was made by another app or a newer release; "
            "nothing restored."
        )
    return revisions[0]


def head_revision() -> str | None:
    return _migrations().get_current_head()


def _tables_at(revision: str) -> set[str]:
    """The tables a database built by our migrations up to ``revision`` has: the migrations
    are run offline (as SQL text, touching no database) and their CREATE and DROP TABLE
    statements followed."""
    sql = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": sql}
    )
    scripts = reversed(list(_migrations().iterate_revisions(revision, "base")))
    with Operations.context(context):
        for script in scripts:
            script.module.upgrade()
    tables = {"alembic_version"}
    for verb, table in re.findall(r"^(CREATE|DROP) TABLE (\w+)", sql.getvalue(), re.MULTILINE):
        if verb == "CREATE":
            tables.add(table)
        else:
            tables.discard(table)
    return tables


def _check_tables(present: set[str], revision: str, source: Path) -> None:
    missing = sorted(_tables_at(revision) - present)
    if missing:
        raise BackupError(
            f"{source} is not a whole backup of this app: it lacks the table(s) "
            f"{', '.join(missing)} of schema revision {revision}; nothing restored."
        )


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("Only a SQLite database in a file can be backed up or restored.")
    return Path(url.database).resolve()


def _open_read_only(path: Path) -> sqlite3.Connection:
    # Read-only, so that naming a file that does not exist never creates an empty database.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _verify_sqlite(source: Path) -> str:
    try:
        with closing(_open_read_only(source)) as conn:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{source} is a damaged SQLite database; nothing restored.")
            has_versions = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if not has_versions:
                raise BackupError(
                    f"{source} is a SQLite database but not a backup of this app "
                    "(it has no alembic_version table); nothing restored."
                )
            revisions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            f"{source} is not a readable SQLite database ({exc}); nothing restored."
        ) from exc
    revision = _check_revisions(revisions, source)
    _check_tables(tables, revision, source)
    return revision


def _backup_sqlite(url: URL, target: Path) -> None:
    live = _sqlite_path(url)
    if target.resolve() == live:
        raise BackupError("The backup file cannot be the database itself.")
    if not live.exists():
        raise BackupError(f"There is no database at {live} to back up.")
    with _partial_file(target) as partial:
        try:
            with (
                closing(_open_read_only(live)) as source,
                closing(sqlite3.connect(partial)) as copy,
            ):
                source.backup(copy)
                # One self-contained file: no -wal or -shm beside the backup.
                copy.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error as exc:  # a full disk, say
            raise _unwritable(target, str(exc)) from exc


def _restore_sqlite(url: URL, source: Path) -> None:
    live = _sqlite_path(url)
    if source.resolve() == live:
        raise BackupError("The backup file is the database itself.")
    live.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(_open_read_only(source)) as backup,
        closing(sqlite3.connect(live, timeout=30)) as database,
    ):
        # One step: a single write transaction, so other connections see all or nothing.
        backup.backup(database)


# --- PostgreSQL -----------------------------------------------------------------------------


def _client(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise BackupError(
            f"{program} is not installed. Install the PostgreSQL client tools of the "
            "server's major version or newer (Debian: apt-get install postgresql-client)."
        )
    return path


def libpq_connection(url: URL) -> tuple[str, dict[str, str]]:
    """The connection for pg_dump/pg_restore: a URI without the password, and an
    environment that carries it (PGPASSWORD), so it never appears in a process list."""
    uri = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    ).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return uri, env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed program, arguments as a list
        command, env=env, capture_output=True, text=True, check=False
    )


def _failure(program: str, result: subprocess.CompletedProcess[str], then: str = "") -> BackupError:
    detail = result.stderr.strip() or f"exit status {result.returncode}"
    return BackupError(f"{program} failed: {detail}{then}")


def _backup_postgres(url: URL, target: Path) -> None:
    pg_dump = _client("pg_dump")
    uri, env = libpq_connection(url)
    with _partial_file(target) as partial:
        result = _run(
            [pg_dump, "--format=custom", "--no-password", f"--file={partial}", f"--dbname={uri}"],
            env,
        )
        if result.returncode != 0:
            raise _failure("pg_dump", result)


def _verify_postgres(source: Path) -> str:
    pg_restore = _client("pg_restore")
    with source.open("rb") as fh:
        if fh.read(len(PG_ARCHIVE_MAGIC)) != PG_ARCHIVE_MAGIC:
            raise BackupError(
                f"{source} is not a pg_dump archive in the custom format "
                "(`pledges backup` writes one); nothing restored."
            )
    listing = _run([pg_restore, "--list", str(source)], dict(os.environ))
    if listing.returncode != 0:
        raise _failure("pg_restore", listing, then=f"\n{source} cannot be read; nothing restored.")
    if not _lists_table_data(listing.stdout, "alembic_version"):
        raise BackupError(
            f"{source} is a PostgreSQL archive but not a backup of this app "
            "(it has no alembic_version table); nothing restored."
        )
    data = _run(
        [pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(source)],
        dict(os.environ),
    )
    if data.returncode != 0:
        raise _failure("pg_restore", data, then=f"\n{source} cannot be read; nothing restored.")
    revision = _check_revisions(list(_copy_rows(data.stdout)), source)
    _check_tables(_listed_tables(listing.stdout), revision, source)
    return revision


def _listed_tables(listing: str) -> set[str]:
    """The tables whose definitions ``pg_restore --list`` output has."""
    tables = set()
    for line in listing.splitlines():
        # 215; 1259 16386 TABLE public access_tokens owner
        fields = line.split()
        if fields[3:4] == ["TABLE"] and len(fields) > 5:
            tables.add(fields[5])
    return tables


def _lists_table_data(listing: str, table: str) -> bool:
    """Whether ``pg_restore --list`` output has the rows of ``table``."""
    for line in listing.splitlines():
        # 3348; 0 121306 TABLE DATA public alembic_version owner
        fields = line.split()
        if fields[3:5] == ["TABLE", "DATA"] and fields[6:7] == [table]:
            return True
    return False


def _copy_rows(sql: str) -> Iterator[str]:
    """The rows of the COPY block in a plain-SQL data dump."""
    inside = False
    for line in sql.splitlines():
        if line.startswith("COPY "):
            inside = True
        elif line == "\\.":
            inside = False
        elif inside:
            yield line


def _restore_postgres(url: URL, source: Path) -> None:
    pg_restore = _client("pg_restore")
    uri, env = libpq_connection(url)
    # --single-transaction: an error anywhere rolls everything back, leaving the data as it was.
    result = _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--no-password",
            f"--dbname={uri}",
            str(source),
        ],
        env,
    )
    if result.returncode != 0:
        raise _failure("pg_restore", result, then="\nNothing restored: the data is as it was.")


# --- both -----------------------------------------------------------------------------------


@contextmanager
def _partial_file(target: Path) -> Iterator[Path]:
    """A private file beside ``target`` that becomes ``target`` only if the block succeeds."""
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise _unwritable(target, f"{exc.filename} is not a directory") from exc
    except OSError as exc:
        raise _unwritable(target, _reason(exc)) from exc
    try:
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as exc:
        raise _unwritable(target, _reason(exc)) from exc
    try:
        yield partial
        try:
            os.replace(partial, target)
        except OSError as exc:
            raise _unwritable(target, _reason(exc)) from exc
    finally:
        partial.unlink(missing_ok=True)


def _reason(exc: OSError) -> str:
    if exc.strerror and exc.filename:
        return f"{exc.strerror}: {exc.filename}"
    return exc.strerror or str(exc)


def _unwritable(target: Path, reason: str) -> BackupError:
    return BackupError(f"Cannot write the backup to {target} ({reason}); no backup made.")


def _dialect(url: URL) -> str:
    name = url.get_backend_name()
    if name not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups of {name} databases are not supported.")
    return name


def backup_database(target: Path) -> None:
    """Write a consistent copy of the app's database to ``target``."""
    url = db.engine.url
    if _dialect(url) == "sqlite":
        _backup_sqlite(url, target)
    else:
        _backup_postgres(url, target)


def verify_backup(source: Path) -> str:
    """The schema revision of the backup in ``source``; BackupError if it is not one of ours."""
    if _dialect(db.engine.url) == "sqlite":
        return _verify_sqlite(source)
    return _verify_postgres(source)


def restore_database(source: Path) -> str:
    """Replace every row of the app's database with the backup in ``source``."""
    revision = verify_backup(source)
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()  # no pooled connection of ours holds a lock or stale schema
    if _dialect(url) == "sqlite":
        _restore_sqlite(url, source)
    else:
        _restore_postgres(url, source)
    db.engine.dispose()
    return revision


def describe_database() -> str:
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return url.render_as_string(hide_password=True)


# --- commands -------------------------------------------------------------------------------


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write a consistent copy of the database to FILE while the app keeps serving."""
    try:
        backup_database(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backed up {describe_database()} to {file} ({file.stat().st_size:,} bytes).")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the data.")
@with_appcontext
def restore_command(file: Path, yes: bool) -> None:
    """Replace ALL data in the database with the backup in FILE (made by `pledges backup`)."""
    try:
        verify_backup(file)
        if not yes:
            click.confirm(
                f"Replace every row in {describe_database()} with the backup {file}?",
                abort=True,
            )
        revision = restore_database(file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {file} into {describe_database()} (schema revision {revision}).")
    head = head_revision()
    if revision != head:
        click.echo(f"This release's schema is at {head}: run `pledges db upgrade` now.")
