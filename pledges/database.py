"""Database plumbing shared by every feature: SQLite pragmas, UTC timestamps, counters."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, event
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
