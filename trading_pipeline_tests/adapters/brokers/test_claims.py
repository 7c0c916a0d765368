"""The atomic claim: of any number of concurrent runs only one calls the broker, and only with the
intent exactly as recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading_pipeline.adapters.brokers import submission
from trading_pipeline.adapters.brokers.base import BrokerError, BrokerOrder, BrokerRejectedError
from trading_pipeline.adapters.brokers.submission import (
    SubmissionAction,
    SubmissionFailedError,
    SubmissionResult,
    submit_each,
    submit_idempotently,
)
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.orders import IntentMismatchError, OrderIntent, OrderStatus
from trading_pipeline_tests.adapters.brokers.stubs import CountingBroker
from trading_pipeline_tests.adapters.brokers.test_submission import NOW, filled
from trading_pipeline_tests.adapters.ledger.builders import opening_intent
from trading_pipeline_tests.concurrency import race

RUNS = 6


def _submit_from_concurrent_runs(url: str, broker: CountingBroker, runs: int) -> list[SubmissionResult]:
    """`runs` runs, each with its own ledger connections, submit the same intent at one instant."""
    intent = opening_intent(quantity=1)
    return race(
        url,
        [
            lambda ledger, index=index: submit_idempotently(
                intent, ledger, broker, NOW, claimant=f"run-{index}"
            )
            for index in range(runs)
        ],
    )


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_runs_of_one_intent_call_the_broker_exactly_once(
    ledger: SqlLedger, ledger_url: str, trial: int
) -> None:
    # Arrange: a slow broker widens the window between the claim and the answer
    broker = CountingBroker(filled, latency=0.05)

    # Act
    results = _submit_from_concurrent_runs(ledger_url, broker, RUNS)

    # Assert
    assert broker.submit_calls == 1
    actions = sorted(r.action for r in results)
    assert actions.count(SubmissionAction.SENT) == 1
    assert set(actions) <= {
        SubmissionAction.SENT,
        SubmissionAction.RECONCILED,
        SubmissionAction.IN_FLIGHT,
        SubmissionAction.ALREADY_RECORDED,
    }
    [(_intent, status)] = ledger.intents()
    assert status is OrderStatus.FILLED
    assert len(ledger.snapshot()["fills"]) == 1
    assert [p.quantity for p in ledger.positions()] == [1]


def test_claim_moves_new_to_submitting_for_exactly_one_claimant(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    first = ledger.claim_intent(intent.client_order_id, "run-a")
    second = ledger.claim_intent(intent.client_order_id, "run-b")

    assert (first, second) == (True, False)
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.SUBMITTING
    events = ledger.snapshot()["order_events"]
    assert events[["previous_status", "status"]].values.tolist() == [["NEW", "SUBMITTING"]]
    assert "run-a" in events["message"].iloc[0]


def test_loser_of_the_claim_reconciles_and_never_sends(ledger: SqlLedger) -> None:
    # Arrange: another run claimed the intent and the broker already filled it
    broker = CountingBroker(filled)
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.claim_intent(intent.client_order_id, "other-run")
    broker.known[intent.client_order_id] = filled(intent)

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result.action is SubmissionAction.RECONCILED
    assert broker.submit_calls == 0
    assert len(ledger.positions()) == 1


def test_claimed_intent_the_broker_has_not_seen_yet_is_in_flight_and_not_sent(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled)
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.claim_intent(intent.client_order_id, "other-run")

    result = submit_idempotently(intent, ledger, broker, NOW)

    assert (result.action, result.status) == (SubmissionAction.IN_FLIGHT, OrderStatus.SUBMITTING)
    assert broker.submit_calls == 0


def test_claim_the_broker_never_received_is_abandoned_after_the_timeout_and_not_resent(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: the claimant died between the claim and the broker call
    monkeypatch.setattr(submission, "UNCONFIRMED_CLAIM_TIMEOUT", submission.timedelta(0))
    broker = CountingBroker(filled)
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.claim_intent(intent.client_order_id, "dead-run")

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert (result.action, result.status) == (SubmissionAction.ABANDONED, OrderStatus.ABANDONED)
    assert "still unknown to the broker" in result.message
    assert broker.submit_calls == 0


def test_an_abandoned_claim_the_broker_reports_late_is_recorded_not_a_conflict(
    ledger: SqlLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: abandoned while the claimant's broker call was still slowly under way
    monkeypatch.setattr(submission, "UNCONFIRMED_CLAIM_TIMEOUT", submission.timedelta(0))
    broker = CountingBroker(filled)
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.claim_intent(intent.client_order_id, "slow-run")
    submit_idempotently(intent, ledger, broker, NOW)
    broker.known[intent.client_order_id] = filled(intent)

    # Act
    result = submission.sync_with_broker(intent, OrderStatus.ABANDONED, ledger, broker, NOW)

    # Assert
    assert (result.action, result.status) == (SubmissionAction.RECONCILED, OrderStatus.FILLED)
    assert [p.position_id for p in ledger.positions()] == [intent.client_order_id]
    assert broker.submit_calls == 0


def test_intent_with_a_different_payload_under_a_recorded_id_is_refused_loudly(ledger: SqlLedger) -> None:
    # Arrange: one lot recorded (and not yet sent); a rerun with changed configuration proposes two
    broker = CountingBroker(filled)
    ledger.record_intent(opening_intent(quantity=1))

    # Act / Assert
    with pytest.raises(IntentMismatchError, match=r"quantity: recorded 1, proposed 2"):
        submit_idempotently(opening_intent(quantity=2), ledger, broker, NOW)
    assert broker.submit_calls == 0
    stored = ledger.intent(opening_intent(quantity=1).client_order_id)
    assert stored is not None and (stored[0].quantity, stored[1]) == (1, OrderStatus.NEW)


def test_a_changed_limit_price_under_a_recorded_id_is_refused(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled)
    ledger.record_intent(opening_intent(limit_price="-2.40"))

    with pytest.raises(IntentMismatchError, match="limit_price"):
        submit_idempotently(opening_intent(limit_price="-2.10"), ledger, broker, NOW)
    assert broker.received == []


def test_broker_receives_the_intent_exactly_as_recorded(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled)
    intent = opening_intent(quantity=2, limit_price="-2.40")

    submit_idempotently(intent, ledger, broker, NOW)

    [sent] = broker.received
    recorded = ledger.intent(intent.client_order_id)
    assert recorded is not None and sent == recorded[0]
    assert sent.limit_price == Decimal("-2.40")


def test_held_intent_is_recorded_but_never_sent(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled)
    intent = opening_intent()

    result = submit_idempotently(intent, ledger, broker, NOW, hold_reason="not sent: past tick")

    assert (result.action, result.status, result.message) == (
        SubmissionAction.HELD,
        OrderStatus.CANCELLED,
        "not sent: past tick",
    )
    assert broker.submit_calls == 0
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.CANCELLED


def test_a_definite_broker_refusal_leaves_the_intent_rejected_not_claimed(ledger: SqlLedger) -> None:
    def refuse(intent: OrderIntent) -> BrokerOrder:
        raise BrokerRejectedError(f"no quote for {intent.legs[0].contract.occ_symbol}")

    broker = CountingBroker(refuse)
    intent = opening_intent()

    result = submit_idempotently(intent, ledger, broker, NOW)

    assert (result.action, result.status) == (SubmissionAction.SENT, OrderStatus.REJECTED)
    assert "no quote for SPY" in result.message
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.REJECTED


def test_an_unknown_broker_failure_leaves_the_claim_for_reconciliation(ledger: SqlLedger) -> None:
    def time_out(intent: OrderIntent) -> BrokerOrder:
        raise BrokerError("read timed out")

    intent = opening_intent()

    with pytest.raises(BrokerError, match="timed out"):
        submit_idempotently(intent, ledger, CountingBroker(time_out), NOW)

    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.SUBMITTING


def test_submit_each_sends_the_rest_when_one_order_fails_then_raises_naming_it() -> None:
    sent: list[str] = []

    def submit(intent: OrderIntent) -> SubmissionResult:
        if intent.quantity == 2:
            raise BrokerError("broker down for this one")
        sent.append(intent.client_order_id)
        return SubmissionResult(intent.client_order_id, OrderStatus.FILLED, SubmissionAction.SENT)

    intents = [opening_intent(quantity=2, key="a"), opening_intent(quantity=1, key="b")]

    with pytest.raises(SubmissionFailedError, match=r"1 of 2 orders failed: tp-\w+: broker down") as failed:
        submit_each(intents, submit)

    assert sent == [intents[1].client_order_id]
    assert [r.client_order_id for r in failed.value.results] == sent


def test_cancelling_an_unclaimed_intent_closes_it_and_a_claim_then_fails(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    cancelled = ledger.cancel_unclaimed(intent.client_order_id, NOW, "superseded")

    assert cancelled
    assert not ledger.claim_intent(intent.client_order_id, "late-run")
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.CANCELLED
    assert ledger.snapshot()["orders"]["message"].tolist() == ["superseded"]


def test_a_claimed_intent_cannot_be_cancelled_as_unclaimed(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.claim_intent(intent.client_order_id, "run-a")

    assert not ledger.cancel_unclaimed(intent.client_order_id, NOW, "superseded")
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.SUBMITTING


@pytest.mark.parametrize("trial", range(3))
def test_a_claim_and_a_cancel_at_one_instant_never_both_succeed(
    ledger: SqlLedger, ledger_url: str, trial: int
) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    outcomes = race(
        ledger_url,
        [
            lambda other: ("claim", other.claim_intent(intent.client_order_id, "run-a")),
            lambda other: ("cancel", other.cancel_unclaimed(intent.client_order_id, NOW, "superseded")),
        ],
    )

    assert sorted(won for _, won in outcomes) == [False, True]
    stored = ledger.intent(intent.client_order_id)
    winner = next(kind for kind, won in outcomes if won)
    assert stored is not None
    assert stored[1] is (OrderStatus.SUBMITTING if winner == "claim" else OrderStatus.CANCELLED)
