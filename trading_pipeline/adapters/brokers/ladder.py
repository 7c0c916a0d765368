"""Working the ladder of resting orders: each step claimed in the ledger once, then asked of the broker.

Invariant 1 for replaces and cancels: a step is recorded under (order, step) with a unique constraint before
the broker hears of it, so reruns, concurrent runs and a crash between the request and the answer never step
an order twice. A step left unanswered (the run died) is settled on a later tick from the broker's own record
of the order (its step number, its status) and is never sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from trading_pipeline.adapters.brokers.base import Broker, BrokerError, BrokerOrder
from trading_pipeline.adapters.brokers.submission import record_broker_order
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.chain import MissingLegError, leg_quotes, leg_rows
from trading_pipeline.core.fills import LegQuote
from trading_pipeline.core.ladder import (
    LadderAction,
    LadderMove,
    LadderParams,
    OrderStep,
    StepKind,
    StepStatus,
    ladder_action,
    working_order,
)
from trading_pipeline.core.orders import OrderIntent, OrderStatus

#: A step requested this long ago that the broker still does not show was never applied: refused, not resent.
UNANSWERED_STEP_TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True)
class LadderResult:
    """What this run did about one working order: its move, the step it took, the order's status after."""

    client_order_id: str
    move: str
    reason: str
    status: OrderStatus
    step: int | None = None


def quotes_of(chain: pd.DataFrame, intent: OrderIntent) -> tuple[LegQuote, ...] | None:
    """The legs' quotes from the tick's chain, or None when a leg is missing or badly quoted."""
    try:
        return leg_quotes(leg_rows(chain, intent.legs))
    except (MissingLegError, ValueError):
        return None


def step_applied(step: OrderStep, order: BrokerOrder) -> bool:
    """Whether the broker's record of the order shows the step: a replace by its step number, a cancel by
    the order having ended."""
    if step.kind is StepKind.REPLACE:
        return order.step >= step.step
    return order.status.is_terminal


def settle_unanswered(ledger: Ledger, broker: Broker, step: OrderStep, now: datetime) -> bool:
    """Answer a step a run requested but never heard back on, from the broker's record; True when settled
    (a step still inside its timeout, the broker silent on it, stays open: another run may be asking)."""
    order = broker.find_order(step.client_order_id)
    if order is not None and (step_applied(step, order) or order.status.is_terminal):
        record_broker_order(ledger, order, now)
        applied = step_applied(step, order)
        message = "found applied at the broker" if applied else f"not applied: the order ended {order.status}"
        status = StepStatus.CONFIRMED if applied else StepStatus.REFUSED
        ledger.answer_step(step.client_order_id, step.step, status, now, message)
        return True
    claimed_at = step.claimed_at or step.requested_at
    if datetime.now(UTC) - claimed_at.astimezone(UTC) > UNANSWERED_STEP_TIMEOUT:
        message = "never applied by the broker; not sent again (the next step supersedes it)"
        ledger.answer_step(step.client_order_id, step.step, StepStatus.REFUSED, now, message)
        return True
    return False


def work_ladders(
    ledger: Ledger,
    broker: Broker,
    chain: pd.DataFrame,
    now: datetime,
    params: LadderParams,
    claimant: str,
    hold_reason: str | None = None,
) -> list[LadderResult]:
    """Step or cancel every working order whose ladder calls for it at `now`; each step through the ledger.

    `hold_reason` (a past tick's rerun against a real market) leaves every order as it is, saying why.
    Steps a crashed run left unanswered are settled first, whatever their order's status: an order can
    fill at the broker at a step's limit before the ledger heard of the step."""
    if hold_reason is None:
        for step in ledger.unanswered_steps():
            settle_unanswered(ledger, broker, step, now)
    results = []
    for intent, status in ledger.intents(unfinished_only=True):
        if not status.is_working:
            continue
        if hold_reason is not None:
            results.append(LadderResult(intent.client_order_id, "held", hold_reason, status))
            continue
        results.append(_work_one(ledger, broker, intent, status, chain, now, params, claimant))
    return results


def _work_one(
    ledger: Ledger,
    broker: Broker,
    intent: OrderIntent,
    status: OrderStatus,
    chain: pd.DataFrame,
    now: datetime,
    params: LadderParams,
    claimant: str,
) -> LadderResult:
    steps = ledger.order_steps(intent.client_order_id)
    unanswered = [s for s in steps if s.status is StepStatus.REQUESTED]
    if any(not settle_unanswered(ledger, broker, s, now) for s in unanswered):
        return LadderResult(intent.client_order_id, "in flight", "a step is on its way to the broker", status)
    if unanswered:
        steps = ledger.order_steps(intent.client_order_id)
        found = ledger.intent(intent.client_order_id)
        status = found[1] if found else status
        if not status.is_working:
            return LadderResult(intent.client_order_id, "settled", "the order ended", status)
    state = working_order(intent, steps, intent.decision_time)
    action = ladder_action(state, quotes_of(chain, intent), now, params)
    if action.move is LadderMove.WAIT:
        return LadderResult(intent.client_order_id, action.move.value, action.reason, status)
    return _take_step(ledger, broker, intent, action, now, claimant, steps)


def _take_step(
    ledger: Ledger,
    broker: Broker,
    intent: OrderIntent,
    action: LadderAction,
    now: datetime,
    claimant: str,
    steps: list[OrderStep],
) -> LadderResult:
    """Claim the step, ask the broker, record its answer and the order's state."""
    number = action.step if action.step is not None else max((s.step for s in steps), default=0) + 1
    kind = StepKind.REPLACE if action.move is LadderMove.STEP else StepKind.CANCEL
    step = OrderStep(intent.client_order_id, number, kind, action.limit_price, now, claimant, action.reason)
    if not ledger.request_step(step):
        reason = f"step {number} claimed by another run"
        return LadderResult(intent.client_order_id, "in flight", reason, OrderStatus.WORKING)
    ask: Callable[[], BrokerOrder] = (
        (lambda: broker.replace(intent.client_order_id, action.limit_price, number, now))  # type: ignore[arg-type]
        if kind is StepKind.REPLACE
        else (lambda: broker.cancel(intent.client_order_id, now))
    )
    try:
        order = ask()
    except BrokerError as exc:  # the step may or may not have reached the broker: a later tick settles it
        return LadderResult(intent.client_order_id, "unanswered", str(exc), OrderStatus.WORKING, number)
    applied = step_applied(step, order)
    message = order.message if applied else f"not applied: the order is {order.status.value}"
    ledger.answer_step(
        intent.client_order_id, number, StepStatus.CONFIRMED if applied else StepStatus.REFUSED, now, message
    )
    record_broker_order(ledger, order, now)
    return LadderResult(intent.client_order_id, action.move.value, action.reason, order.status, number)
