"""Idempotent submission: record the intent first, never send twice, reconcile after a crash."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trading_pipeline.adapters.brokers.base import BrokerOrder
from trading_pipeline.adapters.brokers.submission import SubmissionResult, submit_idempotently
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import Fill
from trading_pipeline_tests.adapters.brokers.stubs import CountingBroker
from trading_pipeline_tests.adapters.ledger.builders import FILL_TIME, opening_intent

NOW = FILL_TIME


def filled(intent: OrderIntent) -> BrokerOrder:
    """The broker's answer to a marketable order: filled in full at a 2.30 credit."""
    broker_order_id = f"B-{intent.client_order_id}"
    fill = Fill(
        fill_id=f"{broker_order_id}-1",
        client_order_id=intent.client_order_id,
        broker_order_id=broker_order_id,
        filled_at=NOW,
        quantity=intent.quantity,
        net_value=Decimal("-2.30"),
        leg_prices=(Decimal("1.20"), Decimal("1.10")),
        commission=Decimal("0.65") * 2 * intent.quantity,
    )
    return BrokerOrder(broker_order_id, intent.client_order_id, OrderStatus.FILLED, (fill,))


def rejected(intent: OrderIntent) -> BrokerOrder:
    return BrokerOrder(
        f"B-{intent.client_order_id}", intent.client_order_id, OrderStatus.REJECTED, message="market closed"
    )


@pytest.fixture
def ledger(sqlite_url: str) -> Iterator[SqlLedger]:
    opened = SqlLedger.open(sqlite_url)
    yield opened
    opened.dispose()


def test_first_submission_records_the_intent_and_sends_it(ledger: SqlLedger) -> None:
    # Arrange
    broker = CountingBroker(filled)
    intent = opening_intent(quantity=2)

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result == SubmissionResult(intent.client_order_id, OrderStatus.FILLED, "sent")
    assert broker.submit_calls == 1
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.FILLED
    [position] = ledger.positions()
    assert position.position_id == intent.client_order_id
    assert position.quantity == 2
    assert position.entry_value == Decimal("-2.30")


def test_second_submission_is_already_recorded_and_never_reaches_the_broker(ledger: SqlLedger) -> None:
    # Arrange
    broker = CountingBroker(filled)
    intent = opening_intent(quantity=2)
    submit_idempotently(intent, ledger, broker, NOW)
    finds_before = broker.find_calls

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result == SubmissionResult(intent.client_order_id, OrderStatus.FILLED, "already recorded")
    assert broker.submit_calls == 1
    assert broker.find_calls == finds_before
    assert len(ledger.snapshot()["fills"]) == 1
    assert len(ledger.positions()) == 1


def test_intent_left_new_that_the_broker_knows_is_reconciled_not_resent(ledger: SqlLedger) -> None:
    # Arrange: a previous run recorded the intent, the broker filled it, then the process crashed.
    broker = CountingBroker(filled)
    intent = opening_intent(quantity=2)
    ledger.record_intent(intent)
    broker.known[intent.client_order_id] = filled(intent)

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result == SubmissionResult(intent.client_order_id, OrderStatus.FILLED, "reconciled")
    assert broker.submit_calls == 0
    fills = ledger.snapshot()["fills"]
    assert fills["fill_id"].tolist() == [f"B-{intent.client_order_id}-1"]
    [position] = ledger.positions()
    assert position.quantity == 2
    assert position.fees == Decimal("2.60")


def test_reconciled_intent_is_already_recorded_on_the_next_run(ledger: SqlLedger) -> None:
    # Arrange
    broker = CountingBroker(filled)
    intent = opening_intent(quantity=2)
    ledger.record_intent(intent)
    broker.known[intent.client_order_id] = filled(intent)
    submit_idempotently(intent, ledger, broker, NOW)

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result.action == "already recorded"
    assert broker.submit_calls == 0
    assert len(ledger.snapshot()["fills"]) == 1
    assert ledger.positions()[0].quantity == 2


def test_intent_left_new_that_the_broker_never_saw_is_sent(ledger: SqlLedger) -> None:
    # Arrange: a previous run crashed after recording the intent but before calling the broker.
    broker = CountingBroker(filled)
    intent = opening_intent(quantity=1)
    ledger.record_intent(intent)

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result.action == "sent"
    assert broker.submit_calls == 1
    assert len(ledger.positions()) == 1


def test_broker_rejection_is_recorded_with_its_message_and_opens_nothing(ledger: SqlLedger) -> None:
    # Arrange
    broker = CountingBroker(rejected)
    intent = opening_intent()

    # Act
    result = submit_idempotently(intent, ledger, broker, NOW)

    # Assert
    assert result == SubmissionResult(intent.client_order_id, OrderStatus.REJECTED, "sent", "market closed")
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.REJECTED
    assert ledger.positions() == []
    assert ledger.snapshot()["orders"]["message"].tolist() == ["market closed"]


def test_a_rejected_intent_is_not_resent_on_the_next_run(ledger: SqlLedger) -> None:
    # Arrange
    broker = CountingBroker(rejected)
    intent = opening_intent()
    submit_idempotently(intent, ledger, broker, NOW)

    # Act
    result = submit_idempotently(intent, ledger, broker, datetime(2025, 3, 17, 14, 30, tzinfo=UTC))

    # Assert
    assert result.action == "already recorded"
    assert result.status is OrderStatus.REJECTED
    assert broker.submit_calls == 1
