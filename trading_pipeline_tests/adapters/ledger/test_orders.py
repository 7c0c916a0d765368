"""Order updates follow the core state machine, keep the intent status current and append events."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from trading_pipeline.adapters.ledger.repository import SqlLedger, UnknownOrderError
from trading_pipeline.core.ladder import OrderStep, StepKind, StepStatus
from trading_pipeline.core.orders import InvalidTransitionError, OrderStatus
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, opening_intent


def test_order_updates_move_intent_status_and_append_one_event_per_change(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    at = DECISION_TIME + timedelta(seconds=5)

    ledger.record_order_update(intent.client_order_id, "B-7", OrderStatus.SUBMITTED, at, "accepted")
    ledger.record_order_update(intent.client_order_id, "B-7", OrderStatus.FILLED, at, "done")
    ledger.record_order_update(intent.client_order_id, "B-7", OrderStatus.FILLED, at, "done")

    snapshot = ledger.snapshot()
    events = snapshot["order_events"]
    assert ledger.intent(intent.client_order_id) == (intent, OrderStatus.FILLED)
    assert snapshot["orders"][["broker_order_id", "status", "message"]].values.tolist() == [
        ["B-7", "FILLED", "done"]
    ]
    assert events[["previous_status", "status", "message"]].values.tolist() == [
        ["NEW", "SUBMITTED", "accepted"],
        ["SUBMITTED", "FILLED", "done"],
    ]
    assert events["at"].tolist() == [at, at]


def test_invalid_status_transition_raises_naming_the_order_and_records_nothing(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_order_update(intent.client_order_id, "B-7", OrderStatus.FILLED, DECISION_TIME)
    before = ledger.snapshot()

    with pytest.raises(InvalidTransitionError, match=f"order {intent.client_order_id}.*FILLED to CANCELLED"):
        ledger.record_order_update(intent.client_order_id, "B-7", OrderStatus.CANCELLED, DECISION_TIME)

    after = ledger.snapshot()
    for table in ("order_intents", "orders", "order_events"):
        assert after[table].equals(before[table]), table


def test_update_of_unrecorded_order_raises_unknown_order(ledger: SqlLedger) -> None:
    with pytest.raises(UnknownOrderError, match="tp-missing"):
        ledger.record_order_update("tp-missing", "B-1", OrderStatus.SUBMITTED, DECISION_TIME)


def test_intents_of_a_session_are_rebuilt_exactly_in_creation_order(ledger: SqlLedger) -> None:
    first, second = opening_intent(key="a"), opening_intent(key="b", quantity=3, limit_price="-1.05")
    ledger.record_intent(first)
    ledger.record_intent(second)

    stored = ledger.intents(first.session)

    assert stored == [(first, OrderStatus.NEW), (second, OrderStatus.NEW)]
    assert ledger.intents(first.session + timedelta(days=1)) == []
    assert ledger.intent("tp-missing") is None


def _step(intent_id: str, number: int, limit: str | None = "-2.30", by: str = "run-a") -> OrderStep:
    kind = StepKind.REPLACE if limit is not None else StepKind.CANCEL
    at = DECISION_TIME + timedelta(minutes=5 * number)
    return OrderStep(intent_id, number, kind, None if limit is None else Decimal(limit), at, by, "ladder")


def test_a_ladder_step_is_claimed_once_and_answered_once(ledger: SqlLedger) -> None:
    # Arrange
    intent = opening_intent()
    ledger.record_intent(intent)
    answered_at = DECISION_TIME + timedelta(minutes=6)

    # Act: two runs claim step 1; the winner's answer is recorded, a second answer is refused
    won = ledger.request_step(_step(intent.client_order_id, 1, by="run-a"))
    lost = ledger.request_step(_step(intent.client_order_id, 1, "-2.25", by="run-b"))
    first = ledger.answer_step(intent.client_order_id, 1, StepStatus.CONFIRMED, answered_at, "limit -2.30")
    second = ledger.answer_step(intent.client_order_id, 1, StepStatus.REFUSED, answered_at, "late")

    # Assert
    assert (won, lost, first, second) == (True, False, True, False)
    (step,) = ledger.order_steps(intent.client_order_id)
    assert (step.requested_by, step.limit_price, step.status) == (
        "run-a",
        Decimal("-2.30"),
        StepStatus.CONFIRMED,
    )
    assert (step.answered_at, step.message) == (answered_at, "limit -2.30")


def test_ladder_steps_come_back_in_step_order_with_the_final_cancel(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    for number, limit in ((2, "-2.25"), (1, "-2.30"), (3, None)):
        ledger.request_step(_step(intent.client_order_id, number, limit))

    steps = ledger.order_steps(intent.client_order_id)
    assert [(s.step, s.kind, s.limit_price) for s in steps] == [
        (1, StepKind.REPLACE, Decimal("-2.30")),
        (2, StepKind.REPLACE, Decimal("-2.25")),
        (3, StepKind.CANCEL, None),
    ]


def test_a_step_of_an_order_the_ledger_never_recorded_is_refused(ledger: SqlLedger) -> None:
    with pytest.raises(UnknownOrderError):
        ledger.request_step(_step("tp-unknown", 1))
    assert ledger.order_steps() == []
