"""Invariant 1: reruns and concurrent writers record each decision, intent and fill exactly once."""

from __future__ import annotations

from decimal import Decimal

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline_tests.adapters.ledger.builders import entry_decision, fill_of, opening_intent
from trading_pipeline_tests.concurrency import race


def test_record_intent_called_three_times_records_one_intent(ledger: SqlLedger) -> None:
    intent = opening_intent()

    results = [ledger.record_intent(intent) for _ in range(3)]

    assert results == [(OrderStatus.NEW, True), (OrderStatus.NEW, False), (OrderStatus.NEW, False)]
    assert ledger.intents() == [(intent, OrderStatus.NEW)]
    assert len(ledger.snapshot()["order_intents"]) == 1


def test_record_intent_again_returns_current_status_and_changes_nothing(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_order_update(intent.client_order_id, "B-1", OrderStatus.SUBMITTED, intent.decision_time)
    before = ledger.snapshot()["order_intents"]

    status, created = ledger.record_intent(opening_intent(limit_price="-9.99"))

    assert (status, created) == (OrderStatus.SUBMITTED, False)
    assert ledger.snapshot()["order_intents"].equals(before)


def test_record_decision_twice_records_one_decision(ledger: SqlLedger) -> None:
    decision = entry_decision()

    first, second = ledger.record_decision(decision), ledger.record_decision(entry_decision(approved=False))

    decisions = ledger.snapshot()["decisions"]
    assert (first, second) == (True, False)
    assert len(decisions) == 1
    assert bool(decisions.loc[0, "approved"]) is True
    assert decisions.loc[0, "details"] == '{"credit": "2.40", "iv_rank": "62.5"}'


def test_repeated_fill_is_stored_once_and_leaves_position_unchanged(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    fill = fill_of(intent, "F-1", quantity=2, net_value="-2.40")
    ledger.record_fill(fill)
    position_before = ledger.positions()

    repeated = ledger.record_fill(fill)

    snapshot = ledger.snapshot()
    assert repeated is False
    assert ledger.positions() == position_before
    assert position_before[0].quantity == 2
    assert position_before[0].fees == Decimal("2.60")
    assert len(snapshot["fills"]) == 1
    assert snapshot["orders"]["filled_quantity"].tolist() == [2]


def test_concurrent_record_intent_of_one_id_yields_one_row(ledger: SqlLedger, ledger_url: str) -> None:
    intent = opening_intent()

    results = race(ledger_url, [lambda writer: writer.record_intent(intent)] * 6)

    assert sorted(created for _, created in results) == [False] * 5 + [True]
    assert {status for status, _ in results} == {OrderStatus.NEW}
    assert len(ledger.snapshot()["order_intents"]) == 1


def test_concurrent_record_fill_of_one_fill_applies_it_once(ledger: SqlLedger, ledger_url: str) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    fill = fill_of(intent, "F-1", quantity=1, net_value="-2.40")

    results = race(ledger_url, [lambda writer: writer.record_fill(fill)] * 4)

    assert sorted(results) == [False, False, False, True]
    assert [position.quantity for position in ledger.positions()] == [1]
    assert ledger.snapshot()["orders"]["filled_quantity"].tolist() == [1]
