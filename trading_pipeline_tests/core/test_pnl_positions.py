"""The one P&L formula and how opening, adding and closing fills change a position."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from trading_pipeline.core.instruments import Leg, Side, parse_occ_symbol
from trading_pipeline.core.orders import OrderIntent, PositionEffect, make_client_order_id
from trading_pipeline.core.pnl import structure_pnl, structure_value
from trading_pipeline.core.positions import (
    Fill,
    FillMismatchError,
    PositionStatus,
    add_to_position,
    open_position,
    reduce_position,
)

SESSION = date(2025, 11, 3)
OPENED_AT = datetime(2025, 11, 3, 15, 0, tzinfo=UTC)
CLOSED_AT = datetime(2025, 11, 10, 15, 0, tzinfo=UTC)
STRANGLE = (
    Leg(parse_occ_symbol("SPY   251219P00640000"), Side.SELL),
    Leg(parse_occ_symbol("SPY   251219C00720000"), Side.SELL),
)
OPEN_ID = make_client_order_id("short_strangle", SESSION, "10:00", STRANGLE, PositionEffect.OPEN)


def _intent(quantity: int = 2) -> OrderIntent:
    return OrderIntent(
        client_order_id=OPEN_ID,
        strategy="short_strangle",
        session=SESSION,
        decision_time=OPENED_AT,
        underlying="SPY",
        legs=STRANGLE,
        quantity=quantity,
        limit_price=Decimal("-2.40"),
        effect=PositionEffect.OPEN,
    )


def _fill(
    fill_id: str, quantity: int, net_value: str, order_id: str = OPEN_ID, at: datetime = OPENED_AT
) -> Fill:
    return Fill(
        fill_id=fill_id,
        client_order_id=order_id,
        broker_order_id="b-" + fill_id,
        filled_at=at,
        quantity=quantity,
        net_value=Decimal(net_value),
        leg_prices=(),
        commission=Decimal("1.30") * quantity,
    )


def test_structure_value_of_a_short_strangle_is_the_negative_credit() -> None:
    assert structure_value(STRANGLE, (Decimal("1.25"), Decimal("1.15"))) == Decimal("-2.40")


def test_short_strangle_sold_for_2_40_bought_back_for_1_20_makes_120_per_unit() -> None:
    # Arrange: entry value -2.40 (credit), exit value -1.20 (still short, worth less).
    entry, exit_value = Decimal("-2.40"), Decimal("-1.20")

    # Act
    pnl = structure_pnl(entry, exit_value, quantity=1, multiplier=100)

    # Assert
    assert pnl == Decimal("120.00")


def test_structure_pnl_subtracts_fees_and_scales_with_quantity() -> None:
    assert structure_pnl(Decimal("1.50"), Decimal("1.00"), 3, 100, fees=Decimal("3.90")) == Decimal("-153.90")


def test_closing_a_short_strangle_realizes_gross_pnl_and_closes_the_position() -> None:
    # Arrange
    position = open_position(_intent(quantity=1), _fill("f1", 1, "-2.40"))
    closing = _fill("f2", 1, "1.20", order_id="tp-close", at=CLOSED_AT)  # buying back is a debit

    # Act
    closed = reduce_position(position, closing)

    # Assert
    assert closed.realized_pnl == Decimal("120.00")
    assert closed.fees == Decimal("2.60")
    assert closed.net_realized_pnl == Decimal("117.40")
    assert closed.status is PositionStatus.CLOSED
    assert closed.quantity == 0
    assert closed.closed_at == CLOSED_AT


def test_partial_close_realizes_pnl_on_closed_units_only_and_stays_open() -> None:
    # Arrange
    position = open_position(_intent(quantity=3), _fill("f1", 3, "-2.40"))

    # Act
    reduced = reduce_position(position, _fill("f2", 1, "1.20", order_id="tp-close", at=CLOSED_AT))

    # Assert
    assert reduced.quantity == 2
    assert reduced.status is PositionStatus.OPEN
    assert reduced.closed_at is None
    assert reduced.realized_pnl == Decimal("120.00")
    assert reduced.entry_value == Decimal("-2.40")


def test_closing_more_than_open_raises_and_names_both_quantities() -> None:
    position = open_position(_intent(quantity=1), _fill("f1", 1, "-2.40"))

    with pytest.raises(FillMismatchError, match="closing fill quantity 2 exceeds open quantity 1"):
        reduce_position(position, _fill("f2", 2, "1.20", order_id="tp-close"))


def test_closing_an_already_closed_position_raises() -> None:
    position = open_position(_intent(quantity=1), _fill("f1", 1, "-2.40"))
    closed = reduce_position(position, _fill("f2", 1, "1.20", order_id="tp-close"))

    with pytest.raises(FillMismatchError, match="already closed"):
        reduce_position(closed, _fill("f3", 1, "1.20", order_id="tp-close"))


def test_second_opening_fill_averages_the_entry_value_by_size() -> None:
    # Arrange
    position = open_position(_intent(quantity=3), _fill("f1", 1, "-2.40"))

    # Act
    added = add_to_position(position, _fill("f2", 2, "-2.55"))

    # Assert
    assert added.quantity == 3
    assert added.entry_value == Decimal("-2.50")
    assert added.fees == Decimal("3.90")


def test_pnl_after_averaged_entry_uses_the_average() -> None:
    position = add_to_position(open_position(_intent(3), _fill("f1", 1, "-2.40")), _fill("f2", 2, "-2.55"))

    closed = reduce_position(position, _fill("f3", 3, "1.00", order_id="tp-close", at=CLOSED_AT))

    assert closed.realized_pnl == Decimal("450.00")  # (2.50 - 1.00) x 3 x 100


def test_adding_a_fill_of_another_order_raises() -> None:
    position = open_position(_intent(), _fill("f1", 1, "-2.40"))

    with pytest.raises(FillMismatchError, match="does not belong"):
        add_to_position(position, _fill("f2", 1, "-2.40", order_id="tp-someone-else"))


def test_adding_to_a_closed_position_raises() -> None:
    position = open_position(_intent(quantity=1), _fill("f1", 1, "-2.40"))
    closed = reduce_position(position, _fill("f2", 1, "1.20", order_id="tp-close"))

    with pytest.raises(FillMismatchError, match="already closed"):
        add_to_position(closed, _fill("f3", 1, "-2.40"))


def test_opening_from_a_closing_intent_raises() -> None:
    intent = _intent()
    closing_intent = OrderIntent(**{**intent.__dict__, "effect": PositionEffect.CLOSE})

    with pytest.raises(FillMismatchError, match="does not open a position"):
        open_position(closing_intent, _fill("f1", 1, "1.20"))


def test_fill_with_zero_quantity_is_rejected() -> None:
    with pytest.raises(ValueError, match="fill quantity must be >= 1, got 0"):
        _fill("f1", 0, "-2.40")
