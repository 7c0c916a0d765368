"""Reconciliation every tick: what the broker did while the ledger was not looking is recorded; what
nobody can explain is a break that blocks entries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from trading_pipeline.adapters.brokers.reconciliation import UNCLAIMED_MESSAGE, reconcile
from trading_pipeline.adapters.brokers.submission import SubmissionAction, submit_idempotently
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.instruments import contract_quantities
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline.core.reconciliation import BreakKind
from trading_pipeline_tests.adapters.brokers.stubs import CountingBroker
from trading_pipeline_tests.adapters.brokers.test_submission import NOW, filled
from trading_pipeline_tests.adapters.ledger.builders import opening_intent


def _broker_filled(intent_quantity: int = 1) -> tuple[CountingBroker, str]:
    """A broker that filled an order the ledger only knows as claimed (the claimant then died)."""
    intent = opening_intent(quantity=intent_quantity)
    broker = CountingBroker(filled)
    broker.known[intent.client_order_id] = filled(intent)
    broker.held = contract_quantities(intent.legs, intent_quantity)
    return broker, intent.client_order_id


def test_a_fill_the_ledger_missed_after_a_crash_is_recorded_at_the_next_tick(ledger: SqlLedger) -> None:
    # Arrange: claimed, sent and filled; the process died before the ledger heard of the fill
    broker, client_order_id = _broker_filled()
    ledger.record_intent(opening_intent(quantity=1))
    ledger.claim_intent(client_order_id, "dead-run")

    # Act
    report = reconcile(ledger, broker, NOW)

    # Assert
    assert report.breaks == ()
    assert not report.blocks_entries
    assert [(r.client_order_id, r.action) for r in report.synced] == [
        (client_order_id, SubmissionAction.RECONCILED)
    ]
    assert [p.position_id for p in ledger.positions()] == [client_order_id]
    assert broker.submit_calls == 0


def test_a_broker_position_the_ledger_does_not_know_is_a_break_that_blocks_entries(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled, held={"SPY   250417C00650000": -1})

    report = reconcile(ledger, broker, NOW)

    assert report.blocks_entries
    [found] = report.breaks
    assert (found.kind, found.subject) == (BreakKind.POSITION_MISMATCH, "SPY   250417C00650000")
    assert "broker holds -1 contracts" in found.detail and "the ledger +0" in found.detail
    assert ledger.breaks(found_at=NOW) == [found]


def test_a_broker_order_under_our_prefix_without_an_intent_is_a_break(ledger: SqlLedger) -> None:
    broker, client_order_id = _broker_filled()
    broker.held = {}

    report = reconcile(ledger, broker, NOW)

    assert [(b.kind, b.subject) for b in report.breaks] == [(BreakKind.UNKNOWN_ORDER, client_order_id)]


def test_someone_elses_order_is_judged_by_the_positions_it_leaves(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled)
    broker.known["manual-123"] = replace(filled(opening_intent(key="manual")), client_order_id="manual-123")

    report = reconcile(ledger, broker, NOW)

    assert report.breaks == ()


def test_a_ledger_that_matches_the_broker_has_no_breaks(ledger: SqlLedger) -> None:
    intent = opening_intent(quantity=2)
    broker = CountingBroker(filled)
    submit_idempotently(intent, ledger, broker, NOW)
    broker.held = contract_quantities(intent.legs, 2)

    report = reconcile(ledger, broker, NOW)

    assert report.breaks == ()
    assert report.synced == ()


def test_reconciling_the_same_tick_twice_records_each_break_once(ledger: SqlLedger) -> None:
    broker = CountingBroker(filled, held={"SPY   250417C00650000": 2})

    reconcile(ledger, broker, NOW)
    reconcile(ledger, broker, NOW)

    assert len(ledger.breaks()) == 1


def test_an_order_state_the_ledger_cannot_take_is_a_break_not_a_crash(ledger: SqlLedger) -> None:
    # Arrange: the ledger recorded a rejection, yet the broker reports the order filled
    broker, client_order_id = _broker_filled()
    ledger.record_intent(opening_intent(quantity=1))
    ledger.record_order_update(client_order_id, "B-x", OrderStatus.REJECTED, NOW, "timed out")

    # Act
    report = reconcile(ledger, broker, NOW)

    # Assert
    assert BreakKind.ORDER_CONFLICT in {b.kind for b in report.breaks}
    assert report.blocks_entries


def test_an_unclaimed_intent_of_an_earlier_session_is_closed_not_left_pending(ledger: SqlLedger) -> None:
    # Arrange: a tick recorded an approved intent and died before claiming it; days pass
    broker = CountingBroker(filled)
    intent = opening_intent()
    ledger.record_intent(intent)

    # Act
    report = reconcile(ledger, broker, NOW + timedelta(days=3))

    # Assert
    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.CANCELLED
    assert [r.message for r in report.synced] == [UNCLAIMED_MESSAGE]
    assert broker.submit_calls == 0


def test_an_unclaimed_intent_of_the_current_session_is_left_for_its_tick(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)

    report = reconcile(ledger, CountingBroker(filled), NOW)

    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.NEW
    assert report.synced == () and report.breaks == ()


def test_a_stale_broker_report_after_the_fill_changes_nothing(ledger: SqlLedger) -> None:
    intent = opening_intent(quantity=1)
    broker = CountingBroker(filled)
    submit_idempotently(intent, ledger, broker, NOW)

    ledger.record_order_update(intent.client_order_id, "B-1", OrderStatus.SUBMITTED, NOW, "late ack")

    stored = ledger.intent(intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.FILLED
