"""Engines for the ledger database: SQLite (WAL, busy timeout, immediate write locks) or PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url

#: How long a SQLite writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_SECONDS = 30

#: Execution option that makes a SQLite transaction take the write lock at BEGIN.
WRITE_OPTION = "ledger_write"


def _json_default(value: object) -> str:
    """Encode the non-JSON values that domain details carry (decimals, dates) as exact strings."""
    if isinstance(value, date):  # datetimes included
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} value {value!r} as JSON")


def dumps_json(value: Any) -> str:
    """The one JSON encoder of the ledger (JSON columns and snapshots)."""
    return json.dumps(value, default=_json_default, sort_keys=True)


def create_ledger_engine(url: str | URL) -> Engine:
    """An engine for `url`; SQLite files get their directory, WAL, a busy timeout and foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, future=True, json_serializer=dumps_json)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        future=True,
        json_serializer=dumps_json,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    """WAL lets readers run beside one writer; SQLAlchemy (not pysqlite) issues BEGIN itself."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    """Writers lock at BEGIN so the busy timeout applies (a deferred upgrade to write fails at once)."""
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
