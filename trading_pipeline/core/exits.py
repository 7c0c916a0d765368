"""Exit rules for open positions, evaluated in tiers: hard stops, protection, profit target, greeks, then the
time exits (a time stop before the close, a DTE exit). The first rule that fires names the exit."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from trading_pipeline.core.calendar import ET, days_to_expiry, last_trading_datetime
from trading_pipeline.core.positions import Position, PositionMark


@dataclass(frozen=True)
class ExitRules:
    """One strategy's exit policy; every tier beyond the first three fields is optional (None: off).

    Tiers, first firing wins: hard stops (`hard_loss_multiple`, `min_dte`, `max_position_delta`), protection
    (`loss_stop_multiple`, `max_days_held`), the profit target (`profit_target_pct`), greeks degradation
    (`min_theta_per_unit`), the time stop (`time_stop_before_close`), the DTE exit (`exit_dte`).

    Loss multiples are of the premium at risk (|entry value|: the credit of a short-premium position);
    `min_dte` closes below that many days to expiration, `exit_dte` at that many or fewer (None: no DTE exit,
    as for a same-day trade); `max_position_delta` bounds |position delta| in shares; `max_days_held` counts
    calendar days (ET) since the position opened. Greeks degradation: a short-premium (credit) position
    whose theta per unit ($ per day) has fallen to `min_theta_per_unit` or below (0: theta no longer
    positive) no longer earns by waiting and is closed. An unknown (NaN) greek never fires a rule.
    """

    profit_target_pct: float
    loss_stop_multiple: float
    exit_dte: int | None
    time_stop_before_close: timedelta | None = None
    hard_loss_multiple: float | None = None
    min_dte: int | None = None
    max_position_delta: float | None = None
    max_days_held: int | None = None
    min_theta_per_unit: float | None = None


def profit_fraction(entry_value: Decimal, mark_value: Decimal) -> float:
    """P&L per unit as a fraction of the premium at risk (|entry value|); +0.5 = half the credit kept."""
    if entry_value == 0:
        raise ValueError("entry value of zero has no profit fraction")
    return float((mark_value - entry_value) / abs(entry_value))


def time_stop_at(expiration: date, before_close: timedelta, root: str | None = None) -> datetime:
    """When a time stop closes a position expiring on `expiration`: `before_close` ahead of its last trading
    moment (the expiration session's close for PM-settled options, 13:00 ET on half-days; for AM-settled
    index options the previous session's option close, 16:15 ET or 13:15 on half-days), from the calendar."""
    return last_trading_datetime(expiration, root) - before_close


@dataclass(frozen=True)
class _Judged:
    """What every rule reads about one position at one tick, computed once."""

    position: Position
    mark: PositionMark
    rules: ExitRules
    today: date
    now: datetime
    expiration: date
    root: str

    @property
    def loss(self) -> float:
        """Loss as a multiple of the premium at risk (negative when in profit)."""
        return -profit_fraction(self.position.entry_value, self.mark.mark_value)

    @property
    def premium(self) -> str:
        return "credit" if self.position.entry_value < 0 else "debit"

    @property
    def dte(self) -> int:
        return days_to_expiry(self.today, self.expiration)


def _loss_at(judged: _Judged, multiple: float | None, label: str) -> str | None:
    if multiple is None or judged.loss < multiple:
        return None
    return f"{label}: loss {judged.loss:.2f}x the {judged.premium} >= {multiple:.2f}x"


def _hard_loss(judged: _Judged) -> str | None:
    return _loss_at(judged, judged.rules.hard_loss_multiple, "hard stop")


def _hard_dte(judged: _Judged) -> str | None:
    floor = judged.rules.min_dte
    if floor is None or judged.dte >= floor:
        return None
    return f"hard stop: {judged.dte} DTE < {floor}"


def _hard_delta(judged: _Judged) -> str | None:
    bound, delta = judged.rules.max_position_delta, judged.mark.delta
    if bound is None or math.isnan(delta) or abs(delta) <= bound:
        return None
    return f"hard stop: |delta| {abs(delta):.1f} shares > {bound:g}"


def _loss_stop(judged: _Judged) -> str | None:
    return _loss_at(judged, judged.rules.loss_stop_multiple, "loss stop")


def _max_hold(judged: _Judged) -> str | None:
    limit = judged.rules.max_days_held
    held = (judged.now.astimezone(ET).date() - judged.position.opened_at.astimezone(ET).date()).days
    if limit is None or held < limit:
        return None
    return f"max hold: held {held} days >= {limit}"


def _profit_target(judged: _Judged) -> str | None:
    fraction, target = -judged.loss, judged.rules.profit_target_pct
    if fraction * 100 < target:
        return None
    return f"profit target: {fraction:.0%} of premium captured (target {target:.0f}%)"


def _theta_gone(judged: _Judged) -> str | None:
    floor, theta = judged.rules.min_theta_per_unit, judged.mark.theta
    if floor is None or judged.position.entry_value >= 0 or math.isnan(theta):
        return None
    per_unit = theta / judged.position.quantity
    if per_unit > floor:
        return None
    return f"greeks: theta {per_unit:.2f}/day per unit <= {floor:.2f} on a credit position"


def _time_stop(judged: _Judged) -> str | None:
    before = judged.rules.time_stop_before_close
    if before is None:
        return None
    stop = time_stop_at(judged.expiration, before, judged.root)
    if judged.now < stop:
        return None
    last = last_trading_datetime(judged.expiration, judged.root).astimezone(ET)
    day = (
        f"expiration day {judged.expiration}"
        if last.date() == judged.expiration
        else f"last trading day {last.date()} of the AM-settled {judged.expiration} expiration"
    )
    minutes = int(before.total_seconds() // 60)
    return (
        f"time stop: {judged.now.astimezone(ET):%H:%M} ET is at or after {stop.astimezone(ET):%H:%M} ET, "
        f"{minutes} minutes before the {last:%H:%M} ET close of {day}"
    )


def _dte_exit(judged: _Judged) -> str | None:
    exit_dte = judged.rules.exit_dte
    if exit_dte is None or judged.dte > exit_dte:
        return None
    return f"time exit: {judged.dte} DTE <= {exit_dte}"


#: The rules in the order they are judged, tier by tier (hard stops; protection; profit target; greeks
#: degradation; time stop; DTE exit): the first that fires is the exit's reason.
RULES_IN_ORDER: tuple[Callable[[_Judged], str | None], ...] = (
    _hard_loss,
    _hard_dte,
    _hard_delta,
    _loss_stop,
    _max_hold,
    _profit_target,
    _theta_gone,
    _time_stop,
    _dte_exit,
)


def exit_reason(
    position: Position, mark: PositionMark, rules: ExitRules, today: date, now: datetime
) -> str | None:
    """The first exit rule that fires for a position at `now` (session `today`), as a readable reason naming
    the tier and its figures, else None; the earliest expiring leg sets the DTE and the time stop."""
    nearest = min(position.legs, key=lambda leg: leg.contract.expiration).contract
    judged = _Judged(position, mark, rules, today, now, nearest.expiration, nearest.root)
    return next((reason for rule in RULES_IN_ORDER if (reason := rule(judged)) is not None), None)
