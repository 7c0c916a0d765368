"""The point-in-time ledger: positions and marks as they stood at a decision time, from fills."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.positions import PositionMark, PositionStatus
from trading_pipeline_tests.adapters.ledger.builders import (
    FILL_TIME,
    SESSION,
    closing_intent,
    fill_of,
    opening_intent,
)


def _opened_then_closed_three_days_later(ledger: SqlLedger) -> str:
    opening = opening_intent(quantity=2)
    ledger.record_intent(opening)
    ledger.record_fill(fill_of(opening, "F-open", quantity=2, net_value="-2.40"))
    closing = closing_intent(opening.client_order_id, quantity=2)
    ledger.record_intent(closing)
    ledger.record_fill(fill_of(closing, "F-close", quantity=2, net_value="1.20", days_later=3))
    return opening.client_order_id


def test_positions_as_of_a_time_before_the_close_show_the_position_open(ledger: SqlLedger) -> None:
    position_id = _opened_then_closed_three_days_later(ledger)

    [then] = ledger.positions(open_only=True, as_of=FILL_TIME + timedelta(days=1))

    assert (then.position_id, then.status, then.quantity) == (position_id, PositionStatus.OPEN, 2)
    assert then.realized_pnl == Decimal(0)
    assert ledger.positions(open_only=True) == []


def test_positions_as_of_a_time_before_any_fill_are_empty(ledger: SqlLedger) -> None:
    _opened_then_closed_three_days_later(ledger)

    assert ledger.positions(open_only=False, as_of=FILL_TIME - timedelta(seconds=1)) == []


def test_positions_replayed_up_to_now_equal_the_stored_positions(ledger: SqlLedger) -> None:
    _opened_then_closed_three_days_later(ledger)

    replayed = ledger.positions(open_only=False, as_of=FILL_TIME + timedelta(days=30))

    assert replayed == ledger.positions(open_only=False)
    assert replayed[0].realized_pnl == Decimal("240.0000")


def test_latest_marks_as_of_a_time_ignore_later_marks_and_later_positions(ledger: SqlLedger) -> None:
    # Arrange: one position marked on two days; a second position opened on day 2
    first = opening_intent(quantity=1, key="first")
    second = opening_intent(quantity=1, key="second")
    for intent, days in ((first, 0), (second, 1)):
        ledger.record_intent(intent)
        ledger.record_fill(fill_of(intent, f"F-{intent.client_order_id}", 1, "-2.40", days_later=days))

    def mark(position_id: str, days: int, value: str) -> PositionMark:
        at = FILL_TIME + timedelta(days=days, hours=1)
        return PositionMark(position_id, at, Decimal(value), Decimal("10"), 0.0, 0.0, 0.0, 0.0)

    ledger.record_marks(SESSION, [mark(first.client_order_id, 0, "-2.00")])
    ledger.record_marks(
        SESSION + timedelta(days=1),
        [mark(first.client_order_id, 1, "-1.50"), mark(second.client_order_id, 1, "-2.30")],
    )

    # Act
    day_one = ledger.latest_marks(as_of=FILL_TIME + timedelta(hours=2))

    # Assert
    assert [(m.position_id, m.mark_value) for m in day_one] == [(first.client_order_id, Decimal("-2.00"))]
    assert len(ledger.latest_marks()) == 2
