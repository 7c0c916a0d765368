"""Idempotent order submission: record the intent, claim it atomically, and only then call the broker.

Invariant 1: the intent is stored under its deterministic client order id before the broker is
called, and one conditional UPDATE (NEW -> SUBMITTING) decides which process may send it. Every other
process, rerun or crashed-and-restarted tick only reconciles: it records what the broker knows and
never sends. The broker always receives the intent exactly as recorded.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from trading_pipeline.adapters.brokers.base import Broker, BrokerOrder, BrokerRejectedError
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
    ABANDONED = "abandoned"  # claimed long ago, still unknown to the broker: never re-sent
    HELD = "held"  # not sent by policy (e.g. a past tick's rerun outside sim/replay); cancelled


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
    if status is OrderStatus.ABANDONED:
        return SubmissionResult(intent.client_order_id, status, SubmissionAction.ALREADY_RECORDED)
    claimed_at = ledger.claimed_at(intent.client_order_id)
    if status is OrderStatus.SUBMITTING and claimed_at is not None:
        age = datetime.now(UTC) - claimed_at
        if age > UNCONFIRMED_CLAIM_TIMEOUT:
            message = (
                f"claimed {age.total_seconds():.0f} s ago and still unknown to the broker; abandoned, "
                "never re-sent (a late report from the broker is still recorded)"
            )
            ledger.record_order_update(intent.client_order_id, "", OrderStatus.ABANDONED, now, message)
            return SubmissionResult(
                intent.client_order_id, OrderStatus.ABANDONED, SubmissionAction.ABANDONED, message
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

    `hold_reason` records the intent as cancelled with that reason, never sending it. A broker that
    definitely refuses the order (BrokerRejectedError) leaves it rejected; any other broker error leaves
    the claim for reconciliation to settle, since the order may or may not exist at the broker.
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
        if ledger.cancel_unclaimed(intent.client_order_id, now, hold_reason):
            return SubmissionResult(
                intent.client_order_id, OrderStatus.CANCELLED, SubmissionAction.HELD, hold_reason
            )
        return sync_with_broker(recorded, OrderStatus.SUBMITTING, ledger, broker, now)  # claimed meanwhile
    if not ledger.claim_intent(intent.client_order_id, claimant or default_claimant()):
        return sync_with_broker(recorded, OrderStatus.SUBMITTING, ledger, broker, now)
    known = broker.find_order(intent.client_order_id)  # sent by a version that did not claim first
    if known is not None:
        record_broker_order(ledger, known, now)
        return SubmissionResult(
            intent.client_order_id, known.status, SubmissionAction.RECONCILED, known.message
        )
    try:
        order = broker.submit(recorded, now)
    except BrokerRejectedError as exc:
        ledger.record_order_update(intent.client_order_id, "", OrderStatus.REJECTED, now, str(exc))
        return SubmissionResult(intent.client_order_id, OrderStatus.REJECTED, SubmissionAction.SENT, str(exc))
    record_broker_order(ledger, order, now)
    return SubmissionResult(intent.client_order_id, order.status, SubmissionAction.SENT, order.message)


def submit_each(
    intents: list[OrderIntent],
    submit: Callable[[OrderIntent], SubmissionResult],
) -> list[SubmissionResult]:
    """Submit every intent even when one fails (one bad order must not stop the exits after it);
    then raise the first failure, naming how many failed."""
    results, failures = [], []
    for intent in intents:
        try:
            results.append(submit(intent))
        except Exception as exc:
            failures.append((intent.client_order_id, exc))
    if failures:
        named = "; ".join(f"{client_order_id}: {exc}" for client_order_id, exc in failures)
        raise SubmissionFailedError(
            f"{len(failures)} of {len(intents)} orders failed: {named}", results
        ) from (failures[0][1])
    return results


class SubmissionFailedError(RuntimeError):
    """Some orders of a batch failed; `results` holds what happened to the others."""

    def __init__(self, message: str, results: list[SubmissionResult]) -> None:
        super().__init__(message)
        self.results = results
