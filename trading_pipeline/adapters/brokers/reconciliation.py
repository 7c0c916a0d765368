"""Reconciliation every tick: unfinished intents, the broker's orders and its positions against the ledger.

Runs before any new entry is judged. What it can explain (an order sent before a crash, a fill the
ledger missed) it records; what it cannot is a break: recorded in the ledger, and entries stay blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trading_pipeline.adapters.brokers.base import Broker
from trading_pipeline.adapters.brokers.submission import (
    SubmissionAction,
    SubmissionResult,
    record_broker_order,
    sync_with_broker,
)
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.orders import CLIENT_ORDER_ID_PREFIX, InvalidTransitionError
from trading_pipeline.core.positions import FillMismatchError
from trading_pipeline.core.reconciliation import (
    BreakKind,
    ReconciliationBreak,
    ledger_contracts,
    position_breaks,
)


@dataclass(frozen=True)
class ReconciliationReport:
    """What one reconciliation brought up to date, and what it could not explain."""

    checked_at: datetime
    synced: tuple[SubmissionResult, ...]
    breaks: tuple[ReconciliationBreak, ...]

    @property
    def blocks_entries(self) -> bool:
        return bool(self.breaks)

    @property
    def pending(self) -> tuple[SubmissionResult, ...]:
        """Intents claimed by a run that has not heard back from the broker yet."""
        return tuple(r for r in self.synced if r.action is SubmissionAction.IN_FLIGHT)


def reconcile(ledger: Ledger, broker: Broker, now: datetime) -> ReconciliationReport:
    """Compare the broker with the ledger, record what is explained, and record every break at `now`."""
    synced: list[SubmissionResult] = []
    breaks: list[ReconciliationBreak] = []
    for intent, status in ledger.intents(unfinished_only=True):
        try:
            synced.append(sync_with_broker(intent, status, ledger, broker, now))
        except (InvalidTransitionError, FillMismatchError) as exc:
            breaks.append(ReconciliationBreak(BreakKind.ORDER_CONFLICT, intent.client_order_id, str(exc)))
    recorded = {intent.client_order_id: status for intent, status in ledger.intents()}
    fill_ids = {fill.fill_id for fill in ledger.fills()}
    for order in broker.orders():
        if not order.client_order_id.startswith(CLIENT_ORDER_ID_PREFIX):
            continue  # someone else's order: its contracts surface in the position comparison
        if order.client_order_id not in recorded:
            breaks.append(
                ReconciliationBreak(
                    BreakKind.UNKNOWN_ORDER,
                    order.client_order_id,
                    f"broker order {order.broker_order_id} ({order.status.value}): no intent in the ledger",
                )
            )
            continue
        missing = [fill for fill in order.fills if fill.fill_id not in fill_ids]
        if missing or (order.status is not recorded[order.client_order_id] and order.status.is_terminal):
            try:
                record_broker_order(ledger, order, now)
                synced.append(
                    SubmissionResult(order.client_order_id, order.status, SubmissionAction.RECONCILED)
                )
            except (InvalidTransitionError, FillMismatchError) as exc:
                breaks.append(ReconciliationBreak(BreakKind.ORDER_CONFLICT, order.client_order_id, str(exc)))
    for result in synced:
        if result.action is SubmissionAction.ABANDONED:
            breaks.append(
                ReconciliationBreak(BreakKind.UNCONFIRMED_CLAIM, result.client_order_id, result.message)
            )
    held = {p.occ_symbol: p.quantity for p in broker.positions()}
    breaks += position_breaks(ledger_contracts(ledger.positions(open_only=True)), held)
    ledger.record_breaks(now, breaks)
    return ReconciliationReport(now, tuple(synced), tuple(breaks))
