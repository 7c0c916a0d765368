"""Exit rules for open positions: profit target, loss stop and time (DTE) exit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from trading_pipeline.core.calendar import days_to_expiry


@dataclass(frozen=True)
class ExitRules:
    """Thresholds shared by credit strategies (the short strangle today)."""

    profit_target_pct: float
    loss_stop_multiple: float
    exit_dte: int


def profit_fraction(entry_value: Decimal, mark_value: Decimal) -> float:
    """P&L per unit as a fraction of the premium at risk (|entry value|); +0.5 = half the credit kept."""
    if entry_value == 0:
        raise ValueError("entry value of zero has no profit fraction")
    return float((mark_value - entry_value) / abs(entry_value))


def exit_reason(
    entry_value: Decimal, mark_value: Decimal, expiration: date, today: date, rules: ExitRules
) -> str | None:
    """The first exit rule that fires for a position, as a readable reason, else None."""
    fraction = profit_fraction(entry_value, mark_value)
    if fraction * 100 >= rules.profit_target_pct:
        return f"profit target: {fraction:.0%} of premium captured (target {rules.profit_target_pct:.0f}%)"
    if fraction <= -rules.loss_stop_multiple:
        return f"loss stop: loss is {-fraction:.2f}x the premium (stop {rules.loss_stop_multiple:.2f}x)"
    dte = days_to_expiry(today, expiration)
    if dte <= rules.exit_dte:
        return f"time exit: {dte} DTE <= {rules.exit_dte}"
    return None
