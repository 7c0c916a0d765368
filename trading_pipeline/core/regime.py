"""Named market regimes (trend x volatility), the size multiplier of each, and the regime's record.

Trend comes from the close against its fast and slow simple moving averages, volatility from VIX.
Which strategies a regime permits is configuration (`regime.permissions`; the default table is in
core/strategies/names.py): this module knows no strategy. A regime the table leaves out permits nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RegimeError(ValueError):
    """Inputs the regime classifier cannot use; the message names the bad value."""


class Trend(StrEnum):
    UP = "UP"
    DOWN = "DOWN"
    SIDEWAYS = "SIDEWAYS"


class VolLevel(StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    EXTREME = "EXTREME"


class RegimeName(StrEnum):
    BULL_CALM = "bull_calm"
    BULL_VOLATILE = "bull_volatile"
    RANGE_CALM = "range_calm"
    RANGE_VOLATILE = "range_volatile"
    BEAR_CALM = "bear_calm"
    BEAR_VOLATILE = "bear_volatile"
    CRISIS = "crisis"


#: Default size scale per regime: full size when calm, half when volatile, nothing in a crisis.
SIZE_MULTIPLIERS: dict[RegimeName, float] = {
    RegimeName.BULL_CALM: 1.0,
    RegimeName.BULL_VOLATILE: 0.5,
    RegimeName.RANGE_CALM: 1.0,
    RegimeName.RANGE_VOLATILE: 0.5,
    RegimeName.BEAR_CALM: 0.5,
    RegimeName.BEAR_VOLATILE: 0.5,
    RegimeName.CRISIS: 0.0,
}
MAX_SIZE_MULTIPLIER = 2.0

_NAMES: dict[tuple[Trend, bool], RegimeName] = {
    (Trend.UP, False): RegimeName.BULL_CALM,
    (Trend.UP, True): RegimeName.BULL_VOLATILE,
    (Trend.SIDEWAYS, False): RegimeName.RANGE_CALM,
    (Trend.SIDEWAYS, True): RegimeName.RANGE_VOLATILE,
    (Trend.DOWN, False): RegimeName.BEAR_CALM,
    (Trend.DOWN, True): RegimeName.BEAR_VOLATILE,
}


class RegimeParams(BaseModel):
    """Moving-average windows, trend band and VIX thresholds of the classifier, with bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fast_window: int = Field(50, ge=2)
    slow_window: int = Field(200, ge=3)
    #: Fractional margin each comparison must clear, so a close hugging its average is SIDEWAYS.
    trend_band: float = Field(0.01, ge=0.0, lt=1.0)
    #: VIX below this is LOW; from here up to `vix_high` NORMAL.
    vix_low: float = Field(15.0, gt=0.0)
    #: VIX at or above this is HIGH.
    vix_high: float = Field(25.0, gt=0.0)
    #: VIX at or above this is EXTREME (the crisis regime).
    vix_extreme: float = Field(35.0, gt=0.0)
    #: Sessions over which the slow average's slope is measured; a falling slow average is never UP.
    slope_sessions: int = Field(20, ge=1, le=250)
    #: ADX (Wilder, `adx_window`) below this is too weak a trend to call UP.
    adx_window: int = Field(14, ge=2, le=100)
    adx_trend_min: float = Field(15.0, ge=0.0, le=100.0)
    #: VIX / VIX3M at or above this (an inverted term structure) makes a calm level volatile (HIGH).
    backwardation_ratio: float = Field(1.0, ge=0.8, le=1.5)
    #: The VIX's rank (0-100) over `iv_rank_lookback` closes at or above this makes a calm level volatile.
    iv_rank_lookback: int = Field(252, ge=20, le=2520)
    iv_rank_volatile: float = Field(90.0, ge=0.0, le=100.0)
    #: Sessions in a row a new regime must hold before it replaces the current one (a crisis starts at once).
    confirm_sessions: int = Field(8, ge=1, le=60)
    #: Sessions a more stressed regime (calm to volatile) must hold; below confirm_sessions risk off comes
    #: faster than risk on (docs/regimes.md measures 2 on real history).
    escalate_sessions: int = Field(8, ge=1, le=60)
    #: VIX points below a threshold the VIX must fall before its level is left (a Schmitt trigger).
    vix_margin: float = Field(2.0, ge=0.0, le=20.0)
    #: Strategies each regime lets open positions (exits are never gated); a regime left out permits none.
    permissions: dict[RegimeName, frozenset[str]] = Field(default_factory=dict)
    #: Scale of each permitted strategy's size in each regime (core/regime.sized); every regime listed.
    size_multipliers: dict[RegimeName, float] = Field(default_factory=lambda: dict(SIZE_MULTIPLIERS))

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.fast_window >= self.slow_window:
            raise ValueError(
                f"fast_window ({self.fast_window}) must be smaller than slow_window ({self.slow_window})"
            )
        if not self.vix_low < self.vix_high < self.vix_extreme:
            raise ValueError(
                f"VIX thresholds must increase: vix_low ({self.vix_low}) < vix_high "
                f"({self.vix_high}) < vix_extreme ({self.vix_extreme})"
            )
        missing = sorted(r.value for r in set(RegimeName) - set(self.size_multipliers))
        if missing:
            raise ValueError(f"size_multipliers must list every regime; missing {missing}")
        for regime, multiplier in self.size_multipliers.items():
            if not 0.0 <= multiplier <= MAX_SIZE_MULTIPLIER:
                raise ValueError(
                    f"size_multipliers.{regime.value} must lie in [0, {MAX_SIZE_MULTIPLIER}], "
                    f"got {multiplier}"
                )
        return self


