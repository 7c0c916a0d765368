"""Fills open, add to, reduce and close structure positions through core.positions, in one transaction."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from trading_pipeline.adapters.ledger.repository import SqlLedger, UnknownOrderError
from trading_pipeline.core.instruments import Leg, Side
from trading_pipeline.core.orders import OrderIntent, PositionEffect, make_client_order_id
from trading_pipeline.core.positions import FillMismatchError, PositionStatus
from trading_pipeline_tests.adapters.ledger.builders import (
    DECISION_TIME,
    SESSION,
    STRATEGY,
    closing_intent,
    fill_of,
    opening_intent,
    strangle_legs,
)


def _open_strangle(ledger: SqlLedger, quantity: int = 2) -> str:
    """Sell the strangle for a 2.40 credit per unit; returns the position id."""
    intent = opening_intent(quantity=quantity)
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-open", quantity=quantity, net_value="-2.40"))
    return intent.client_order_id


def test_first_fill_of_opening_order_opens_position_named_by_its_client_order_id(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    created = ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))

    [position] = ledger.positions()
    assert created is True
    assert position.position_id == intent.client_order_id
    assert (position.quantity, position.entry_value, position.fees) == (2, Decimal("-2.40"), Decimal("2.60"))
    assert position.legs == intent.legs
    assert position.status is PositionStatus.OPEN


def test_further_fill_of_opening_order_averages_entry_value(ledger: SqlLedger) -> None:
    intent = opening_intent(quantity=2)
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=1, net_value="-2.40", commission="1.30"))

    ledger.record_fill(fill_of(intent, "F-2", quantity=1, net_value="-2.30", commission="1.30"))

    [position] = ledger.positions()
    assert (position.quantity, position.entry_value, position.fees) == (2, Decimal("-2.35"), Decimal("2.60"))


def test_open_then_close_realizes_gross_pnl_and_tracks_fees(ledger: SqlLedger) -> None:
    position_id = _open_strangle(ledger)
    close = closing_intent(position_id, quantity=2)
    ledger.record_intent(close)

    ledger.record_fill(fill_of(close, "F-close", quantity=2, net_value="1.20", days_later=3))

    [position] = ledger.positions(open_only=False)
    assert ledger.positions() == []
    assert position.status is PositionStatus.CLOSED
    assert position.quantity == 0
    assert position.realized_pnl == Decimal("240.00")
    assert position.fees == Decimal("5.20")
    assert position.net_realized_pnl == Decimal("234.80")
    assert position.closed_at is not None


def test_partial_close_keeps_position_open_with_remaining_units(ledger: SqlLedger) -> None:
    position_id = _open_strangle(ledger)
    close = closing_intent(position_id, quantity=1)
    ledger.record_intent(close)

    ledger.record_fill(fill_of(close, "F-close", quantity=1, net_value="1.20", commission="1.30"))

    [position] = ledger.positions(open_only=True)
    assert position.status is PositionStatus.OPEN
    assert (position.quantity, position.realized_pnl) == (1, Decimal("120.00"))
    assert position.closed_at is None


def test_fill_beyond_order_quantity_is_refused_and_records_nothing(ledger: SqlLedger) -> None:
    intent = opening_intent(quantity=1)
    ledger.record_intent(intent)

    with pytest.raises(FillMismatchError, match=intent.client_order_id):
        ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))

    snapshot = ledger.snapshot()
    assert (len(snapshot["fills"]), len(snapshot["orders"]), len(snapshot["positions"])) == (0, 0, 0)


def test_closing_fill_of_unknown_position_is_refused_and_records_nothing(ledger: SqlLedger) -> None:
    close = closing_intent("tp-no-such-position")
    ledger.record_intent(close)

    with pytest.raises(FillMismatchError, match="tp-no-such-position"):
        ledger.record_fill(fill_of(close, "F-close", quantity=2, net_value="1.20"))

    assert ledger.snapshot()["fills"].empty


def test_fill_of_unrecorded_order_raises_unknown_order(ledger: SqlLedger) -> None:
    with pytest.raises(UnknownOrderError, match="unknown client_order_id"):
        ledger.record_fill(fill_of(opening_intent(), "F-1", quantity=1, net_value="-2.40"))


def test_a_roll_fill_changes_the_stored_legs_and_realizes_the_closed_leg(ledger: SqlLedger) -> None:
    # Arrange: the strangle opened with leg prices 1.20 (put) and 1.2050 (call); the call is rolled down
    position_id = _open_strangle(ledger)
    put, call = strangle_legs()
    new_call = Leg(replace(call.contract, strike=Decimal("580")), Side.SELL)
    legs = (call.closing(), new_call)
    roll = OrderIntent(
        client_order_id=make_client_order_id(STRATEGY, SESSION, "roll", legs, PositionEffect.ROLL),
        strategy=STRATEGY,
        session=SESSION,
        decision_time=DECISION_TIME,
        underlying="SPY",
        legs=legs,
        quantity=2,
        limit_price=Decimal("-1.00"),
        effect=PositionEffect.ROLL,
        position_id=position_id,
    )
    ledger.record_intent(roll)
    fill = replace(
        fill_of(roll, "F-roll", quantity=2, net_value="-1.50", days_later=1),
        leg_prices=(Decimal("0.20"), Decimal("1.70")),
    )

    # Act
    ledger.record_fill(fill)

    # Assert: (1.2050 - 0.20) x 2 x 100 realized; the stored position equals its replay from the fills
    [stored] = ledger.positions()
    assert stored.legs == (put, new_call)
    assert stored.leg_entry_prices == (Decimal("1.20"), Decimal("1.70"))
    assert stored.realized_pnl == Decimal("201.00")
    assert stored.entry_value == Decimal("-2.8950")
    assert ledger.positions(as_of=fill.filled_at) == [stored]
