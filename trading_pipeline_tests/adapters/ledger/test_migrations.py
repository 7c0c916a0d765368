"""Alembic migrations: reversible, the only creator of tables, and identical to the schema module."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
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


#: One money value per money column as revision 0001 stored it (exact text on SQLite, NUMERIC on PostgreSQL).
MONEY_AT_0001 = {
    ("order_intents", "limit_price"): "-2.4000",
    ("fills", "net_value"): "99999999999999.9999",
    ("fills", "commission"): "0.1000",
    ("positions", "entry_value"): "-98765.4321",
    ("positions", "fees"): "0.2000",
    ("positions", "realized_pnl"): "0.0000",
    ("position_marks", "mark_value"): "-0.0001",
    ("position_marks", "unrealized_pnl"): "-99999999999999.9999",
}


def _migrate(url: str, direction: str, revision: str) -> None:
    """Run one Alembic command to `revision` (migrate.py only goes to head or down)."""
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as conn:
            getattr(command, direction)(migrate.alembic_config(conn), revision)
    finally:
        engine.dispose()


_AT = "2025-03-14 14:31:00"
#: The other NOT NULL columns of an intent, its fill, its position and that position's mark at revision 0001.
ROWS_AT_0001 = {
    "order_intents": {
        "client_order_id": "C-1",
        "strategy": "short_strangle",
        "session": "2025-03-14",
        "decision_time": _AT,
        "underlying": "SPY",
        "legs": "[]",
        "quantity": 1,
        "effect": "open",
        "reason": "test",
        "tags": "{}",
        "status": "FILLED",
        "created_at": _AT,
        "updated_at": _AT,
    },
    "fills": {
        "fill_id": "F-1",
        "client_order_id": "C-1",
        "broker_order_id": "B-1",
        "filled_at": _AT,
        "quantity": 1,
        "leg_prices": "[]",
    },
    "positions": {
        "position_id": "C-1",
        "strategy": "short_strangle",
        "underlying": "SPY",
        "legs": "[]",
        "quantity": 1,
        "opened_at": _AT,
        "status": "OPEN",
    },
    "position_marks": {
        "session": "2025-03-14",
        "position_id": "C-1",
        "marked_at": _AT,
        **dict.fromkeys(("delta", "gamma", "vega", "theta"), 0.0),
    },
}


def _ledger_at_0001_with_money(url: str) -> None:
    """Revision 0001 holding parents (intent, position) and their children (fill, mark), all with money."""
    _migrate(url, "upgrade", "0001")
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as conn:
            for table, values in ROWS_AT_0001.items():
                row = {**values, **{c: v for (t, c), v in MONEY_AT_0001.items() if t == table}}
                columns = ", ".join(row)
                params = ", ".join(f":{column}" for column in row)
                conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), row)
    finally:
        engine.dispose()


def _money(url: str, typed: bool) -> dict[tuple[str, str], object]:
    """Every money value, decoded by the schema's Money type (typed) or as the database returns it."""
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            return {
                (table, column): conn.execute(
                    select(schema.metadata.tables[table].c[column])
                    if typed
                    else text(f"SELECT {column} FROM {table}")
                ).scalar_one()
                for table, column in MONEY_AT_0001
            }
    finally:
        engine.dispose()


def test_upgrade_to_0002_keeps_every_money_value_exactly(ledger_url: str) -> None:
    _ledger_at_0001_with_money(ledger_url)

    _migrate(ledger_url, "upgrade", "0002")

    assert _money(ledger_url, typed=True) == {key: Decimal(value) for key, value in MONEY_AT_0001.items()}


def test_downgrade_from_0002_restores_the_0001_values(ledger_url: str) -> None:
    _ledger_at_0001_with_money(ledger_url)
    _migrate(ledger_url, "upgrade", "0002")

    _migrate(ledger_url, "downgrade", "0001")

    assert {key: str(value) for key, value in _money(ledger_url, typed=False).items()} == MONEY_AT_0001


def test_upgrade_to_0002_turns_sqlite_money_text_into_integer_units(sqlite_url: str) -> None:
    _ledger_at_0001_with_money(sqlite_url)

    _migrate(sqlite_url, "upgrade", "0002")

    stored = _money(sqlite_url, typed=False)
    assert stored[("fills", "commission")] == 1000
    assert stored[("positions", "fees")] == 2000
    assert stored[("fills", "net_value")] == 999_999_999_999_999_999
    assert all(type(value) is int for value in stored.values())


