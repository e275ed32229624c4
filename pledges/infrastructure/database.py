"""Database plumbing shared by every feature: SQLite pragmas, UTC timestamps, counters."""

from __future__ import annotations

import enum
import functools
import os
import sqlite3
import stat
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Engine,
    String,
    TextClause,
    event,
    or_,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapper
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeDecorator

from pledges.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC and always handed back timezone-aware.

    SQLite has no time zone type and PostgreSQL's would shift values by the session zone;
    storing UTC without a zone behaves the same on both.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


E = TypeVar("E", bound=enum.StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A StrEnum stored as its string value, handed back as the member, checked by the database.

    Modelled on indico's ``PyIntEnum``. Binding a member or a valid plain string writes the
    value; anything else raises ValueError before the statement reaches the database (in
    ORM flushes, bulk ``insert()``/``update()`` values and ``in_()`` lists alike). Attaching
    the column to a table adds ``CHECK (<column> IN (<values>))`` named after the column, so
    the naming convention makes it ``ck_<table>_<column>``; a nullable column's check reads
    ``<column> IS NULL OR ...``, as the migrations wrote them before this type existed.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[E], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def coerce(self, value: Any) -> E | None:
        """The member for ``value``; ValueError names the column's enum if there is none."""
        if value is None or isinstance(value, self.enum_class):
            return value
        try:
            return self.enum_class(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a valid {self.enum_class.__name__}"
                f" (one of {', '.join(m.value for m in self.enum_class)})"
            ) from None

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        member = self.coerce(value)
        return None if member is None else member.value

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        # Rendered inline (literal_binds): quoted as the String it is stored as.
        return String().literal_processor(dialect)(self.process_bind_param(value, dialect))

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum_class(value)

    @property
    def python_type(self) -> type[E]:
        return self.enum_class

    def check_condition(self, column: Column) -> ColumnElement[bool]:
        """``<column> IN (<values>)``; ``<column> IS NULL OR ...`` if the column is nullable."""
        values = type_coerce(column, String()).in_([member.value for member in self.enum_class])
        return or_(column.is_(None), values) if column.nullable else values

    # SQLAlchemy's own SchemaType (Enum, Boolean) adds its CHECK through these same hooks:
    # once the column meets its table. ``_type_bound`` keeps Table.to_metadata() from
    # copying the constraint, since the copied column's type adds it again.
    def _set_parent(self, parent: Any, outer: bool = False, **kw: Any) -> None:
        super()._set_parent(parent, outer=outer, **kw)
        if isinstance(parent, Column):
            parent._on_table_attach(self._add_check)

    def _add_check(self, column: Column, table: Any) -> None:
        check = CheckConstraint(self.check_condition(column), name=column.name, _type_bound=True)
        assert check.table is table  # attached through the column, as sqlalchemy.Enum's is


@event.listens_for(Mapper, "mapper_configured")
def _coerce_enum_attributes(mapper: Mapper, class_: type) -> None:
    """Assigning to an enum column stores the member, or fails at once on a wrong value.

    ``signature.status = "held"`` then reads back as ``SignatureStatus.HELD`` before any
    flush, and a typo raises where it was written rather than at the next commit.
    """
    for prop in mapper.column_attrs:
        column_type = prop.columns[0].type
        if isinstance(column_type, StrEnumType):
            event.listen(
                getattr(class_, prop.key),
                "set",
                lambda target, value, old, initiator, coerce=column_type.coerce: coerce(value),
                retval=True,
            )


#: The companions SQLite keeps beside a database file in WAL mode.
SQLITE_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")
#: Read and write for the owner only: the files hold signers' names and addresses.
OWNER_ONLY = 0o600


def _sqlite_file(cargs: tuple, cparams: dict) -> str | None:
    """The path of the file a pysqlite connect() is about to open, if it is a plain file."""
    database = cargs[0] if cargs else cparams.get("database")
    if not isinstance(database, str) or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a URI: mode=ro or memory; not ours to create
        return None
    return database


@event.listens_for(Engine, "do_connect")
def _create_sqlite_file_owner_only(dialect: Any, record: Any, cargs: tuple, cparams: dict) -> None:
    """Create the SQLite file readable by its owner only before SQLite opens it (SQLite
    creates -wal and -shm with the database file's permissions)."""
    if dialect.name != "sqlite":
        return
    path = _sqlite_file(cargs, cparams)
    if path is None or os.path.exists(path):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))
    except FileExistsError:  # another process got there first
        pass
    except OSError:  # a missing folder: let SQLite report it as it would
        pass


