"""0DTE: a same-day iron condor or credit vertical, entered at configured times and closed by a time stop.

It trades only the PM-settled expiration of the session it enters in, only inside an entry window and before a
cut-off measured from that session's own close (13:00 ET on half-days), and only when a later decision time
of the session falls between its time stop and the close, so no position is ever left to expire unmanaged.
Its exit policy has no DTE exit (a same-day trade is 0 DTE on entry): profit target, loss stop, time stop.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import ClassVar, Literal, Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, model_validator

from trading_pipeline.core.calendar import (
    ET,
    REGULAR_CLOSE_ET,
    REGULAR_OPEN_ET,
    at_et,
    is_am_settled,
    is_early_close,
    session_close,
    session_of,
)
from trading_pipeline.core.candidates import StrategyOutcome
from trading_pipeline.core.exits import ExitRules, time_stop_at
from trading_pipeline.core.instruments import Right
from trading_pipeline.core.intents import ExitPlan
from trading_pipeline.core.positions import Position
from trading_pipeline.core.regime import Trend, regime_trend
from trading_pipeline.core.selection import LiquidityFloor, SelectionError, choose_expiration, occ_roots
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.credit_structures import (
    CreditLegsParams,
    propose_credit_structure,
    stand_aside_reasons,
    underlying_regime,
)
from trading_pipeline.core.strategies.names import ZERO_DTE
from trading_pipeline.core.strategies.params import ExitTiers

Structure = Literal["iron_condor", "put_spread", "call_spread", "by_regime"]
#: The sides each fixed structure sells.
STRUCTURE_RIGHTS: dict[str, tuple[Right, ...]] = {
    "iron_condor": (Right.PUT, Right.CALL),
    "put_spread": (Right.PUT,),
    "call_spread": (Right.CALL,),
}
#: by_regime: a put spread when the underlying trends up, a call spread when down, a condor sideways.
TREND_RIGHTS: dict[Trend, tuple[Right, ...]] = {
    Trend.UP: (Right.PUT,),
    Trend.DOWN: (Right.CALL,),
    Trend.SIDEWAYS: (Right.PUT, Right.CALL),
}


def _minutes_before(moment: time, minutes: int) -> time:
    """The wall time `minutes` before `moment` on the same day."""
    return (datetime.combine(date.min, moment) - timedelta(minutes=minutes)).time()


class ZeroDteParams(CreditLegsParams):
    """The credit legs (25-delta shorts, 2-point wings by default) plus when a same-day trade may open and
    when it must close, in minutes before the session's close."""

    short_delta: float = Field(0.25, gt=0.0, lt=0.5)
    #: Same-day deltas jump between $1 strikes (0.38, 0.12, 0.03 on a SPY near 325): a wide tolerance.
    max_delta_error: float = Field(0.10, gt=0.0, lt=0.5)
    width: Decimal = Field(Decimal("2"), gt=0, le=500)
    #: Same-day premiums are a few dimes, so a one-tick spread is a larger share of the mid.
    max_spread_pct: float = Field(20.0, gt=0.0, le=100.0)
    min_credit_pct_of_width: float = Field(10.0, ge=0.0, lt=100.0)
    #: iron_condor, put_spread or call_spread; by_regime: put spread up, call spread down, condor sideways.
    structure: Structure = "by_regime"
    #: Wall times (ET) from which an entry may open, each for entry_window_minutes.
    entry_times_et: tuple[time, ...] = Field((time(10, 0),), min_length=1)
    entry_window_minutes: int = Field(30, ge=1, le=390)
    #: No entry at or after this many minutes before the session's close.
    entry_cutoff_minutes_before_close: int = Field(120, ge=1, le=389)
    #: Open positions close at the first decision time at or after this many minutes before the close.
    time_stop_minutes_before_close: int = Field(30, ge=1, le=389)
    #: No DTE floor: a same-day trade is 0 DTE from entry on, and its time stop closes it.
    exit_tiers: ExitTiers = ExitTiers(min_dte=None)

    @model_validator(mode="after")
    def _entries_end_before_the_time_stop(self) -> Self:
        cutoff, stop = self.entry_cutoff_minutes_before_close, self.time_stop_minutes_before_close
        if stop >= cutoff:
            raise ValueError(
                f"time_stop_minutes_before_close ({stop}) must be below entry_cutoff_minutes_before_close "
                f"({cutoff}): entries must end before the time stop closes them"
            )
        if len(set(self.entry_times_et)) != len(self.entry_times_et):
            raise ValueError(
                f"entry_times_et lists a time twice: {[t.strftime('%H:%M') for t in self.entry_times_et]}"
            )
        last_entry = _minutes_before(REGULAR_CLOSE_ET, cutoff)
        for entry in self.entry_times_et:
            if not REGULAR_OPEN_ET <= entry < last_entry:
                raise ValueError(
                    f"entry_times_et {entry:%H:%M} is outside the entry hours of a regular session, "
                    f"{REGULAR_OPEN_ET:%H:%M} to the cut-off {last_entry:%H:%M} ET "
                    f"(entry_cutoff_minutes_before_close {cutoff} before the {REGULAR_CLOSE_ET:%H:%M} close)"
                )
        return self

    @property
    def time_stop(self) -> timedelta:
        """How long before the close an open position is closed."""
        return timedelta(minutes=self.time_stop_minutes_before_close)

    def exit_rules(self) -> ExitRules:
        """Profit target, loss stop, the exit tiers and the time stop; no DTE exit (0 DTE from entry on)."""
        return self.exit_tiers.rules(
            self.profit_target_pct,
            self.loss_stop_multiple,
            exit_dte=None,
            time_stop_before_close=self.time_stop,
        )


