"""The regime of every session from daily closes, made stable by hysteresis (issue 7).

The raw regime of a session is core/regime.py's trend x volatility classification of its close and VIX
close, with the VIX levels as a Schmitt trigger: a level is entered when the VIX reaches its threshold
and left only when the VIX falls `vix_margin` points below it. The regime then changes only when one raw
regime has held `confirm_sessions` sessions in a row, except that a crisis starts at once (trading stops
the day the VIX reaches the extreme band). Inputs stay numbers, one row per session.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from trading_pipeline.core.indicators import sma
from trading_pipeline.core.regime import (
    RegimeError,
    RegimeName,
    RegimeParams,
    VolLevel,
    regime_name,
    trend_of,
)

#: Vol levels in order; a level's index is the number of VIX thresholds at or below the VIX.
LEVELS = (VolLevel.LOW, VolLevel.NORMAL, VolLevel.HIGH, VolLevel.EXTREME)


class RegimeStability(BaseModel):
    """How long a new regime must hold, and how far the VIX must fall back through a threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    confirm_sessions: int = Field(8, ge=1)
    vix_margin: float = Field(2.0, ge=0.0)


def vol_levels(vix: np.ndarray, params: RegimeParams, margin: float) -> np.ndarray:
    """Index into LEVELS per session: up as soon as the VIX reaches a threshold, down once it is `margin`
    below it (a Schmitt trigger on each of vix_low, vix_high, vix_extreme)."""
    thresholds = (params.vix_low, params.vix_high, params.vix_extreme)
    levels = np.empty(vix.size, dtype=np.int64)
    level = int(np.searchsorted(thresholds, vix[0], side="right")) if vix.size else 0
    for i, value in enumerate(vix):
        while level < 3 and value >= thresholds[level]:
            level += 1
        while level > 0 and value < thresholds[level - 1] - margin:
            level -= 1
        levels[i] = level
    return levels


def confirmed(raw: list[RegimeName], confirm_sessions: int) -> tuple[list[RegimeName], list[int]]:
    """The regime per session after hysteresis and how many sessions it has held by then."""
    regimes: list[RegimeName] = []
    held: list[int] = []
    state, candidate, streak, age = raw[0] if raw else None, None, 0, 0
    for name in raw:
        if name == state:
            candidate, streak = None, 0
            age += 1
        else:
            streak = streak + 1 if name == candidate else 1
            candidate = name
            if name is RegimeName.CRISIS or streak >= confirm_sessions:
                state, candidate, streak, age = name, None, 0, 1
            else:
                age += 1
        regimes.append(state)  # type: ignore[arg-type]
        held.append(age)
    return regimes, held


def regime_history(
    closes: pd.Series, vix: pd.Series, params: RegimeParams, stability: RegimeStability
) -> pd.DataFrame:
    """One row per session with a full slow average: close, sma_fast, sma_slow, vix, vol_level_index,
    trend, vol_level, raw_regime, regime and regime_sessions (how long it has held)."""
    bad = closes.loc[~(np.isfinite(closes) & (closes > 0))]
    if not bad.empty:
        raise RegimeError(f"close must be positive and finite, got {float(bad.iloc[0])} at {bad.index[0]}")
    frame = pd.DataFrame(
        {
            "close": closes.astype(float),
            "sma_fast": sma(closes.astype(float), params.fast_window),
            "sma_slow": sma(closes.astype(float), params.slow_window),
            "vix": vix.astype(float).reindex(closes.index).ffill(),
        }
    ).dropna()
    if frame.empty:
        raise RegimeError(
            f"regime history needs at least slow_window={params.slow_window} closes with a VIX, got "
            f"{len(closes)} closes"
        )
    levels = vol_levels(frame["vix"].to_numpy(), params, stability.vix_margin)
    trends = [
        trend_of(c, f, s, params.trend_band)
        for c, f, s in zip(frame["close"], frame["sma_fast"], frame["sma_slow"], strict=True)
    ]
    raw = [regime_name(t, LEVELS[level]) for t, level in zip(trends, levels, strict=True)]
    regimes, held = confirmed(raw, stability.confirm_sessions)
    return frame.assign(
        vol_level_index=levels,
        trend=[str(t) for t in trends],
        vol_level=[str(LEVELS[level]) for level in levels],
        raw_regime=[str(r) for r in raw],
        regime=[str(r) for r in regimes],
        regime_sessions=held,
    )


def flips_per_year(regimes: pd.Series) -> pd.Series:
    """How many times the regime changed in each calendar year of a session-indexed series."""
    changed = (regimes != regimes.shift()).iloc[1:]
    return changed.groupby(changed.index.year).sum().astype(int)
