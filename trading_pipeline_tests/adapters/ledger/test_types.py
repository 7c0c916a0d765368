"""Invariant 6 and time zones: money stays an exact Decimal, timestamps stay timezone-aware."""

from __future__ import annotations

from datetime import UTC
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


def test_money_is_stored_as_numeric_or_text_never_real(ledger: SqlLedger, ledger_url: str) -> None:
    _opened(ledger)
    engine = create_ledger_engine(ledger_url)

    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            query = "SELECT typeof(entry_value) || ' ' || entry_value FROM positions"
        else:
            query = "SELECT pg_typeof(entry_value)::text || ' ' || entry_value FROM positions"
        stored = conn.execute(text(query)).scalar_one()
    engine.dispose()

    assert stored in {"text -2.4000", "numeric -2.4000"}


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
