"""The account's trading state (ACTIVE / REDUCING / HALTED), the events that change it, and the automatic
kill triggers: a daily loss beyond the limit, a burst of broker rejections and market data stale for
too long.

A trip is recorded in the ledger with its cause and lasts until an operator records a reset: no trigger
clears itself. Each trigger trips at most once per session, so a reset holds for the rest of that session.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum


class TradingState(StrEnum):
    """What may trade: ACTIVE everything; REDUCING exits, and defined-risk entries at a reduced size;
    HALTED exits only."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Trigger(StrEnum):
    """Who or what changed the state."""

    OPERATOR = "operator"
    DAILY_LOSS = "daily_loss"
    REJECTION_BURST = "rejection_burst"
    STALE_DATA = "stale_data"


@dataclass(frozen=True)
class TradingStateEvent:
    """One change of the trading state, as recorded in the ledger; `key` makes an automatic trip unique per
    trigger and session (an operator's act gets a key of its own)."""

    key: str
    state: TradingState
    trigger: Trigger
    cause: str
    at: datetime
    session: date | None = None
    actor: str = "pipeline"


ACTIVE_EVENT_CAUSE = "no trading-state change recorded"


def current_state(event: TradingStateEvent | None) -> tuple[TradingState, str]:
    """The state the latest recorded event leaves, with its cause (ACTIVE when nothing was recorded)."""
    if event is None:
        return TradingState.ACTIVE, ACTIVE_EVENT_CAUSE
    return event.state, event.cause


def trip_key(trigger: Trigger, session: date) -> str:
    """The unique key of an automatic trip: one per trigger and session."""
    return f"{trigger.value}:{session.isoformat()}"


def halt(trigger: Trigger, cause: str, session: date, now: datetime) -> TradingStateEvent:
    """An automatic trip to HALTED, unique per trigger and session."""
    return TradingStateEvent(trip_key(trigger, session), TradingState.HALTED, trigger, cause, now, session)


def operator_event(state: TradingState, actor: str, reason: str, at: datetime) -> TradingStateEvent:
    """An operator's explicit act (a reset to ACTIVE, or a manual REDUCING/HALTED), named and explained."""
    if not actor.strip():
        raise ValueError("operator: a trading-state change needs the operator's name, got an empty one")
    if not reason.strip():
        raise ValueError("reason: a trading-state change needs a reason, got an empty one")
    return TradingStateEvent(
        key=f"operator:{at.isoformat()}:{actor.strip()}",
        state=state,
        trigger=Trigger.OPERATOR,
        cause=f"{state.value} by {actor.strip()}: {reason.strip()}",
        at=at,
        actor=actor.strip(),
    )


def daily_loss_trip(
    daily_pnl: Decimal, equity_at_open: Decimal, limit_pct: float, session: date, now: datetime
) -> TradingStateEvent | None:
    """HALTED when the session's P&L (marks now against the open) lost more than `limit_pct` of the
    equity the session opened with, else None."""
    limit = equity_at_open * Decimal(str(limit_pct)) / 100
    if equity_at_open <= 0 or -daily_pnl <= limit:
        return None
    cause = (
        f"daily loss {-daily_pnl:.2f} exceeds the limit {limit:.2f} "
        f"({limit_pct:g}% of the session's opening equity {equity_at_open:.2f})"
    )
    return halt(Trigger.DAILY_LOSS, cause, session, now)


def rejection_burst_trip(
    rejected_at: Iterable[datetime], burst: int, window: timedelta, session: date, now: datetime
) -> TradingStateEvent | None:
    """HALTED when the broker rejected at least `burst` orders within `window` before `now`, else None."""
    recent = [t for t in rejected_at if now - window <= t <= now]
    if len(recent) < burst:
        return None
    minutes = window.total_seconds() / 60
    cause = f"{len(recent)} broker rejections in the last {minutes:g} min (burst limit {burst})"
    return halt(Trigger.REJECTION_BURST, cause, session, now)


def stale_data_trip(
    newest_quote_age_seconds: float | None, limit_minutes: int, session: date, now: datetime
) -> TradingStateEvent | None:
    """HALTED when even the newest quote is more than `limit_minutes` old: the feed has been silent that
    long (the blocking freshness check stops each run sooner; this stops trading until someone looks)."""
    if newest_quote_age_seconds is None or newest_quote_age_seconds <= limit_minutes * 60:
        return None
    cause = (
        f"market data stale: the newest quote is {newest_quote_age_seconds / 60:.1f} min old "
        f"(limit {limit_minutes} min)"
    )
    return halt(Trigger.STALE_DATA, cause, session, now)
