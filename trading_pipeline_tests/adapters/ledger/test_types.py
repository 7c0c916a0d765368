"""Invariant 6 and time zones: money stays an exact Decimal, timestamps stay timezone-aware."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from trading_pipeline.adapters.ledger.engine import create_ledger_engine
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.positions import PositionMark
from trading_pipeline_tests.adapters.ledger.builders import (
    DECISION_TIME,
    FILL_TIME,
    SESSION,
    fill_of,
    opening_intent,
)


def _opened(ledger: SqlLedger) -> str:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))
    return intent.client_order_id


def test_money_round_trips_exactly_as_decimal(ledger: SqlLedger) -> None:
    position_id = _opened(ledger)
    mark = PositionMark(position_id, FILL_TIME, Decimal("1.2345"), Decimal("-98765.4321"), 0.1, 0.0, 0.0, 0.0)

    ledger.record_marks(SESSION, [mark])

    stored = ledger.snapshot()["position_marks"].loc[0]
    assert type(stored["mark_value"]) is Decimal
    assert stored["mark_value"] == Decimal("1.2345")
    assert str(stored["unrealized_pnl"]) == "-98765.4321"


def test_money_is_stored_as_integer_units_on_sqlite_and_numeric_on_postgres(
    ledger: SqlLedger, ledger_url: str
) -> None:
    _opened(ledger)
    engine = create_ledger_engine(ledger_url)

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            query = "SELECT typeof(entry_value) || ' ' || entry_value FROM positions"
        else:
            query = "SELECT pg_typeof(entry_value)::text || ' ' || entry_value FROM positions"
        stored = conn.execute(text(query)).scalar_one()
    engine.dispose()

    assert stored in {"integer -24000", "numeric -2.4000"}


def test_money_extremes_and_half_up_rounding_round_trip_as_decimal(ledger: SqlLedger) -> None:
    position_id = _opened(ledger)
    amounts = ["99999999999999.9999", "-99999999999999.9999", "-0.0001", "0", "1.00005", "-1.00005"]
    marks = [
        PositionMark(
            position_id, FILL_TIME + timedelta(minutes=i), Decimal(a), Decimal(0), 0.0, 0.0, 0.0, 0.0
        )
        for i, a in enumerate(amounts)
    ]

    ledger.record_marks(SESSION, marks)

    stored = ledger.snapshot()["position_marks"]["mark_value"]
    assert [str(value) for value in stored] == [
        "99999999999999.9999",
        "-99999999999999.9999",
        "-0.0001",
        "0.0000",
        "1.0001",
        "-1.0001",
    ]


def _sqlite_ledger_with_commissions(sqlite_url: str, *commissions: str) -> None:
    """A SQLite ledger holding one fill of quantity 1 per commission."""
    ledger = SqlLedger.open(sqlite_url)
    try:
        intent = opening_intent(quantity=len(commissions))
        ledger.record_intent(intent)
        for number, commission in enumerate(commissions):
            ledger.record_fill(
                fill_of(intent, f"F-{number}", quantity=1, net_value="-2.40", commission=commission)
            )
    finally:
        ledger.dispose()


def _plain_sql(url: str, query: str) -> object:
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def test_plain_sql_sum_of_sqlite_money_is_exact(sqlite_url: str) -> None:
    _sqlite_ledger_with_commissions(sqlite_url, "0.10", "0.20")

    total = _plain_sql(sqlite_url, "SELECT SUM(commission) FROM fills")

    assert total == 3000  # 0.3000 in units of 1/10,000, not 0.30000000000000004


def test_plain_sql_max_of_sqlite_money_compares_amounts_not_text(sqlite_url: str) -> None:
    _sqlite_ledger_with_commissions(sqlite_url, "20.00", "100.00")

    largest = _plain_sql(sqlite_url, "SELECT MAX(commission) FROM fills")

    assert largest == 1_000_000  # 100.0000, not the text '20.0000'


def test_float_money_is_refused(ledger: SqlLedger) -> None:
    position_id = _opened(ledger)
    mark = PositionMark(position_id, FILL_TIME, 1.2345, Decimal("1"), 0.0, 0.0, 0.0, 0.0)  # type: ignore[arg-type]

    with pytest.raises(StatementError, match="money must be a Decimal, got float"):
        ledger.record_marks(SESSION, [mark])

    assert ledger.snapshot()["position_marks"].empty


def test_timestamps_come_back_timezone_aware_and_equal(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    stored, _ = ledger.intent(intent.client_order_id) or (None, None)

    assert stored is not None
    assert stored.decision_time == DECISION_TIME
    assert stored.decision_time.tzinfo is UTC


def test_snapshot_money_converts_to_arrow_decimals(ledger: SqlLedger) -> None:
    _opened(ledger)

    fills = ledger.snapshot()["fills"]

    table = pa.Table.from_pandas(fills)
    assert pa.types.is_decimal(table.schema.field("net_value").type)
    assert pa.types.is_decimal(table.schema.field("commission").type)
    assert fills.loc[0, "leg_prices"] == '["1.20", "1.2050"]'
    assert str(fills["filled_at"].dt.tz) == "UTC"
