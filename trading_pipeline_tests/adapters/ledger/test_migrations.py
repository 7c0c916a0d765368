"""Alembic migrations: reversible, the only creator of tables, and identical to the schema module."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from trading_pipeline.adapters.ledger import migrate, schema
from trading_pipeline.adapters.ledger.engine import create_ledger_engine
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline_tests.adapters.ledger.builders import opening_intent

LEDGER_TABLES = {table.name for table in schema.metadata.sorted_tables}


def _tables(url: str) -> set[str]:
    engine = create_ledger_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_to_base_and_upgrade_again_leaves_a_working_ledger(ledger_url: str) -> None:
    migrate.upgrade(ledger_url)
    migrate.downgrade(ledger_url, "base")
    assert _tables(ledger_url) == {"alembic_version"}

    ledger = SqlLedger.open(ledger_url)
    try:
        result = ledger.record_intent(opening_intent())
    finally:
        ledger.dispose()

    assert _tables(ledger_url) == LEDGER_TABLES | {"alembic_version"}
    assert result == (OrderStatus.NEW, True)


def test_upgrade_twice_is_a_no_op(ledger_url: str) -> None:
    migrate.upgrade(ledger_url)

    migrate.upgrade(ledger_url)

    assert _tables(ledger_url) == LEDGER_TABLES | {"alembic_version"}


def test_schema_metadata_matches_the_migrated_database(ledger_url: str) -> None:
    migrate.upgrade(ledger_url)
    engine = create_ledger_engine(ledger_url)

    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, schema.metadata)
    finally:
        engine.dispose()

    assert differences == []


def test_ledger_constructor_does_not_create_tables(ledger_url: str) -> None:
    ledger = SqlLedger(ledger_url)
    ledger.dispose()

    assert _tables(ledger_url) == set()


def test_sqlite_file_gets_its_directory_wal_and_busy_timeout(sqlite_url: str) -> None:
    migrate.upgrade(sqlite_url)
    engine = create_ledger_engine(sqlite_url)

    with engine.connect() as conn:
        journal_mode = conn.execute(text("PRAGMA journal_mode")).scalar_one()
        busy_timeout = conn.execute(text("PRAGMA busy_timeout")).scalar_one()
    engine.dispose()

    assert Path(make_url(sqlite_url).database or "").is_file()
    assert journal_mode == "wal"
    assert busy_timeout >= 5000