def _et(moment: datetime) -> str:
    return f"{moment.astimezone(ET):%H:%M} ET"


def same_day_rows(rows: pd.DataFrame, session: date, liquidity: LiquidityFloor) -> pd.DataFrame:
    """The chain rows of the PM-settled expiration on `session` itself, liquid at the money; an AM-settled
    series of that date (the SPX monthly) stopped trading the session before and is left out."""
    roots = occ_roots(rows).to_numpy()
    pm_settled = ~np.isin(roots, [root for root in np.unique(roots) if is_am_settled(root)])
    on_session = rows["expiration"].to_numpy() == np.datetime64(pd.Timestamp(session))
    same_day = rows[pm_settled & on_session]
    if same_day.empty:
        listed = sorted(
            {pd.Timestamp(e).date().isoformat() for e in rows["expiration"].to_numpy()[pm_settled]}
        )
        raise SelectionError(
            f"no same-day (PM-settled {session.isoformat()}) expiration in the chain; listed: {listed[:5]}"
        )
    choose_expiration(same_day, 0, 0, 0, liquidity)  # the at-the-money liquidity floor, with its reasons
    return same_day


class ZeroDte:
    """The same-day credit structure as a Strategy plug-in (core/strategies/base.py)."""

    name: ClassVar[str] = ZERO_DTE
    Params: ClassVar[type[BaseModel]] = ZeroDteParams

    def __init__(self, params: ZeroDteParams) -> None:
        self.params = params

    @property
    def enabled(self) -> bool:
        return self.params.enabled

    def timing_problem(self, now: datetime, decision_times: tuple[datetime, ...]) -> str | None:
        """Why `now` may not open a same-day trade (closed market, outside every entry window, at or after the
        cut-off, no decision time left to run the time stop), or None when it may."""
        session = session_of(now)
        if session is None:
            return f"market closed at {_et(now)} on {now.astimezone(ET).date().isoformat()}"
        params = self.params
        window = timedelta(minutes=params.entry_window_minutes)
        starts = [at_et(session, entry) for entry in sorted(params.entry_times_et)]
        if not any(start <= now < start + window for start in starts):
            windows = ", ".join(f"{_et(start)}-{_et(start + window)}" for start in starts)
            return f"{_et(now)} is outside the entry windows ({windows})"
        close = session_close(session)
        day = f"{session.isoformat()}{' (a half-day)' if is_early_close(session) else ''}"
        cutoff = close - timedelta(minutes=params.entry_cutoff_minutes_before_close)
        if now >= cutoff:
            return (
                f"{_et(now)} is at or after the cut-off {_et(cutoff)}, before the {_et(close)} close of {day}"
            )
        stop = time_stop_at(session, params.time_stop)
        if not any(stop <= tick < close for tick in decision_times):
            ticks = ", ".join(_et(tick) for tick in sorted(decision_times)) or "none"
            return (
                f"no decision time from the time stop {_et(stop)} to the {_et(close)} close of {day} would "
                f"close a same-day position (decision times: {ticks})"
            )
        return None

    def rights(self, context: StrategyContext) -> tuple[Right, ...]:
        """The sides to sell: the configured structure's, or by_regime the underlying's trend's (none in a
        crisis)."""
        if self.params.structure != "by_regime":
            return STRUCTURE_RIGHTS[self.params.structure]
        trend = regime_trend(underlying_regime(context.regime, self.params.underlying))
        return () if trend is None else TREND_RIGHTS[trend]

    def propose(self, context: StrategyContext) -> StrategyOutcome:
        """At most one same-day structure on its underlying, inside an entry window and before the cut-off."""
        skipped, _ = stand_aside_reasons(self.name, self.params, context)
        problem = self.timing_problem(context.now, context.decision_times)
        if problem:
            skipped.append(f"no 0DTE entry: {problem}")
        if skipped:
            return StrategyOutcome(self.name, skipped=tuple(skipped))
        rights = self.rights(context)
        regime = underlying_regime(context.regime, self.params.underlying)
        if not rights:
            return StrategyOutcome(self.name, skipped=(f"regime {regime.value} calls for no 0DTE structure",))
        session = context.now.astimezone(ET).date()
        stop = time_stop_at(session, self.params.time_stop)
        shape = "iron condor" if len(rights) == 2 else f"{rights[0].name.lower()} spread"
        why = f"0DTE {shape} at {_et(context.now)} (regime {regime.value}), time stop {_et(stop)}"
        liquidity = self.params.liquidity
        return propose_credit_structure(
            self.name, self.params, context, rights, why, lambda rows: same_day_rows(rows, session, liquidity)
        )

    def exit_rules(self) -> ExitRules:
        return self.params.exit_rules()

    def adjustment(
        self, position: Position, chain: pd.DataFrame, limit_fraction: Decimal, session: date, now: datetime
    ) -> ExitPlan | None:
        """No adjustment: its positions are managed by their exit rules alone."""
        del position, chain, limit_fraction, session, now
        return None
