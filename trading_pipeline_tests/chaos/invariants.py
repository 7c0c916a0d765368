"""Invariant checker over a trial's world: the ledger's tables against the paper broker's book.

The broker side is the truth about what left the process; the ledger must account for all of it.
`check_invariants` is pure (tables in, readable violations out) so it is unit-tested on hand-made
tables; `observe` reads a harness' ledger and broker book into a `World`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from trading_pipeline.adapters.brokers.base import BrokerOrder
from trading_pipeline.adapters.brokers.paper import submit_calls
from trading_pipeline.core.instruments import contract_quantities, legs_from_json
from trading_pipeline.core.orders import OrderStatus, PositionEffect
from trading_pipeline.core.positions import PositionStatus
from trading_pipeline.core.risk import RiskLimits
from trading_pipeline.settings import load_config

if TYPE_CHECKING:
    from trading_pipeline_tests.pipeline_harness import PipelineHarness

#: Intent statuses that say the ledger has not heard back from the broker (spelled out, so the checker
#: also runs against code from before the SUBMITTING claim existed).
UNACKNOWLEDGED = frozenset({"NEW", "SUBMITTING"})


STEP_COLUMNS = ["client_order_id", "step", "kind", "limit_price", "status"]


@dataclass(frozen=True)
class World:
    """The ledger's tables (as SqlLedger.snapshot() returns them) and the broker's side of the world."""

    intents: pd.DataFrame  # order_intents: client_order_id, strategy, session, effect, position_id, status
    fills: pd.DataFrame  # fills: fill_id, client_order_id, quantity
    positions: pd.DataFrame  # positions: position_id, strategy, legs (JSON text), quantity, status
    broker_orders: tuple[BrokerOrder, ...]
    broker_positions: Mapping[str, int]  # net signed contracts per OCC symbol at the broker
    submit_calls: Mapping[str, int]  # calls of PaperBroker.submit per client order id
    #: order_steps: client_order_id, step, kind, limit_price, status (the ladder; empty before it existed)
    steps: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STEP_COLUMNS))


def check_invariants(world: World, limits: RiskLimits) -> list[str]:
    """Every violated invariant of `world`, one readable line each; empty when all hold."""
    return [
        *_one_submit_per_order(world),
        *_broker_positions_known(world),
        *_limits_hold(world, limits),
        *_fills_match(world),
        *_no_position_closed_twice(world),
        *_one_working_order_per_decision(world),
        *_ladder_matches_broker(world),
    ]


def _one_working_order_per_decision(world: World) -> list[str]:
    """At most one order per decision may still work, at the broker and in the ledger (a rerun or a racing
    tick never leaves two resting orders for one entry or one exit)."""
    decision_of = {row.client_order_id: _decision_key(row) for row in world.intents.itertuples()}
    at_broker: defaultdict[str, list[str]] = defaultdict(list)
    for order in world.broker_orders:
        if order.status.is_working or order.status is OrderStatus.SUBMITTED:
            cid = order.client_order_id
            at_broker[decision_of.get(cid, cid)].append(cid)
    in_ledger: defaultdict[str, list[str]] = defaultdict(list)
    for row in world.intents.itertuples():
        if OrderStatus(row.status).on_its_way:
            in_ledger[decision_of[row.client_order_id]].append(row.client_order_id)
    return [
        f"one working order per decision: {where} holds {len(cids)} for decision {key}:"
        f" {', '.join(sorted(cids))}"
        for where, groups in (("the broker", at_broker), ("the ledger", in_ledger))
        for key, cids in sorted(groups.items())
        if len(cids) > 1
    ]


def _decision_key(row: object) -> str:
    """What one decision is about: an entry's decision id, or the position an exit closes."""
    if row.effect != PositionEffect.OPEN.value and getattr(row, "position_id", None):
        return f"close {row.position_id}"
    tags = getattr(row, "tags", None)
    tags = json.loads(tags) if isinstance(tags, str) else (tags or {})
    return str(tags.get("decision_id", row.client_order_id))


