"""Run the ledger's Alembic migrations programmatically (no alembic.ini needed at runtime)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from trading_pipeline.adapters.ledger.engine import WRITE_OPTION, create_ledger_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Arbitrary constant key of the PostgreSQL advisory lock that serializes concurrent upgrades.
_MIGRATION_LOCK_KEY = 0x7470_6C65_6467  # "tpledg"


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
