"""Reconciliation every tick: unfinished intents, the broker's orders and its positions against the ledger.

Runs before any new entry is judged. What it can explain (an order sent before a crash, a fill the
ledger missed) it records; what it cannot is a break: recorded in the ledger, and entries stay blocked.
The broker is read before the ledger, so an order another run claims and sends meanwhile already has
its intent recorded; contracts of orders still on their way are pending, not breaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trading_pipeline.adapters.brokers.base import Broker, BrokerOrder
from trading_pipeline.adapters.brokers.submission import (
    SubmissionAction,
    SubmissionResult,
    record_broker_order,
    sync_with_broker,
)
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.calendar import ET
from trading_pipeline.core.orders import CLIENT_ORDER_ID_PREFIX, InvalidTransitionError, OrderStatus
from trading_pipeline.core.positions import FillMismatchError
from trading_pipeline.core.reconciliation import (
    BreakKind,
    ReconciliationBreak,
    ledger_contracts,
    position_breaks,
)

#: Why a NEW intent of an earlier session is closed by reconciliation (its tick ended without claiming it).
UNCLAIMED_MESSAGE = "never claimed: its tick ended without sending it"


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
    """Order sync, then comparison: the broker's world reaches `now` (resting orders meet the market, day
    orders expire), its orders and positions are compared with the ledger, what is explained is recorded,
    and every break is recorded at `now`."""
    broker.advance(now)
    broker_orders = broker.orders()
    synced, breaks = _sync_unfinished(ledger, broker, now)
    more_synced, order_breaks = _sync_broker_orders(ledger, broker_orders, now)
    synced += more_synced
    breaks += order_breaks
    breaks += [
        ReconciliationBreak(BreakKind.UNCONFIRMED_CLAIM, r.client_order_id, r.message)
        for r in synced
        if r.action is SubmissionAction.ABANDONED
    ]
    breaks += _position_breaks(ledger, broker)
    ledger.record_breaks(now, breaks)
    return ReconciliationReport(now, tuple(synced), tuple(breaks))


def _sync_unfinished(
    ledger: Ledger, broker: Broker, now: datetime
) -> tuple[list[SubmissionResult], list[ReconciliationBreak]]:
    """Bring every unfinished intent up to date; close NEW intents whose session is over."""
    synced: list[SubmissionResult] = []
    breaks: list[ReconciliationBreak] = []
    today = now.astimezone(ET).date()
    for intent, status in ledger.intents(unfinished_only=True):
        try:
            result = sync_with_broker(intent, status, ledger, broker, now)
            if status is OrderStatus.NEW and result.action is SubmissionAction.IN_FLIGHT:
                if intent.session >= today:
                    continue  # recorded by a tick of this session that may still claim it
                if not ledger.cancel_unclaimed(intent.client_order_id, now, UNCLAIMED_MESSAGE):
                    continue  # claimed by a rerun of its session meanwhile: the next tick syncs it
                result = SubmissionResult(
                    intent.client_order_id,
                    OrderStatus.CANCELLED,
                    SubmissionAction.RECONCILED,
                    UNCLAIMED_MESSAGE,
                )
            synced.append(result)
        except (InvalidTransitionError, FillMismatchError) as exc:
            breaks.append(ReconciliationBreak(BreakKind.ORDER_CONFLICT, intent.client_order_id, str(exc)))
    return synced, breaks


def _sync_broker_orders(
    ledger: Ledger, broker_orders: list[BrokerOrder], now: datetime
) -> tuple[list[SubmissionResult], list[ReconciliationBreak]]:
    """Record broker fills and final states the ledger lacks; a broker order under our prefix without
    an intent is a break (the broker was read first, so every intent of its orders is recorded)."""
    synced: list[SubmissionResult] = []
    breaks: list[ReconciliationBreak] = []
    recorded = {intent.client_order_id: status for intent, status in ledger.intents()}
    fill_ids = {fill.fill_id for fill in ledger.fills()}
    for order in broker_orders:
        if not order.client_order_id.startswith(CLIENT_ORDER_ID_PREFIX):
            continue  # someone else's order: its contracts surface in the position comparison
        status = recorded.get(order.client_order_id)
        if status is None:
            detail = f"broker order {order.broker_order_id} ({order.status.value}): no intent in the ledger"
            breaks.append(ReconciliationBreak(BreakKind.UNKNOWN_ORDER, order.client_order_id, detail))
            continue
        missing = [fill for fill in order.fills if fill.fill_id not in fill_ids]
        if missing or (order.status is not status and order.status.is_terminal):
            try:
                record_broker_order(ledger, order, now)
                synced.append(
                    SubmissionResult(order.client_order_id, order.status, SubmissionAction.RECONCILED)
                )
            except (InvalidTransitionError, FillMismatchError) as exc:
                breaks.append(ReconciliationBreak(BreakKind.ORDER_CONFLICT, order.client_order_id, str(exc)))
    return synced, breaks


def _position_breaks(ledger: Ledger, broker: Broker) -> list[ReconciliationBreak]:
    """Contracts held differently by the broker and the ledger, twice in a row and not explained by an
    order still on its way (a fill can land between reading the broker and reading the ledger)."""
    moving = {
        leg.contract.occ_symbol
        for intent, status in ledger.intents(unfinished_only=True)
        if status.on_its_way
        for leg in intent.legs
    }
    found = None
    for _attempt in range(2):
        held = {p.occ_symbol: p.quantity for p in broker.positions()}
        breaks = [
            b
            for b in position_breaks(ledger_contracts(ledger.positions(open_only=True)), held)
            if b.subject not in moving
        ]
        found = breaks if found is None else [b for b in breaks if b.subject in {f.subject for f in found}]
        if not found:
            return []
    return found
