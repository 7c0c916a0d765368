"""Exit rules for open positions: profit target, loss stop, and a time exit by DTE or by clock time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from trading_pipeline.core.calendar import ET, days_to_expiry, expiration_datetime


@dataclass(frozen=True)
class ExitRules:
    """One strategy's exit policy: profit target and loss stop on the premium, then its time exits.

    `exit_dte` closes at that many days to expiration (None: no DTE exit, as for a same-day trade, whose DTE
    is 0 on entry); `time_stop_before_close` closes that long before its expiration session's close."""

    profit_target_pct: float
    loss_stop_multiple: float
    exit_dte: int | None
    time_stop_before_close: timedelta | None = None


def profit_fraction(entry_value: Decimal, mark_value: Decimal) -> float:
    """P&L per unit as a fraction of the premium at risk (|entry value|); +0.5 = half the credit kept."""
    if entry_value == 0:
        raise ValueError("entry value of zero has no profit fraction")
    return float((mark_value - entry_value) / abs(entry_value))


def time_stop_at(expiration: date, before_close: timedelta) -> datetime:
    """When a time stop closes a position expiring on `expiration`: `before_close` ahead of the close of its
    expiration session, when PM-settled options stop trading (13:00 ET on half-days, from the calendar)."""
    return expiration_datetime(expiration) - before_close


def exit_reason(
    entry_value: Decimal,
    mark_value: Decimal,
    expiration: date,
    today: date,
    rules: ExitRules,
    now: datetime | None = None,
) -> str | None:
    """The first exit rule that fires for a position, as a readable reason, else None; `now` (the decision
    time) is needed by a clock-time stop."""
    fraction = profit_fraction(entry_value, mark_value)
    if fraction * 100 >= rules.profit_target_pct:
        return f"profit target: {fraction:.0%} of premium captured (target {rules.profit_target_pct:.0f}%)"
    if fraction <= -rules.loss_stop_multiple:
        return f"loss stop: loss is {-fraction:.2f}x the premium (stop {rules.loss_stop_multiple:.2f}x)"
    if rules.time_stop_before_close is not None:
        if now is None:
            raise ValueError(f"a time stop before the close needs the decision time; got now=None on {today}")
        stop = time_stop_at(expiration, rules.time_stop_before_close)
        if now >= stop:
            close = expiration_datetime(expiration).astimezone(ET)
            minutes = int(rules.time_stop_before_close.total_seconds() // 60)
            return (
                f"time stop: {now.astimezone(ET):%H:%M} ET is at or after {stop.astimezone(ET):%H:%M} ET, "
                f"{minutes} minutes before the {close:%H:%M} ET close of expiration day {expiration}"
            )
    dte = days_to_expiry(today, expiration)
    if rules.exit_dte is not None and dte <= rules.exit_dte:
        return f"time exit: {dte} DTE <= {rules.exit_dte}"
    return None
