"""Database plumbing shared by every feature: SQLite pragmas, UTC timestamps, counters."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator


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


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets the wall be read while signatures are written; NORMAL is durable in WAL
    # mode except for the last commits on power loss, the usual trade for a web app.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def upsert_increment(session: Any, table: Any, keys: dict[str, Any], column: str, delta: int):
    """Add ``delta`` to ``column`` of the row identified by ``keys``, creating it at ``delta``.

    One statement, atomic under concurrent writers on SQLite and PostgreSQL alike.
    """
    dialect = session.get_bind().dialect.name
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    stmt = insert(table).values(**keys, **{column: delta})
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: getattr(table.c, column) + delta},
    )
    session.execute(stmt)


def render_migration_type(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types into migrations as the plain types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
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