def restrict_sqlite_files(path: str) -> None:
    """Take group and world access off a database file made before, and its companions."""
    for name in (path, *(path + suffix for suffix in SQLITE_COMPANION_SUFFIXES)):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, mode & 0o700)
        except OSError:  # absent, or not ours to change: nothing to do
            continue


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # Deleted rows are overwritten with zeros, not left in free pages of the file: a
    # withdrawn signer's name must not be recoverable from a copy of it.
    cursor.execute("PRAGMA secure_delete=ON")
    # WAL lets the wall be read while signatures are written; NORMAL is durable in WAL
    # mode except for the last commits on power loss, the usual trade for a web app.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    for _, name, path in cursor.execute("PRAGMA database_list").fetchall():
        if name == "main" and path:
            restrict_sqlite_files(path)
    cursor.close()


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before use only when it sat unused for ``idle_seconds``.

    A database server may restart or fail over while connections wait in the pool.
    SQLAlchemy's ``pool_pre_ping`` tests every connection at every checkout: one more round
    trip per request, which under a surge of readers is as much again as the wall's own
    query. A connection used a moment ago is alive as surely as one pinged a moment ago,
    so only those idle for longer are pinged (with the dialect's own ping). One that fails
    is replaced before the request sees it: the pool retries a checkout that raises
    ``DisconnectionError``. A server lost in the instant between two uses fails the
    statement that meets it, as it would with a ping; SQLAlchemy then recycles the whole
    pool, so each process meets it once.
    """

    @event.listens_for(engine, "checkin")
    def _went_idle(dbapi_connection: Any, connection_record: Any) -> None:
        if connection_record is not None:
            connection_record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, connection_record: Any, proxy: Any) -> None:
        idle_since = connection_record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("a pooled connection did not answer") from exc


def init_app(app: Any) -> None:
    """After ``db.init_app``: the app's server databases ping idle connections only."""
    idle_seconds = app.config["DATABASE_PING_AFTER_IDLE_SECONDS"]
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name != "sqlite":
                ping_after_idle(engine, idle_seconds)


@functools.cache
def _driver_sql(statement: TextClause, dialect: Any) -> tuple[str, tuple[str, ...] | None]:
    """The statement as the driver takes it, and its parameters' order where positional."""
    compiled = statement.compile(dialect=dialect)
    return compiled.string, compiled.positiontup


def read_row(statement: TextClause, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a small read on the hottest paths (a cached wall hit, a 304), run on
    the driver's own connection from the pool, outside any transaction.

    SQLAlchemy's statement execution (compiled-cache lookup, parameter processing, result
    objects, switching isolation levels) costs several times the query itself there. Values
    come back as the driver gives them (SQLite: timestamps as text), and the statement is
    plain SQL: keep it to a few columns whose raw values are enough.
    """
    engine = db.engine
    sql, names = _driver_sql(statement, engine.dialect)
    args: Any = [params[name] for name in names] if names is not None else dict(params)
    connection = engine.raw_connection()  # the pool's checkout events (idle ping) apply
    try:
        driver = connection.driver_connection
        # pysqlite starts no transaction for a SELECT; psycopg would (and a ROLLBACK after).
        autocommit = engine.dialect.name == "postgresql"
        if autocommit:
            driver.autocommit = True
        cursor = connection.cursor()
        try:
            cursor.execute(sql, args)
            row = cursor.fetchone()
        except engine.dialect.loaded_dbapi.Error as exc:
            if engine.dialect.is_disconnect(exc, driver, cursor):
                connection.invalidate(exc)
            raise
        finally:
            cursor.close()
            # Whatever happened, the connection goes back to the pool as it came: the next
            # user's transaction must not run in autocommit, one statement at a time.
            if autocommit and connection.is_valid:
                driver.autocommit = False
    finally:
        connection.close()
    return tuple(row) if row is not None else None


def checkpoint() -> bool:
    """After erasing (and committing): copy the WAL into the database file and truncate
    it, so deleted text lingers in neither (with secure_delete, freed pages are zeroed).

    False if a reader kept the WAL from being emptied; it is then emptied by a later
    checkpoint. Nothing to do on PostgreSQL, whose VACUUM reclaims dead rows by itself.
    """
    if db.engine.dialect.name != "sqlite":
        return True
    with db.engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy


#: The dialects' own ``insert()``, which can add ``ON CONFLICT``.
_INSERT_BY_DIALECT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert_increment(session: Any, table: Any, keys: dict[str, Any], column: str, delta: int):
    """Add ``delta`` to ``column`` of the row identified by ``keys``, creating it at ``delta``.

    One statement, atomic under concurrent writers on SQLite and PostgreSQL alike.
    """
    insert = _INSERT_BY_DIALECT[session.get_bind().dialect.name]
    stmt = insert(table).values(**keys, **{column: delta})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: getattr(table.c, column) + delta},
    )
    session.execute(stmt)


def insert_unless_conflicting(session: Any, table: Any, row: dict[str, Any]) -> int | None:
    """Insert ``row`` unless it would break one of ``table``'s unique constraints: the new
    row's id, or None if a conflicting row was there (left as it is; the caller looks up
    which it was). One statement on SQLite and PostgreSQL alike, and no savepoint: unlike a
    failed INSERT, a conflict skipped this way leaves PostgreSQL's transaction usable.

    A row that another transaction inserted and has not committed yet makes this wait for
    that transaction, then skip (committed) or insert (rolled back).
    """
    dialect = session.get_bind().dialect.name
    return session.execute(_insert_unless_conflicting(dialect, table), row).scalar()


@functools.cache
def _insert_unless_conflicting(dialect: str, table: Any) -> Any:
    # Built once, the row bound at execution: a statement with the row's values in it
    # would be built and keyed for the compiled cache column by column on every call.
    return _INSERT_BY_DIALECT[dialect](table).on_conflict_do_nothing().returning(table.c.id)


def render_migration_type(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types into migrations as the plain types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    if type_ == "type" and isinstance(obj, StrEnumType):
        # Autogenerate does not write CHECK constraints: a new enum column's migration adds
        # its ck_<table>_<column> by hand, with the SQL of StrEnumType.check_condition.
        return f"sa.String(length={obj.impl_instance.length})"
    return False


def bulk_insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows as fast as the database allows: COPY on PostgreSQL."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    converters = [_bind_converter(table.c[name], connection.dialect) for name in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    quoted_table = connection.dialect.identifier_preparer.format_table(table)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {quoted_table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [convert(row[name]) for name, convert in zip(columns, converters, strict=True)]
                )


def bulk_insert_returning_ids(session: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows with fresh primary keys, returned in the order of ``rows``."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return session.scalars(
            table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
        ).all()
    # Take the keys from the table's sequence first, then COPY rows that carry them.
    ids = session.scalars(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)},
    ).all()
    bulk_insert(session, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
    return list(ids)


def _bind_converter(column: Any, dialect: Any):
    if isinstance(column.type, TypeDecorator):
        return lambda value: column.type.process_bind_param(value, dialect)
    return lambda value: value


def without_foreign_key_checks(session: Any) -> bool:
    """For a bulk load whose rows reference only keys the same load just took: skip
    PostgreSQL's per-row foreign-key triggers until the transaction ends (most of a
    million-signer seed's time otherwise). Only a superuser may; for others, and on
    SQLite, the checks stay on. True if they were turned off."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return False
    if connection.execute(text("SELECT current_setting('is_superuser')")).scalar() != "on":
        return False
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    return True


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <statement>``, with the statement's parameters bound as usual
    (SQLAlchemy's compiler-extension recipe)."""

    inherit_cache = False

    def __init__(self, statement: Any) -> None:
        self.statement = statement


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler: Any, **kw: Any) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.statement, **kw)


def estimated_rows(session: Any, statement: Any) -> int | None:
    """PostgreSQL's planner estimate of the rows ``statement`` returns (from the table's
    statistics, without running it); None where there is no such estimate (SQLite)."""
    if session.connection().dialect.name != "postgresql":
        return None
    plan = session.execute(_Explain(statement)).scalar()
    return int(plan[0]["Plan"]["Plan Rows"])