def _ladder_matches_broker(world: World) -> list[str]:
    """Every replace at the broker was claimed in the ledger first, and the broker works each order at the
    step and limit the ledger last confirmed (a step applied before a crash is confirmed by the next tick)."""
    replaces = world.steps[world.steps["kind"] == "REPLACE"] if len(world.steps) else world.steps
    violations = []
    for order in world.broker_orders:
        mine = replaces[replaces["client_order_id"] == order.client_order_id] if len(replaces) else replaces
        claimed = set(mine["step"].astype(int)) if len(mine) else set()
        confirmed = mine[mine["status"] == "CONFIRMED"] if len(mine) else mine
        if order.step and order.step not in claimed:
            violations.append(
                f"ladder: broker order {order.client_order_id} is at step {order.step},"
                " never claimed in the ledger"
            )
        last = int(confirmed["step"].max()) if len(confirmed) else 0
        if order.step != last:
            recorded = [(int(s.step), s.status) for s in mine.itertuples()] if len(mine) else []
            violations.append(
                f"ladder: broker order {order.client_order_id} works at step {order.step}, the ledger's last"
                f" confirmed step is {last} (ledger steps {recorded}, broker {order.status.value})"
            )
        elif last and order.limit_price is not None:
            limit = confirmed.loc[confirmed["step"] == last, "limit_price"].iloc[0]
            if limit is not None and order.limit_price != limit:
                violations.append(
                    f"ladder: broker order {order.client_order_id} works at {order.limit_price}, the ledger's"
                    f" step {last} set {limit}"
                )
    return violations


def _one_submit_per_order(world: World) -> list[str]:
    """Invariant 1: a real broker may not de-duplicate, so a second submit call is a second order."""
    return [
        f"one submit per order: client order id {cid} was sent to the broker {calls} times"
        for cid, calls in sorted(world.submit_calls.items())
        if calls > 1
    ]


def _filled_at_broker(world: World) -> dict[str, tuple[pd.Series, int]]:
    """Each broker order with fills and a ledger intent: its intent row and the contracts filled."""
    intents = world.intents.set_index("client_order_id")
    filled = {
        order.client_order_id: sum(fill.quantity for fill in order.fills) for order in world.broker_orders
    }
    return {
        cid: (intents.loc[cid], quantity)
        for cid, quantity in filled.items()
        if quantity > 0 and cid in intents.index
    }


def _no_position_closed_twice(world: World) -> list[str]:
    """The broker closes no position by more units than it opened, and never holds a leg the other way round.

    Two closes of one position that both fill (two ticks each deciding the exit) leave the broker long
    what the strategy only ever sold.
    """
    opened: Counter[str] = Counter()
    closes: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for cid, (intent, quantity) in _filled_at_broker(world).items():
        if intent["effect"] == PositionEffect.OPEN.value:
            opened[cid] += quantity
        else:
            closes[str(intent["position_id"])].append((cid, quantity))
    violations = [
        f"closed twice: position {position_id} opened {opened[position_id]} at the broker,"
        f" closed {sum(q for _, q in filled)} by {', '.join(cid for cid, _ in filled)}"
        for position_id, filled in sorted(closes.items())
        if sum(q for _, q in filled) > opened[position_id]
    ]
    held_as: defaultdict[str, set[int]] = defaultdict(set)  # symbol -> signs the ledger's positions held
    for row in world.positions.itertuples():
        for symbol, contracts in contract_quantities(legs_from_json(json.loads(row.legs)), 1).items():
            held_as[symbol].add(1 if contracts > 0 else -1)
    violations += [
        f"reversed position: the broker holds {symbol} {quantity:+d},"
        f" the ledger's positions only ever held it {'long' if quantity < 0 else 'short'}"
        for symbol, quantity in sorted(world.broker_positions.items())
        if held_as[symbol] == {-1 if quantity > 0 else 1}
    ]
    return violations


def orders_sent(world: World, effect: PositionEffect) -> int:
    """How many broker orders (filled or not) the ledger records as intents with this effect."""
    effects = dict(zip(world.intents["client_order_id"], world.intents["effect"], strict=True))
    return sum(effects.get(order.client_order_id) == effect.value for order in world.broker_orders)


def unfinished_exits(world: World) -> list[str]:
    """Open positions with no close on its way, in a world where every tick's exit rule fires for them.

    Not an invariant of every world: the exit scenarios set exit_dte so that each tick must close an
    open position, or find a close of it still on its way (a claim the killed tick made is never re-sent).
    """
    on_its_way = {
        row.position_id
        for row in world.intents.itertuples()
        if row.effect == PositionEffect.CLOSE.value and OrderStatus(row.status).on_its_way
    }
    return [
        f"exit lost: position {row.position_id} is still open and no close of it is on its way"
        for row in world.positions.itertuples()
        if row.status == PositionStatus.OPEN.value and row.position_id not in on_its_way
    ]


def _ledger_open_contracts(world: World) -> Counter[str]:
    held: Counter[str] = Counter()
    for row in world.positions.itertuples():
        if row.status == PositionStatus.OPEN.value:
            held.update(contract_quantities(legs_from_json(json.loads(row.legs)), int(row.quantity)))
    return held


