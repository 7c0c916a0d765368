"""Working the ladder against the paper broker and a real ledger: one replace per step whatever reruns,
races and crashes happen, cancels at the end, and unanswered steps settled from the broker's record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from trading_pipeline.adapters.brokers import ladder as ladder_module
from trading_pipeline.adapters.brokers.ladder import work_ladders
from trading_pipeline.adapters.brokers.paper import PaperBroker
from trading_pipeline.adapters.brokers.reconciliation import reconcile
from trading_pipeline.adapters.brokers.submission import submit_idempotently
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.fills import FillModel
from trading_pipeline.core.ladder import LadderParams, OrderStep, StepKind, StepStatus
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline_tests.adapters.brokers.stubs import FixedChainMarket, strangle_chain
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, opening_intent
from trading_pipeline_tests.concurrency import race

#: The market pays 2.20 for the strangle (mid 2.30, natural 2.10); the order asks 2.40 and rests.
MODEL = FillModel(slippage_fraction=Decimal("0.5"))
PARAMS = LadderParams(
    start_fraction=Decimal(0),
    step_fraction=Decimal("0.25"),
    step_wait=timedelta(minutes=5),
    max_steps=1,
    cancel_before_close=timedelta(minutes=10),
)
NOW = DECISION_TIME
STEP_TIME = NOW + timedelta(minutes=5)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[PaperBroker]:
    opened = PaperBroker(f"sqlite:///{tmp_path / 'paper.db'}", FixedChainMarket(strangle_chain()), MODEL)
    yield opened
    opened.dispose()


@pytest.fixture
def working(ledger: SqlLedger, broker: PaperBroker) -> OrderIntent:
    """An entry resting at the broker and WORKING in the ledger."""
    intent = opening_intent(limit_price="-2.40")
    result = submit_idempotently(intent, ledger, broker, NOW, claimant="run-0")
    assert result.status is OrderStatus.WORKING
    return intent


def test_after_its_wait_a_working_order_is_replaced_once_and_the_step_recorded(
    ledger: SqlLedger, broker: PaperBroker, working: OrderIntent
) -> None:
    # Act: the step, then a rerun of the same tick
    first = work_ladders(ledger, broker, strangle_chain(), STEP_TIME, PARAMS, "run-1")
    rerun = work_ladders(ledger, broker, strangle_chain(), STEP_TIME, PARAMS, "run-2")

    # Assert: a quarter of the half-spread from mid 2.30 toward natural, each leg rounded toward the bid: 2.24
    assert [(r.move, r.step) for r in first] == [("step", 1)]
    assert [r.move for r in rerun] == ["wait"]
    (step,) = ledger.order_steps(working.client_order_id)
    assert (step.kind, step.limit_price, step.status, step.requested_by) == (
        StepKind.REPLACE,
        Decimal("-2.24"),
        StepStatus.CONFIRMED,
        "run-1",
    )
    order = broker.find_order(working.client_order_id)
    assert order is not None and (order.step, order.limit_price) == (1, Decimal("-2.24"))
    assert ledger.intent(working.client_order_id) == (working, OrderStatus.WORKING)


def test_concurrent_runs_of_one_tick_step_a_working_order_once(
    ledger_url: str, ledger: SqlLedger, broker: PaperBroker, working: OrderIntent
) -> None:
    # Act: four runs of the step tick at one instant
    results = race(
        ledger_url,
        [
            lambda own, i=i: work_ladders(own, broker, strangle_chain(), STEP_TIME, PARAMS, f"run-{i}")
            for i in range(4)
        ],
    )

    # Assert
    moves = sorted(r.move for batch in results for r in batch)
    assert moves.count("step") == 1
    assert [s.step for s in ledger.order_steps(working.client_order_id)] == [1]
    assert [o.step for o in broker.orders()] == [1]


def test_after_the_last_steps_wait_the_order_is_cancelled_at_the_broker_and_in_the_ledger(
    ledger: SqlLedger, broker: PaperBroker, working: OrderIntent
) -> None:
    # Arrange
    work_ladders(ledger, broker, strangle_chain(), STEP_TIME, PARAMS, "run-1")

    # Act
    results = work_ladders(
        ledger, broker, strangle_chain(), STEP_TIME + timedelta(minutes=5), PARAMS, "run-2"
    )

    # Assert
    assert [(r.move, r.step, r.status) for r in results] == [("cancel", 2, OrderStatus.CANCELLED)]
    assert [(s.kind, s.status) for s in ledger.order_steps(working.client_order_id)] == [
        (StepKind.REPLACE, StepStatus.CONFIRMED),
        (StepKind.CANCEL, StepStatus.CONFIRMED),
    ]
    assert ledger.intent(working.client_order_id) == (working, OrderStatus.CANCELLED)
    assert [o.status for o in broker.orders()] == [OrderStatus.CANCELLED]


def test_a_step_the_broker_applied_before_the_run_died_is_confirmed_from_the_broker_and_not_repeated(
    ledger: SqlLedger, broker: PaperBroker, working: OrderIntent
) -> None:
    # Arrange: step 1 claimed and sent; the run died before recording the answer
    step = OrderStep(working.client_order_id, 1, StepKind.REPLACE, Decimal("-2.25"), STEP_TIME, "dead", "r")
    assert ledger.request_step(step)
    broker.replace(working.client_order_id, Decimal("-2.25"), 1, STEP_TIME)

    # Act: the next tick, one minute later
    results = work_ladders(
        ledger, broker, strangle_chain(), STEP_TIME + timedelta(minutes=1), PARAMS, "run-2"
    )

    # Assert: settled as confirmed; the order works at -2.25, one order at the broker, no second replace
    assert [r.move for r in results] == ["wait"]
    (settled,) = ledger.order_steps(working.client_order_id)
    assert (settled.status, settled.message) == (StepStatus.CONFIRMED, "found applied at the broker")
    orders = broker.orders()
    assert [(o.status, o.step, o.limit_price) for o in orders] == [(OrderStatus.WORKING, 1, Decimal("-2.25"))]


def test_a_step_that_never_reached_the_broker_waits_while_it_may_be_in_flight_then_is_refused_and_superseded(
    ledger: SqlLedger, broker: PaperBroker, working: OrderIntent, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: step 1 claimed by a run that died before it asked the broker
    step = OrderStep(working.client_order_id, 1, StepKind.REPLACE, Decimal("-2.25"), STEP_TIME, "dead", "r")
    assert ledger.request_step(step)

    # Act: a tick inside the timeout, then one after it (the timeout made zero)
    inside = work_ladders(ledger, broker, strangle_chain(), STEP_TIME + timedelta(minutes=1), PARAMS, "run-2")
    monkeypatch.setattr(ladder_module, "UNANSWERED_STEP_TIMEOUT", timedelta(0))
    after = work_ladders(ledger, broker, strangle_chain(), STEP_TIME + timedelta(minutes=6), PARAMS, "run-3")

    # Assert: in flight first; then refused, never resent, and the ladder ends with the cancel (step 2)
    assert [r.move for r in inside] == ["in flight"]
    assert [r.move for r in after] == ["cancel"]
    steps = ledger.order_steps(working.client_order_id)
    assert [(s.step, s.kind, s.status) for s in steps] == [
        (1, StepKind.REPLACE, StepStatus.REFUSED),
        (2, StepKind.CANCEL, StepStatus.CONFIRMED),
    ]
    assert broker.find_order(working.client_order_id).step == 0  # type: ignore[union-attr]


def test_a_held_tick_leaves_working_orders_as_they_are_saying_why(
    ledger: SqlLedger, broker: PaperBroker, working: OrderIntent
) -> None:
    results = work_ladders(
        ledger, broker, strangle_chain(), STEP_TIME, PARAMS, "run-1", hold_reason="a past tick's rerun"
    )

    assert [(r.move, r.reason) for r in results] == [("held", "a past tick's rerun")]
    assert ledger.order_steps() == []
    assert broker.find_order(working.client_order_id).step == 0  # type: ignore[union-attr]


def test_a_step_that_fills_the_order_records_the_fill_and_the_position(
    ledger: SqlLedger, broker: PaperBroker, working: OrderIntent
) -> None:
    # Arrange: a ladder that reaches natural in one step (the market pays 2.20)
    to_natural = LadderParams(Decimal(0), Decimal(1), timedelta(minutes=5), 1, timedelta(minutes=10))

    # Act
    results = work_ladders(ledger, broker, strangle_chain(), STEP_TIME, to_natural, "run-1")

    # Assert: a taker fill at the market's 2.20, better than the new 2.10 limit
    assert [(r.move, r.status) for r in results] == [("step", OrderStatus.FILLED)]
    (fill,) = ledger.fills()
    assert (fill.net_value, fill.quantity) == (Decimal("-2.20"), 2)
    assert ledger.intent(working.client_order_id) == (working, OrderStatus.FILLED)
    assert len(ledger.positions()) == 1


def test_a_step_applied_before_the_run_died_is_confirmed_even_when_the_order_filled_at_its_limit_meanwhile(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    # Arrange: the order works at -2.40; step 1 (-2.25) is claimed and applied, then the run dies; the market
    # then rises to pay 2.30, so the broker fills the order at -2.25 and the next sync records it FILLED
    market = FixedChainMarket(strangle_chain())
    broker = PaperBroker(f"sqlite:///{tmp_path / 'book.db'}", market, MODEL)
    intent = opening_intent(limit_price="-2.40")
    submit_idempotently(intent, ledger, broker, NOW, claimant="run-0")
    step = OrderStep(intent.client_order_id, 1, StepKind.REPLACE, Decimal("-2.25"), STEP_TIME, "dead", "r")
    assert ledger.request_step(step)
    broker.replace(intent.client_order_id, Decimal("-2.25"), 1, STEP_TIME)
    market.chain[["bid", "ask"]] = market.chain[["bid", "ask"]] + 0.10
    later = STEP_TIME + timedelta(minutes=1)
    reconcile(ledger, broker, later)
    assert ledger.intent(intent.client_order_id) == (intent, OrderStatus.FILLED)

    # Act
    work_ladders(ledger, broker, strangle_chain(), later, PARAMS, "run-2")

    # Assert: the ledger's ladder history says what the broker did
    (settled,) = ledger.order_steps(intent.client_order_id)
    assert (settled.status, settled.message) == (StepStatus.CONFIRMED, "found applied at the broker")
    assert ledger.unanswered_steps() == []
    broker.dispose()
