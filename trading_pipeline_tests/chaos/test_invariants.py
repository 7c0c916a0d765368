"""The invariant checker fails on hand-made worlds that break each invariant, and passes a consistent one."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd

from trading_pipeline.adapters.brokers.base import BrokerOrder
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side, legs_to_json
from trading_pipeline.core.orders import OrderStatus, PositionEffect
from trading_pipeline.core.positions import Fill
from trading_pipeline.core.risk import RiskLimits
from trading_pipeline_tests.chaos.invariants import World, check_invariants, orders_sent, unfinished_exits

SESSION = date(2025, 12, 1)
LIMITS = RiskLimits(max_entries_per_session_per_strategy=1, max_open_positions_per_strategy=3)
EXPIRY = date(2026, 1, 16)


def _strangle(put_strike: int, call_strike: int) -> tuple[Leg, ...]:
    return (
        Leg(OptionContract("SPY", EXPIRY, Decimal(put_strike), Right.PUT), Side.SELL),
        Leg(OptionContract("SPY", EXPIRY, Decimal(call_strike), Right.CALL), Side.SELL),
    )


STRANGLE = _strangle(650, 700)
PUT, CALL = (leg.contract.occ_symbol for leg in STRANGLE)


def _intent(cid: str, status: str, effect: str = "OPEN", position_id: str | None = None) -> dict:
    return {
        "client_order_id": cid,
        "strategy": "short_strangle",
        "session": SESSION,
        "effect": effect,
        "position_id": position_id,
        "status": status,
    }


def _position(
    position_id: str, quantity: int, status: str = "OPEN", legs: tuple[Leg, ...] = STRANGLE
) -> dict:
    return {
        "position_id": position_id,
        "strategy": "short_strangle",
        "legs": json.dumps(legs_to_json(legs)),
        "quantity": quantity,
        "status": status,
    }


def _fill(cid: str, quantity: int = 1) -> Fill:
    return Fill(
        fill_id=f"{cid}-fill",
        client_order_id=cid,
        broker_order_id=f"paper-{cid}",
        filled_at=datetime(2025, 12, 1, 15, tzinfo=UTC),
        quantity=quantity,
        net_value=Decimal("-4.20"),
        leg_prices=(Decimal("2.10"), Decimal("2.10")),
        commission=Decimal("1.30"),
    )


def _filled_order(cid: str, quantity: int = 1) -> BrokerOrder:
    return BrokerOrder(f"paper-{cid}", cid, OrderStatus.FILLED, (_fill(cid, quantity),))


def _fills_table(*fills: Fill) -> pd.DataFrame:
    return pd.DataFrame(
        [{"fill_id": f.fill_id, "client_order_id": f.client_order_id, "quantity": f.quantity} for f in fills],
        columns=["fill_id", "client_order_id", "quantity"],
    )


def _one_entry() -> World:
    """A consistent world: one short strangle entered once, filled, recorded, held by both sides."""
    return World(
        intents=pd.DataFrame([_intent("entry-1", "FILLED")]),
        fills=_fills_table(_fill("entry-1")),
        positions=pd.DataFrame([_position("entry-1", 1)]),
        broker_orders=(_filled_order("entry-1"),),
        broker_positions={PUT: -1, CALL: -1},
        submit_calls={"entry-1": 1},
    )


def test_consistent_world_has_no_violations() -> None:
    world = _one_entry()

    violations = check_invariants(world, LIMITS)

    assert violations == []


def test_second_submit_call_for_one_client_order_id_is_a_violation() -> None:
    world = replace(_one_entry(), submit_calls={"entry-1": 2})

    violations = check_invariants(world, LIMITS)

    assert violations == ["one submit per order: client order id entry-1 was sent to the broker 2 times"]


def test_order_filled_at_the_broker_but_new_in_the_ledger_is_an_orphan_position() -> None:
    world = replace(
        _one_entry(),
        intents=pd.DataFrame([_intent("entry-1", "NEW")]),
        fills=_fills_table(),
        positions=pd.DataFrame(columns=["position_id", "strategy", "legs", "quantity", "status"]),
    )

    violations = check_invariants(world, LIMITS)

    assert violations == [
        f"broker position unknown to the ledger: {CALL} broker -1 contracts, ledger open positions +0",
        f"broker position unknown to the ledger: {PUT} broker -1 contracts, ledger open positions +0",
        "fills: broker fill entry-1-fill of entry-1 (1 units) is not in the ledger",
        "fills: intent entry-1 is NEW in the ledger but FILLED at the broker",
    ]


def test_two_filled_entries_in_one_session_breach_the_entry_limit() -> None:
    other = _strangle(640, 710)
    world = replace(
        _one_entry(),
        intents=pd.DataFrame([_intent("entry-1", "FILLED"), _intent("entry-2", "FILLED")]),
        fills=_fills_table(_fill("entry-1"), _fill("entry-2")),
        positions=pd.DataFrame([_position("entry-1", 1), _position("entry-2", 1, legs=other)]),
        broker_orders=(_filled_order("entry-1"), _filled_order("entry-2")),
        broker_positions={PUT: -1, CALL: -1, **{leg.contract.occ_symbol: -1 for leg in other}},
        submit_calls={"entry-1": 1, "entry-2": 1},
    )

    violations = check_invariants(world, LIMITS)

    assert violations == [
        "limits: 2 filled short_strangle entries at the broker in session 2025-12-01 (max 1):"
        " entry-1, entry-2"
    ]


def test_more_open_positions_than_the_limit_is_a_violation() -> None:
    world = _one_entry()

    violations = check_invariants(world, LIMITS.model_copy(update={"max_open_positions_per_strategy": 0}))

    assert violations == ["limits: 1 open short_strangle positions in the ledger (max 0)"]


def test_broker_order_without_a_ledger_intent_is_a_violation() -> None:
    world = replace(_one_entry(), broker_orders=(*_one_entry().broker_orders, _filled_order("stranger")))

    violations = check_invariants(world, LIMITS)

    assert "limits: broker order stranger has no order intent in the ledger" in violations
    assert "fills: broker fill stranger-fill of stranger (1 units) is not in the ledger" in violations


def test_position_quantity_other_than_its_fills_is_a_violation() -> None:
    world = replace(
        _one_entry(),
        positions=pd.DataFrame([_position("entry-1", 2)]),
        broker_positions={PUT: -2, CALL: -2},
    )

    violations = check_invariants(world, LIMITS)

    assert violations == ["fills: position entry-1 holds 2 but its fills add up to 1 opened - 0 closed"]


def test_ledger_fill_the_broker_never_reported_is_a_violation() -> None:
    world = replace(
        _one_entry(), fills=_fills_table(_fill("entry-1"), replace(_fill("entry-1"), fill_id="ghost"))
    )

    violations = check_invariants(world, LIMITS)

    assert "fills: ledger fill ghost was never reported by the broker" in violations


def test_position_closed_by_its_exit_order_has_no_violations() -> None:
    world = _closed_once()

    violations = check_invariants(world, LIMITS)

    assert violations == []


def _closed_once() -> World:
    """A consistent world: the entry of `_one_entry` closed by one exit order, flat on both sides."""
    closing = _intent("exit-1", "FILLED", effect=PositionEffect.CLOSE.value, position_id="entry-1")
    return replace(
        _one_entry(),
        intents=pd.DataFrame([_intent("entry-1", "FILLED"), closing]),
        fills=_fills_table(_fill("entry-1"), _fill("exit-1")),
        positions=pd.DataFrame([_position("entry-1", 0, status="CLOSED")]),
        broker_orders=(_filled_order("entry-1"), _filled_order("exit-1")),
        broker_positions={},
        submit_calls={"entry-1": 1, "exit-1": 1},
    )


def test_second_close_filled_for_one_position_is_a_violation() -> None:
    closed = _closed_once()
    second = _intent("exit-2", "FILLED", effect=PositionEffect.CLOSE.value, position_id="entry-1")
    world = replace(
        closed,
        intents=pd.concat([closed.intents, pd.DataFrame([second])], ignore_index=True),
        broker_orders=(*closed.broker_orders, _filled_order("exit-2")),
        broker_positions={PUT: 1, CALL: 1},
        submit_calls={**closed.submit_calls, "exit-2": 1},
    )

    violations = check_invariants(world, LIMITS)

    assert "closed twice: position entry-1 opened 1 at the broker, closed 2 by exit-1, exit-2" in violations


def test_broker_long_a_contract_the_ledger_only_held_short_is_a_reversed_position() -> None:
    world = replace(_closed_once(), broker_positions={PUT: 1})

    violations = check_invariants(world, LIMITS)

    reversed_put = (
        f"reversed position: the broker holds {PUT} +1, the ledger's positions only ever held it short"
    )
    assert reversed_put in violations


def test_open_position_without_a_close_on_its_way_is_an_unfinished_exit() -> None:
    world = _one_entry()

    unfinished = unfinished_exits(world)

    assert unfinished == ["exit lost: position entry-1 is still open and no close of it is on its way"]


def test_open_position_whose_close_is_claimed_is_not_an_unfinished_exit() -> None:
    claimed = _intent("exit-1", "SUBMITTING", effect=PositionEffect.CLOSE.value, position_id="entry-1")
    world = replace(_one_entry(), intents=pd.DataFrame([_intent("entry-1", "FILLED"), claimed]))

    unfinished = unfinished_exits(world)

    assert unfinished == []


def test_closed_position_is_not_an_unfinished_exit() -> None:
    world = _closed_once()

    unfinished = unfinished_exits(world)

    assert unfinished == []


def test_orders_sent_counts_broker_orders_per_effect_of_their_intent() -> None:
    world = replace(_closed_once(), broker_orders=(*_closed_once().broker_orders, _filled_order("stranger")))

    counts = (orders_sent(world, PositionEffect.OPEN), orders_sent(world, PositionEffect.CLOSE))

    assert counts == (1, 1)


def _resting(cid: str, step: int = 0, limit: str = "-4.40") -> BrokerOrder:
    return BrokerOrder(f"paper-{cid}", cid, OrderStatus.WORKING, (), "", Decimal(limit), step)


def _ladder_world(*orders: BrokerOrder, steps: list[dict] | None = None, tags: str = "{}") -> World:
    """Resting entries (WORKING at the broker and in the ledger) with the given ladder steps recorded."""
    intents = [{**_intent(o.client_order_id, "WORKING"), "tags": tags} for o in orders]
    return World(
        intents=pd.DataFrame(intents),
        fills=_fills_table(),
        positions=pd.DataFrame(columns=["position_id", "strategy", "legs", "quantity", "status"]),
        broker_orders=orders,
        broker_positions={},
        submit_calls={o.client_order_id: 1 for o in orders},
        steps=pd.DataFrame(steps or [], columns=["client_order_id", "step", "kind", "limit_price", "status"]),
    )


def _step(cid: str, step: int, limit: str, status: str = "CONFIRMED") -> dict:
    return {
        "client_order_id": cid,
        "step": step,
        "kind": "REPLACE",
        "limit_price": Decimal(limit),
        "status": status,
    }


def test_a_resting_order_at_the_step_and_limit_the_ledger_confirmed_has_no_violations() -> None:
    world = _ladder_world(_resting("entry-1", 1, "-4.30"), steps=[_step("entry-1", 1, "-4.30")])

    assert check_invariants(world, LIMITS) == []


def test_a_replace_at_the_broker_the_ledger_never_claimed_is_a_violation() -> None:
    world = _ladder_world(_resting("entry-1", 1, "-4.30"))

    assert check_invariants(world, LIMITS) == [
        "ladder: broker order entry-1 is at step 1, never claimed in the ledger",
        "ladder: broker order entry-1 works at step 1, the ledger's last confirmed step is 0"
        " (ledger steps [], broker WORKING)",
    ]


def test_a_step_applied_at_the_broker_but_left_unconfirmed_is_a_violation() -> None:
    world = _ladder_world(_resting("entry-1", 1, "-4.30"), steps=[_step("entry-1", 1, "-4.30", "REQUESTED")])

    assert check_invariants(world, LIMITS) == [
        "ladder: broker order entry-1 works at step 1, the ledger's last confirmed step is 0"
        " (ledger steps [(1, 'REQUESTED')], broker WORKING)"
    ]


def test_a_broker_limit_other_than_the_confirmed_steps_is_a_violation() -> None:
    world = _ladder_world(_resting("entry-1", 1, "-4.25"), steps=[_step("entry-1", 1, "-4.30")])

    assert check_invariants(world, LIMITS) == [
        "ladder: broker order entry-1 works at -4.25, the ledger's step 1 set -4.30"
    ]


def test_two_orders_working_for_one_decision_is_a_violation_at_the_broker_and_in_the_ledger() -> None:
    world = _ladder_world(_resting("entry-1"), _resting("entry-2"), tags='{"decision_id": "d-1"}')

    assert check_invariants(world, LIMITS) == [
        "one working order per decision: the broker holds 2 for decision d-1: entry-1, entry-2",
        "one working order per decision: the ledger holds 2 for decision d-1: entry-1, entry-2",
    ]
