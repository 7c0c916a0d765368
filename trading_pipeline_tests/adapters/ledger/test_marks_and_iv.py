"""Position marks and implied-vol observations are upserted: one row per key, latest values win."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.positions import PositionMark
from trading_pipeline_tests.adapters.ledger.builders import FILL_TIME, SESSION, fill_of, opening_intent


def _mark(position_id: str, value: str, pnl: str, delta: float) -> PositionMark:
    return PositionMark(position_id, FILL_TIME, Decimal(value), Decimal(pnl), delta, -0.01, -0.35, 0.21)


def test_record_marks_of_the_same_tick_twice_keeps_one_mark_with_latest_values(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))
    ledger.record_marks(SESSION, [_mark(intent.client_order_id, "-1.80", "120.00", 0.05)])

    ledger.record_marks(SESSION, [_mark(intent.client_order_id, "-1.50", "180.00", -0.02)])

    marks = ledger.snapshot()["position_marks"]
    assert marks[["mark_value", "unrealized_pnl", "delta"]].values.tolist() == [
        [Decimal("-1.50"), Decimal("180.00"), -0.02]
    ]


def test_marks_of_later_ticks_are_kept_as_history_and_read_as_of_a_time(ledger: SqlLedger) -> None:
    # Arrange: the 10:00 mark, then a mark one hour later in the same session
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))
    ledger.record_marks(SESSION, [_mark(intent.client_order_id, "-1.80", "120.00", 0.05)])
    later = replace(
        _mark(intent.client_order_id, "-1.40", "200", 0.0), marked_at=FILL_TIME + timedelta(hours=1)
    )

    # Act
    ledger.record_marks(SESSION, [later])

    # Assert: both kept; each time sees the mark it had
    assert len(ledger.snapshot()["position_marks"]) == 2
    assert [m.mark_value for m in ledger.latest_marks(as_of=FILL_TIME)] == [Decimal("-1.80")]
    assert [m.mark_value for m in ledger.latest_marks(as_of=FILL_TIME + timedelta(hours=2))] == [
        Decimal("-1.40")
    ]
    assert [m.mark_value for m in ledger.latest_marks()] == [Decimal("-1.40")]


def test_record_iv_observations_upserts_per_session(ledger: SqlLedger) -> None:
    day = SESSION
    ledger.record_iv_observations("SPY", {day: 0.20, day + timedelta(days=1): 0.22}, source="chain")

    ledger.record_iv_observations(
        "SPY", {day + timedelta(days=1): 0.25, day + timedelta(days=4): 0.30}, "vendor"
    )
    ledger.record_iv_observations("QQQ", {day: 0.5}, source="chain")

    assert ledger.iv_observations("SPY", day, day + timedelta(days=4)) == {
        day: 0.20,
        day + timedelta(days=1): 0.25,
        day + timedelta(days=4): 0.30,
    }
    assert ledger.iv_observations("SPY", day + timedelta(days=1), day + timedelta(days=3)) == {
        day + timedelta(days=1): 0.25
    }
    assert ledger.snapshot()["iv_observations"]["source"].tolist() == ["chain", "vendor", "vendor", "chain"]
