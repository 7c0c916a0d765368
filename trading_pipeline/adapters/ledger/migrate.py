"""Run the ledger's Alembic migrations programmatically (no alembic.ini needed at runtime)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from trading_pipeline.adapters.ledger.engine import WRITE_OPTION, create_ledger_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Arbitrary constant key of the PostgreSQL advisory lock that serializes concurrent upgrades.
_MIGRATION_LOCK_KEY = 0x7470_6C65_6467  # "tpledg"
#: How long probing a PostgreSQL ledger waits for the server before calling it unreachable.
_PROBE_CONNECT_TIMEOUT_SECONDS = 5


class LedgerUnavailableError(ConnectionError):
    """The ledger database cannot be reached or its URL cannot be parsed; the message holds no password."""


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration for the packaged migrations, bound to `connection` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(url: str) -> None:
    """Migrate the ledger at `url` to the latest revision; safe to call from several processes."""
    _run(url, "upgrade", "head")


def downgrade(url: str, revision: str) -> None:
    """Migrate the ledger at `url` down to `revision` ("base" removes every ledger table)."""
    _run(url, "downgrade", revision)


def _run(url: str, direction: str, revision: str) -> None:
    """One transaction per run: SQLite takes its write lock at BEGIN, PostgreSQL an advisory lock."""
    engine = create_ledger_engine(url).execution_options(**{WRITE_OPTION: True})
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            getattr(command, direction)(alembic_config(connection), revision)
    finally:
        engine.dispose()


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        # SQLAlchemy's message repeats the URL, password included.
        raise LedgerUnavailableError(
            "not a database URL (expected e.g. postgresql+psycopg://user@host/db)"
        ) from None


def display_url(url: str) -> str:
    """The URL as it may be shown to people and logs: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def ledger_exists(url: str) -> bool:
    """Whether `url` holds a migrated ledger (an alembic_version row), without creating anything there.

    Raises LedgerUnavailableError when the database cannot be reached (server down, unknown database).
    """
    parsed = _parse(url)
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or not Path(parsed.database).is_file():
            return False
    else:
        connect_args["connect_timeout"] = _PROBE_CONNECT_TIMEOUT_SECONDS
    try:
        engine = create_engine(parsed, connect_args=connect_args)
    except ArgumentError as exc:
        raise LedgerUnavailableError(f"unsupported database URL: {exc}") from None
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return False
            return connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() > 0
    except DBAPIError as exc:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        raise LedgerUnavailableError(f"cannot reach the ledger database: {reason}") from None
    finally:
        engine.dispose()
