"""Idempotent order submission: record the intent, claim it atomically, and only then call the broker.

Invariant 1: the intent is stored under its deterministic client order id before the broker is
called, and one conditional UPDATE (NEW -> SUBMITTING) decides which process may send it. Every other
process, rerun or crashed-and-restarted tick only reconciles: it records what the broker knows and
never sends. The broker always receives the intent exactly as recorded.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from trading_pipeline.adapters.brokers.base import Broker, BrokerOrder
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.orders import OrderIntent, OrderStatus, ensure_same_payload

#: A claimed intent the broker still does not know after this long was never sent: it is abandoned.
UNCONFIRMED_CLAIM_TIMEOUT = timedelta(minutes=2)


class SubmissionAction(StrEnum):
    """What this run did about one intent."""

    SENT = "sent"  # this run won the claim and called the broker
    RECONCILED = "reconciled"  # the broker already had it; its state was recorded
    ALREADY_RECORDED = "already recorded"  # final in the ledger already
    IN_FLIGHT = "in flight"  # claimed by another run that has not heard back from the broker yet
    ABANDONED = "abandoned"  # claimed long ago, never reached the broker; recorded as rejected, not sent
    HELD = "held"  # not sent by policy (e.g. a past session rerun outside sim/replay)


@dataclass(frozen=True)
class SubmissionResult:
    """What happened to one intent in this run."""

    client_order_id: str
    status: OrderStatus
    action: SubmissionAction
    message: str = ""


def default_claimant() -> str:
    """Who is claiming: host and process, so a stuck claim names its owner."""
    return f"{socket.gethostname()}:{os.getpid()}"


def record_broker_order(ledger: Ledger, order: BrokerOrder, now: datetime) -> None:
    """Record the broker's view of an order: its fills (once each), then its status."""
    for fill in order.fills:
        ledger.record_fill(fill)
    ledger.record_order_update(order.client_order_id, order.broker_order_id, order.status, now, order.message)


def sync_with_broker(
    intent: OrderIntent, status: OrderStatus, ledger: Ledger, broker: Broker, now: datetime
) -> SubmissionResult:
    """Bring a recorded, unfinished intent up to date with the broker; never sends anything."""
    known = broker.find_order(intent.client_order_id)
    if known is not None:
        record_broker_order(ledger, known, now)
        return SubmissionResult(
            intent.client_order_id, known.status, SubmissionAction.RECONCILED, known.message
        )
    claimed_at = ledger.claimed_at(intent.client_order_id)
    if status is OrderStatus.SUBMITTING and claimed_at is not None:
        age = datetime.now(UTC) - claimed_at
        if age > UNCONFIRMED_CLAIM_TIMEOUT:
            message = (
                f"claimed {age.total_seconds():.0f} s ago, the broker never received it; "
                "recorded as rejected and not re-sent"
            )
            ledger.record_order_update(intent.client_order_id, "", OrderStatus.REJECTED, now, message)
            return SubmissionResult(
                intent.client_order_id, OrderStatus.REJECTED, SubmissionAction.ABANDONED, message
            )
    return SubmissionResult(intent.client_order_id, status, SubmissionAction.IN_FLIGHT)


def submit_idempotently(
    intent: OrderIntent,
    ledger: Ledger,
    broker: Broker,
    now: datetime,
    claimant: str | None = None,
    hold_reason: str | None = None,
) -> SubmissionResult:
    """Send `intent` at most once across reruns, concurrent runs and crashes, recording every outcome.

    `hold_reason` records the intent but keeps it from the broker (and says why).
    """
    ledger.record_intent(intent)
    stored = ledger.intent(intent.client_order_id)
    if stored is None:  # a ledger that lost a row it just acknowledged is not one to trade on
        raise RuntimeError(f"intent {intent.client_order_id} vanished right after it was recorded")
    recorded, status = stored
    ensure_same_payload(recorded, intent)
    if status.is_terminal:
        return SubmissionResult(intent.client_order_id, status, SubmissionAction.ALREADY_RECORDED)
    if status is not OrderStatus.NEW:
        return sync_with_broker(recorded, status, ledger, broker, now)
    if hold_reason is not None:
        return SubmissionResult(intent.client_order_id, status, SubmissionAction.HELD, hold_reason)
    if not ledger.claim_intent(intent.client_order_id, claimant or default_claimant()):
        return sync_with_broker(recorded, OrderStatus.SUBMITTING, ledger, broker, now)
    known = broker.find_order(intent.client_order_id)  # sent by a version that did not claim first
    if known is not None:
        record_broker_order(ledger, known, now)
        return SubmissionResult(
            intent.client_order_id, known.status, SubmissionAction.RECONCILED, known.message
        )
    order = broker.submit(recorded, now)
    record_broker_order(ledger, order, now)
    return SubmissionResult(intent.client_order_id, order.status, SubmissionAction.SENT, order.message)