@dataclass(frozen=True)
class MarketRegime:
    """The regime of one decision session, the inputs behind it and the strategies it allows."""

    name: RegimeName
    trend: Trend
    vol_level: VolLevel
    close: float
    sma_fast: float
    sma_slow: float
    vix: float
    #: Recorded for strategy filters and metadata; the classification itself does not use it.
    iv_rank: float | None
    permissions: frozenset[str]
    size_multiplier: float = 1.0
    #: Percent change of the slow average over `slope_sessions` (NaN: too little history).
    slow_slope_pct: float = math.nan
    #: VIX / VIX3M at the close (NaN without a VIX3M); at or above `backwardation_ratio` it is volatile.
    term_ratio: float = math.nan
    #: ADX of the regime underlying (NaN without highs and lows); below `adx_trend_min` it is not UP.
    adx: float = math.nan
    #: The VIX's rank over `iv_rank_lookback` closes; at or above `iv_rank_volatile` it is volatile.
    vix_rank: float = math.nan
    #: The last close's own classification, before hysteresis (equal to `name` once confirmed).
    raw_name: RegimeName | None = None
    #: Sessions the regime has held, counting the last close's.
    regime_sessions: int = 1
    #: The session whose close decided the regime (the last one closed before the decision).
    closed_session: date | None = None
    #: The same classification per traded underlying (its own closes, the market's VIX).
    by_underlying: Mapping[str, RegimeName] = field(default_factory=dict)

    def allows(self, strategy: str) -> bool:
        """Whether `strategy` may open positions in this regime."""
        return strategy in self.permissions

    def sized(self, contracts: int) -> int:
        """`contracts` times the size multiplier, rounded half up; at least one unless the multiplier is 0."""
        if self.size_multiplier <= 0:
            return 0
        return max(1, math.floor(contracts * self.size_multiplier + 0.5))


def trend_of(
    close: float,
    sma_fast: float,
    sma_slow: float,
    band: float,
    slow_slope_pct: float = math.nan,
    adx: float = math.nan,
    adx_min: float = 0.0,
) -> Trend:
    """UP needs the bullish stack close > fast > slow, a slow average that is not falling and an ADX of at
    least `adx_min` (a trend with strength); DOWN only the close below both averages.

    Each comparison must clear the band. DOWN does not wait for the fast average to cross under
    the slow one, nor for ADX, so a crash counts at once (on 2020-03-16 the 50-day was still above the
    200-day). An unknown slope or ADX (NaN: too little history) does not hold UP back.
    """
    rising = not slow_slope_pct < 0
    strong = not adx < adx_min
    if close > sma_fast * (1 + band) and sma_fast > sma_slow * (1 + band) and rising and strong:
        return Trend.UP
    if close < sma_fast * (1 - band) and close < sma_slow * (1 - band):
        return Trend.DOWN
    return Trend.SIDEWAYS


def regime_name(trend: Trend, vol_level: VolLevel) -> RegimeName:
    """EXTREME volatility is a crisis whatever the trend; otherwise trend × (calm or volatile)."""
    if vol_level is VolLevel.EXTREME:
        return RegimeName.CRISIS
    return _NAMES[(trend, vol_level is VolLevel.HIGH)]


def regime_trend(name: RegimeName) -> Trend | None:
    """The trend a regime name carries (bull: UP, range: SIDEWAYS, bear: DOWN); a crisis has none."""
    for (trend, _), named in _NAMES.items():
        if named is name:
            return trend
    return None
