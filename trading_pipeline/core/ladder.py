"""The limit-price ladder of a working order: wait, step toward the natural price, or cancel.

A limit starts at the configured fraction of the half-spread from mid (core/fills.limit_price). While it
rests unfilled, every `step_wait` it moves `step_fraction` further toward natural, at most `max_steps`
times; after the last step's wait, or at the cut-off before the close, it is cancelled. Pure: the caller
passes the order's state, the legs' quotes and `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from trading_pipeline.core.calendar import ET, session_close
from trading_pipeline.core.fills import LegQuote, limit_price
from trading_pipeline.core.orders import OrderIntent


@dataclass(frozen=True)
class LadderParams:
    """How a resting limit walks toward natural: start, step size and wait, steps allowed, cut-off."""

    start_fraction: Decimal
    step_fraction: Decimal
    step_wait: timedelta
    max_steps: int
    cancel_before_close: timedelta

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.start_fraction <= Decimal(1):
            raise ValueError(f"start_fraction must be within [0, 1], got {self.start_fraction}")
        if not Decimal(0) < self.step_fraction <= Decimal(1):
            raise ValueError(f"step_fraction must be within (0, 1], got {self.step_fraction}")
        if self.step_wait <= timedelta(0):
            raise ValueError(f"step_wait must be positive, got {self.step_wait}")
        if self.max_steps < 0:
            raise ValueError(f"max_steps must be >= 0, got {self.max_steps}")

    def fraction_at(self, step: int) -> Decimal:
        """The share of the half-spread the limit gives up at `step` (0: the first limit), at most 1."""
        return min(self.start_fraction + self.step_fraction * step, Decimal(1))

    def cut_off(self, now: datetime) -> datetime:
        """When working orders of `now`'s session are cancelled: `cancel_before_close` before its close."""
        return session_close(now.astimezone(ET).date()) - self.cancel_before_close


@dataclass(frozen=True)
class WorkingOrder:
    """A resting order as the ledger knows it: its intent, the steps confirmed and the current limit."""

    intent: OrderIntent
    step: int
    limit_price: Decimal
    working_since: datetime


class LadderMove(StrEnum):
    WAIT = "wait"
    STEP = "step"
    CANCEL = "cancel"


@dataclass(frozen=True)
class LadderAction:
    """What to do with one working order now, and why; a STEP carries its number and new limit."""

    move: LadderMove
    reason: str
    step: int | None = None
    limit_price: Decimal | None = None


def ladder_action(
    order: WorkingOrder, quotes: tuple[LegQuote, ...] | None, now: datetime, params: LadderParams
) -> LadderAction:
    """The next move of `order` at `now`: cancel at the cut-off or after its last step, step toward natural
    once its wait is over (never blind: no quotes, no step), else wait."""
    cut_off = params.cut_off(now)
    if now >= cut_off:
        return LadderAction(
            LadderMove.CANCEL,
            f"cut-off {cut_off.astimezone(ET):%H:%M} ET reached unfilled at {order.limit_price}",
        )
    waited = now - order.working_since
    if waited < params.step_wait:
        return LadderAction(
            LadderMove.WAIT,
            f"working at {order.limit_price} for {_minutes(waited)} of {_minutes(params.step_wait)}",
        )
    if order.step >= params.max_steps:
        return LadderAction(
            LadderMove.CANCEL,
            f"unfilled at {order.limit_price} after the last of {params.max_steps} steps "
            f"and {_minutes(waited)}",
        )
    if quotes is None:
        return LadderAction(LadderMove.WAIT, "no quote for every leg: the ladder does not step blind")
    step = order.step + 1
    price = limit_price(order.intent.legs, quotes, params.fraction_at(step))
    if price <= order.limit_price:
        return LadderAction(
            LadderMove.WAIT,
            f"step {step} would price {price}, not beyond the working {order.limit_price}: "
            "the market came to it",
        )
    return LadderAction(
        LadderMove.STEP,
        f"step {step} of {params.max_steps}: {order.limit_price} -> {price} "
        f"({params.fraction_at(step):.0%} of the half-spread toward natural)",
        step,
        price,
    )


def _minutes(span: timedelta) -> str:
    return f"{span.total_seconds() / 60:.0f} min"


class StepKind(StrEnum):
    REPLACE = "REPLACE"  # a new limit for the working order
    CANCEL = "CANCEL"  # the end of the ladder: the order is cancelled


class StepStatus(StrEnum):
    REQUESTED = "REQUESTED"  # claimed by one process, which alone asks the broker
    CONFIRMED = "CONFIRMED"  # the broker holds the order at the step's limit (or cancelled it)
    REFUSED = "REFUSED"  # the broker did not apply it (the order had filled or ended meanwhile)


@dataclass(frozen=True)
class OrderStep:
    """One rung of a working order's ladder as recorded in the ledger: claimed once by (order, step) before
    the broker is asked, then answered; its rows are the order's ladder history."""

    client_order_id: str
    step: int
    kind: StepKind
    limit_price: Decimal | None
    requested_at: datetime
    requested_by: str
    reason: str
    status: StepStatus = StepStatus.REQUESTED
    answered_at: datetime | None = None
    message: str = ""
    #: When the ledger recorded the claim (wall clock; `requested_at` is the tick's time).
    claimed_at: datetime | None = None


def working_order(intent: OrderIntent, steps: list[OrderStep], submitted_at: datetime) -> WorkingOrder:
    """The working state of an order from its recorded steps: the last confirmed replace sets the limit and
    restarts the wait; a step still unanswered counts as taken (it is reconciled, never repeated)."""
    confirmed = [s for s in steps if s.kind is StepKind.REPLACE and s.status is StepStatus.CONFIRMED]
    last = max(confirmed, key=lambda s: s.step, default=None)
    taken = max((s.step for s in steps), default=0)
    if last is None:
        return WorkingOrder(intent, taken, intent.limit_price, submitted_at)
    since = last.answered_at or last.requested_at
    return WorkingOrder(intent, taken, last.limit_price or intent.limit_price, since)
