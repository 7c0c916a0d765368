"""Deterministic client order ids, order intents and the order state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_pipeline.core.instruments import Leg, Side, parse_occ_symbol
from trading_pipeline.core.orders import (
    CLIENT_ORDER_ID_PREFIX,
    InvalidTransitionError,
    OrderIntent,
    OrderStatus,
    PositionEffect,
    make_client_order_id,
    transition,
)

SESSION = date(2025, 11, 28)
PUT = Leg(parse_occ_symbol("SPY   251219P00640000"), Side.SELL)
CALL = Leg(parse_occ_symbol("SPY   251219C00720000"), Side.SELL)
STRANGLE = (PUT, CALL)
BASE = {
    "strategy": "short_strangle",
    "session": SESSION,
    "decision_key": "10:00",
    "legs": STRANGLE,
    "effect": PositionEffect.OPEN,
}


def _intent(**overrides: object) -> OrderIntent:
    fields: dict[str, object] = {
        "client_order_id": make_client_order_id(**BASE),  # type: ignore[arg-type]
        "strategy": "short_strangle",
        "session": SESSION,
        "decision_time": datetime(2025, 11, 28, 15, 0, tzinfo=UTC),
        "underlying": "SPY",
        "legs": STRANGLE,
        "quantity": 1,
        "limit_price": Decimal("-2.40"),
        "effect": PositionEffect.OPEN,
    }
    fields.update(overrides)
    return OrderIntent(**fields)  # type: ignore[arg-type]


def test_same_inputs_give_the_same_client_order_id() -> None:
    first = make_client_order_id(**BASE)  # type: ignore[arg-type]
    second = make_client_order_id(**dict(BASE))  # type: ignore[arg-type]

    assert first == second
    assert first.startswith(CLIENT_ORDER_ID_PREFIX)
    assert len(first) == len(CLIENT_ORDER_ID_PREFIX) + 24


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("strategy", "iron_condor"),
        ("session", date(2025, 12, 1)),
        ("decision_key", "10:30"),
        ("legs", (PUT,)),
        ("legs", (Leg(PUT.contract, Side.SELL, ratio=2), CALL)),
        ("legs", (PUT.closing(), CALL.closing())),
        ("legs", (Leg(parse_occ_symbol("SPY   251219P00635000"), Side.SELL), CALL)),
        ("effect", PositionEffect.CLOSE),
    ],
)
def test_changing_any_input_changes_the_client_order_id(field: str, value: object) -> None:
    changed = {**BASE, field: value}

    assert make_client_order_id(**changed) != make_client_order_id(**BASE)  # type: ignore[arg-type]


def test_separator_inside_strategy_or_key_cannot_collide_with_another_decision() -> None:
    # Arrange: the same characters split differently between strategy, session and key.
    first = {**BASE, "strategy": "a", "session": date(2025, 1, 2), "decision_key": "x|2025-01-03|y"}
    second = {**BASE, "strategy": "a|2025-01-02|x", "session": date(2025, 1, 3), "decision_key": "y"}

    # Act / Assert
    assert make_client_order_id(**first) != make_client_order_id(**second)  # type: ignore[arg-type]


@given(key_a=st.text(max_size=20), key_b=st.text(max_size=20))
def test_distinct_decision_keys_give_distinct_ids(key_a: str, key_b: str) -> None:
    id_a = make_client_order_id(**{**BASE, "decision_key": key_a})  # type: ignore[arg-type]
    id_b = make_client_order_id(**{**BASE, "decision_key": key_b})  # type: ignore[arg-type]

    assert (id_a == id_b) == (key_a == key_b)


@pytest.mark.parametrize(
    "path",
    [
        (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.FILLED),
        (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED),
        (OrderStatus.NEW, OrderStatus.SUBMITTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCELLED),
        (OrderStatus.NEW, OrderStatus.REJECTED),
        (OrderStatus.NEW, OrderStatus.FILLED),  # paper broker fills on submit
        (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.WORKING, OrderStatus.FILLED),
        (OrderStatus.SUBMITTING, OrderStatus.SUBMITTED, OrderStatus.WORKING, OrderStatus.CANCELLED),
        (OrderStatus.SUBMITTING, OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED, OrderStatus.EXPIRED),
        (OrderStatus.SUBMITTING, OrderStatus.WORKING, OrderStatus.EXPIRED),  # a day order the close ended
    ],
)
def test_allowed_lifecycle_paths_end_in_their_last_status(path: tuple[OrderStatus, ...]) -> None:
    status = path[0]

    for new in path[1:]:
        status = transition(status, new)

    assert status is path[-1]
    assert status.is_terminal or status is OrderStatus.PARTIALLY_FILLED


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (OrderStatus.FILLED, OrderStatus.SUBMITTED),
        (OrderStatus.FILLED, OrderStatus.CANCELLED),
        (OrderStatus.CANCELLED, OrderStatus.FILLED),
        (OrderStatus.REJECTED, OrderStatus.SUBMITTED),
        (OrderStatus.SUBMITTED, OrderStatus.NEW),
        (OrderStatus.PARTIALLY_FILLED, OrderStatus.SUBMITTED),
        (OrderStatus.PARTIALLY_FILLED, OrderStatus.WORKING),  # a fill is never taken back
        (OrderStatus.WORKING, OrderStatus.SUBMITTED),
        (OrderStatus.WORKING, OrderStatus.REJECTED),  # a refused replace leaves the order working
        (OrderStatus.EXPIRED, OrderStatus.WORKING),
        (OrderStatus.EXPIRED, OrderStatus.FILLED),
    ],
)
def test_transition_out_of_order_raises_naming_both_states(current: OrderStatus, new: OrderStatus) -> None:
    with pytest.raises(InvalidTransitionError, match=f"from {current} to {new}"):
        transition(current, new)


@pytest.mark.parametrize("status", list(OrderStatus))
def test_repeating_the_current_status_is_allowed(status: OrderStatus) -> None:
    assert transition(status, status) is status


def test_intent_rounds_limit_price_to_cents_and_marks_credit() -> None:
    intent = _intent(limit_price=Decimal("-2.404"))

    assert intent.limit_price == Decimal("-2.40")
    assert intent.is_credit


def test_intent_with_naive_decision_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _intent(decision_time=datetime(2025, 11, 28, 10, 0))


@pytest.mark.parametrize("quantity", [0, -1])
def test_intent_with_quantity_below_one_is_rejected(quantity: int) -> None:
    with pytest.raises(ValueError, match=f"quantity must be >= 1, got {quantity}"):
        _intent(quantity=quantity)


def test_intent_without_legs_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one leg"):
        _intent(legs=())


@pytest.mark.parametrize(
    ("status", "working", "on_its_way", "terminal"),
    [
        (OrderStatus.SUBMITTED, False, True, False),
        (OrderStatus.WORKING, True, True, False),
        (OrderStatus.PARTIALLY_FILLED, True, True, False),
        (OrderStatus.EXPIRED, False, False, True),
        (OrderStatus.ABANDONED, False, False, False),
    ],
)
def test_a_resting_order_is_working_and_on_its_way_and_an_expired_one_is_final(
    status: OrderStatus, working: bool, on_its_way: bool, terminal: bool
) -> None:
    assert (status.is_working, status.on_its_way, status.is_terminal) == (working, on_its_way, terminal)
