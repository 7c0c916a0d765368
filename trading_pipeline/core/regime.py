"""Named market regimes (trend × volatility) and the strategies each regime permits.

Trend comes from the close against its fast and slow simple moving averages, volatility from VIX.
Regime names and permissions (an empty set opens nothing; exits are never gated by regime):

| regime         | trend    | VIX          | permitted strategies                                  |
|----------------|----------|--------------|-------------------------------------------------------|
| bull_calm      | UP       | LOW, NORMAL  | short_strangle, credit_spread, zero_dte, long_options |
| bull_volatile  | UP       | HIGH         | short_strangle, credit_spread                         |
| range_calm     | SIDEWAYS | LOW, NORMAL  | short_strangle, credit_spread, iron_condor, zero_dte  |
| range_volatile | SIDEWAYS | HIGH         | short_strangle, credit_spread, iron_condor            |
| bear_calm      | DOWN     | LOW, NORMAL  | credit_spread, long_options                           |
| bear_volatile  | DOWN     | HIGH         | credit_spread                                         |
| crisis         | any      | EXTREME      | (none)                                                |
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading_pipeline.core.indicators import sma

SHORT_STRANGLE = "short_strangle"
CREDIT_SPREAD = "credit_spread"
IRON_CONDOR = "iron_condor"
ZERO_DTE = "zero_dte"
LONG_OPTIONS = "long_options"
#: Every strategy name a regime can permit; `short_strangle` is implemented, the rest are roadmap.
STRATEGY_NAMES = frozenset({SHORT_STRANGLE, CREDIT_SPREAD, IRON_CONDOR, ZERO_DTE, LONG_OPTIONS})


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


#: The permissions table of the module docstring; change both together.
REGIME_PERMISSIONS: dict[RegimeName, frozenset[str]] = {
    RegimeName.BULL_CALM: frozenset({SHORT_STRANGLE, CREDIT_SPREAD, ZERO_DTE, LONG_OPTIONS}),
    RegimeName.BULL_VOLATILE: frozenset({SHORT_STRANGLE, CREDIT_SPREAD}),
    RegimeName.RANGE_CALM: frozenset({SHORT_STRANGLE, CREDIT_SPREAD, IRON_CONDOR, ZERO_DTE}),
    RegimeName.RANGE_VOLATILE: frozenset({SHORT_STRANGLE, CREDIT_SPREAD, IRON_CONDOR}),
    RegimeName.BEAR_CALM: frozenset({CREDIT_SPREAD, LONG_OPTIONS}),
    RegimeName.BEAR_VOLATILE: frozenset({CREDIT_SPREAD}),
    RegimeName.CRISIS: frozenset(),
}

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

    def allows(self, strategy: str) -> bool:
        """Whether `strategy` may open positions in this regime; unknown names are an error."""
        if strategy not in STRATEGY_NAMES:
            raise RegimeError(f"unknown strategy {strategy!r}; known: {sorted(STRATEGY_NAMES)}")
        return strategy in self.permissions


def trend_of(close: float, sma_fast: float, sma_slow: float, band: float) -> Trend:
    """UP needs the bullish stack close > fast > slow; DOWN only the close below both averages.

    Each comparison must clear the band. DOWN does not wait for the fast average to cross under
    the slow one, so a crash counts at once (on 2020-03-16 the 50-day was still above the 200-day).
    """
    if close > sma_fast * (1 + band) and sma_fast > sma_slow * (1 + band):
        return Trend.UP
    if close < sma_fast * (1 - band) and close < sma_slow * (1 - band):
        return Trend.DOWN
    return Trend.SIDEWAYS


def vol_level_of(vix: float, params: RegimeParams) -> VolLevel:
    """VIX bucket: LOW below vix_low, EXTREME at or above vix_extreme, HIGH at or above vix_high."""
    if vix >= params.vix_extreme:
        return VolLevel.EXTREME
    if vix >= params.vix_high:
        return VolLevel.HIGH
    if vix >= params.vix_low:
        return VolLevel.NORMAL
    return VolLevel.LOW


def regime_name(trend: Trend, vol_level: VolLevel) -> RegimeName:
    """EXTREME volatility is a crisis whatever the trend; otherwise trend × (calm or volatile)."""
    if vol_level is VolLevel.EXTREME:
        return RegimeName.CRISIS
    return _NAMES[(trend, vol_level is VolLevel.HIGH)]


def classify_regime(
    closes: pd.Series, vix: float, iv_rank: float | None, params: RegimeParams
) -> MarketRegime:
    """Classify the session whose close is the last of `closes` (daily closes, oldest first)."""
    if len(closes) < params.slow_window:
        raise RegimeError(
            f"regime needs at least slow_window={params.slow_window} daily closes, got {len(closes)}"
        )
    recent = closes.iloc[-params.slow_window :]
    bad = recent.loc[~(np.isfinite(recent) & (recent > 0))]
    if not bad.empty:
        raise RegimeError(f"close must be positive and finite, got {float(bad.iloc[0])} at {bad.index[0]}")
    if not (math.isfinite(vix) and vix > 0):
        raise RegimeError(f"vix must be positive and finite, got {vix!r}")
    if iv_rank is not None and not 0 <= iv_rank <= 100:
        raise RegimeError(f"iv_rank must be within [0, 100], got {iv_rank!r}")
    close = float(closes.iloc[-1])
    sma_fast = float(sma(recent, params.fast_window).iloc[-1])
    sma_slow = float(sma(recent, params.slow_window).iloc[-1])
    trend = trend_of(close, sma_fast, sma_slow, params.trend_band)
    vol_level = vol_level_of(vix, params)
    name = regime_name(trend, vol_level)
    return MarketRegime(
        name=name,
        trend=trend,
        vol_level=vol_level,
        close=close,
        sma_fast=sma_fast,
        sma_slow=sma_slow,
        vix=vix,
        iv_rank=iv_rank,
        permissions=REGIME_PERMISSIONS[name],
    )
