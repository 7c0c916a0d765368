"""Idempotent order submission: record the intent, reconcile with the broker, then (maybe) send.

Invariant 1: the intent is stored under its deterministic client order id before the broker is
called; an intent the broker already knows (a crash after sending) is reconciled, never re-sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trading_pipeline.adapters.brokers.base import Broker, BrokerOrder
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.orders import OrderIntent, OrderStatus


@dataclass(frozen=True)
class SubmissionResult:
    """What happened to one intent in this run."""

    client_order_id: str
    status: OrderStatus
    action: str  # "sent", "reconciled" or "already recorded"
    message: str = ""


def _record(ledger: Ledger, order: BrokerOrder, now: datetime) -> None:
    for fill in order.fills:
        ledger.record_fill(fill)
    ledger.record_order_update(order.client_order_id, order.broker_order_id, order.status, now, order.message)


def submit_idempotently(
    intent: OrderIntent, ledger: Ledger, broker: Broker, now: datetime
) -> SubmissionResult:
    """Send `intent` at most once across reruns and crashes, recording every outcome in the ledger."""
    status, _created = ledger.record_intent(intent)
    if status is not OrderStatus.NEW:
        return SubmissionResult(intent.client_order_id, status, "already recorded")
    known = broker.find_order(intent.client_order_id)
    if known is not None:
        _record(ledger, known, now)
        return SubmissionResult(intent.client_order_id, known.status, "reconciled", known.message)
    order = broker.submit(intent, now)
    _record(ledger, order, now)
    return SubmissionResult(intent.client_order_id, order.status, "sent", order.message)