def test_upgrade_to_0003_and_back_keeps_intents_fills_and_positions(ledger_url: str) -> None:
    # Arrange: a ledger with parents and children at 0002
    _ledger_at_0001_with_money(ledger_url)
    _migrate(ledger_url, "upgrade", "0002")
    expected = _money(ledger_url, typed=True)

    # Act
    _migrate(ledger_url, "upgrade", "0003")
    at_0003 = _money(ledger_url, typed=True)
    _migrate(ledger_url, "downgrade", "0002")

    # Assert
    assert at_0003 == expected
    assert _money(ledger_url, typed=True) == expected
    engine = create_ledger_engine(ledger_url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("order_intents")}
    finally:
        engine.dispose()
    assert {"claimed_by", "claimed_at"}.isdisjoint(columns)


def _position_mark_row(url: str) -> dict[str, object]:
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT * FROM position_marks")).mappings().one())
    finally:
        engine.dispose()


def test_upgrade_to_0004_allows_unknown_greeks_and_back_keeps_the_mark_with_zero_greeks(
    ledger_url: str,
) -> None:
    # Arrange: a ledger at 0003 holding a position and its mark
    _ledger_at_0001_with_money(ledger_url)
    _migrate(ledger_url, "upgrade", "0003")
    _migrate(ledger_url, "upgrade", "0004")
    engine = create_ledger_engine(ledger_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE position_marks SET delta = NULL, vega = NULL"))
            conn.execute(
                text(
                    "INSERT INTO stale_marks (session, position_id, marked_at, reason) "
                    "VALUES ('2025-03-14', 'C-1', :at, 'no quote for a leg')"
                ),
                {"at": _AT},
            )
    finally:
        engine.dispose()
    expected_money = _money(ledger_url, typed=True)

    # Act
    _migrate(ledger_url, "downgrade", "0003")

    # Assert: the mark and its money survive; the greeks 0004 left unknown become 0; stale marks are gone
    row = _position_mark_row(ledger_url)
    assert (row["delta"], row["vega"], row["gamma"], row["theta"]) == (0.0, 0.0, 0.0, 0.0)
    assert _money(ledger_url, typed=True) == expected_money
    assert "stale_marks" not in _tables(ledger_url)


def _iv_rows(url: str, column: str) -> list[tuple[object, ...]]:
    engine = create_ledger_engine(url)
    try:
        with engine.begin() as conn:
            query = f"SELECT underlying, {column}, source FROM iv_observations ORDER BY underlying"
            return [tuple(r) for r in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_upgrade_to_0005_labels_old_atm_observations_and_back_drops_derived_ones(ledger_url: str) -> None:
    # Arrange: a ledger at 0004 holding an ATM observation measured on the simulated chain
    _migrate(ledger_url, "upgrade", "0004")
    engine = create_ledger_engine(ledger_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO iv_observations (underlying, session, atm_iv_30d, source, recorded_at) "
                    "VALUES ('SPY', '2025-03-14', 0.18, 'simulated', :at)"
                ),
                {"at": _AT},
            )
    finally:
        engine.dispose()

    # Act
    _migrate(ledger_url, "upgrade", "0005")
    upgraded = _iv_rows(ledger_url, "iv_30d")
    ledger = SqlLedger(ledger_url)
    observed = ledger.iv_observations("SPY", date(2025, 3, 14), date(2025, 3, 14))[
        date(2025, 3, 14)
    ].observed_at
    ledger.dispose()
    engine = create_ledger_engine(ledger_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO iv_observations (underlying, session, iv_30d, source, observed_at, "
                    "recorded_at) VALUES ('QQQ', '2025-03-14', 0.22, 'proxy:VIX', :at, :at)"
                ),
                {"at": _AT},
            )
    finally:
        engine.dispose()
    _migrate(ledger_url, "downgrade", "0004")

    # Assert: the old row is an own ATM observation from the session's start (when it was observed is
    # unknown); going back keeps it as it was and drops the proxy
    assert upgraded == [("SPY", 0.18, "chain:atm:simulated")]
    assert observed == datetime(2025, 3, 14, tzinfo=UTC)
    assert _iv_rows(ledger_url, "atm_iv_30d") == [("SPY", 0.18, "simulated")]