def _broker_positions_known(world: World) -> list[str]:
    """Every contract the broker holds is held by the ledger's open positions, and vice versa."""
    ledger = _ledger_open_contracts(world)
    symbols = sorted({*ledger, *world.broker_positions})
    return [
        f"broker position unknown to the ledger: {symbol} broker {world.broker_positions.get(symbol, 0):+d}"
        f" contracts, ledger open positions {ledger[symbol]:+d}"
        for symbol in symbols
        if world.broker_positions.get(symbol, 0) != ledger[symbol]
    ]


def _limits_hold(world: World, limits: RiskLimits) -> list[str]:
    """Filled entries per session and strategy, and open positions per strategy, stay within the limits."""
    known = set(world.intents["client_order_id"])
    violations = [
        f"limits: broker order {order.client_order_id} has no order intent in the ledger"
        for order in world.broker_orders
        if order.client_order_id not in known
    ]
    entries: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for cid, (intent, _) in _filled_at_broker(world).items():
        if intent["effect"] == PositionEffect.OPEN.value:
            entries[(str(intent["session"]), intent["strategy"])].append(cid)
    maximum = limits.max_entries_per_session_per_strategy
    violations += [
        f"limits: {len(cids)} filled {strategy} entries at the broker in session {session} (max {maximum}):"
        f" {', '.join(cids)}"
        for (session, strategy), cids in sorted(entries.items())
        if len(cids) > maximum
    ]
    open_positions = world.positions[world.positions["status"] == PositionStatus.OPEN.value]
    maximum = limits.max_open_positions_per_strategy
    violations += [
        f"limits: {count} open {strategy} positions in the ledger (max {maximum})"
        for strategy, count in sorted(Counter(open_positions["strategy"]).items())
        if count > maximum
    ]
    return violations


def _fills_match(world: World) -> list[str]:
    """Broker and ledger fills are the same set, positions add up, no order at the broker is unrecorded."""
    broker_fills = {fill.fill_id: fill for order in world.broker_orders for fill in order.fills}
    ledger_fills = {row.fill_id: int(row.quantity) for row in world.fills.itertuples()}
    violations = [
        f"fills: broker fill {fill_id} of {fill.client_order_id} ({fill.quantity} units) is not in the ledger"
        for fill_id, fill in sorted(broker_fills.items())
        if ledger_fills.get(fill_id) != fill.quantity
    ]
    violations += [
        f"fills: ledger fill {fill_id} was never reported by the broker"
        for fill_id in sorted(ledger_fills)
        if fill_id not in broker_fills
    ]
    violations += _positions_add_up(world)
    statuses = {order.client_order_id: order.status.value for order in world.broker_orders}
    violations += [
        f"fills: intent {row.client_order_id} is {row.status} in the ledger"
        f" but {statuses[row.client_order_id]} at the broker"
        for row in world.intents.itertuples()
        if row.status in UNACKNOWLEDGED and row.client_order_id in statuses
    ]
    return violations


def _positions_add_up(world: World) -> list[str]:
    """Each position's quantity is its opening order's fills minus the fills of orders that close it."""
    opened: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    intents = world.intents.set_index("client_order_id")
    for row in world.fills.itertuples():
        if row.client_order_id not in intents.index:
            continue
        intent = intents.loc[row.client_order_id]
        if intent["effect"] == PositionEffect.OPEN.value:
            opened[row.client_order_id] += int(row.quantity)
        else:
            closed[intent["position_id"]] += int(row.quantity)
    return [
        f"fills: position {row.position_id} holds {row.quantity} but its fills add up to"
        f" {opened[row.position_id]} opened - {closed[row.position_id]} closed"
        for row in world.positions.itertuples()
        if int(row.quantity) != opened[row.position_id] - closed[row.position_id]
    ]


def observe(harness: PipelineHarness) -> World:
    """Read the harness' ledger tables and its paper broker book (orders, net positions, submit calls)."""
    tables = harness.ledger_tables()
    broker = harness.broker_resource().broker()
    try:
        orders, positions = tuple(broker.orders()), broker.positions()
    finally:
        broker.dispose()
    engine = sa.create_engine(harness.broker_url)
    try:
        with engine.connect() as conn:
            counted = conn.execute(
                sa.select(submit_calls.c.client_order_id, sa.func.count()).group_by(
                    submit_calls.c.client_order_id
                )
            ).all()
    finally:
        engine.dispose()
    return World(
        intents=tables["order_intents"],
        fills=tables["fills"],
        positions=tables["positions"],
        broker_orders=orders,
        broker_positions={p.occ_symbol: p.quantity for p in positions},
        submit_calls=dict(counted),
        steps=tables["order_steps"],
    )


def harness_limits(harness: PipelineHarness) -> RiskLimits:
    """The risk limits the harness' configuration enforces."""
    return load_config(harness.config_path).risk
