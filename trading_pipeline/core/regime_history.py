"""The regime of every session from daily closes, made stable by hysteresis (issue 7).

The raw regime of a session is core/regime.py's trend x volatility classification of its close and VIX
close, with the VIX levels as a Schmitt trigger: a level is entered when the VIX reaches its threshold
and left only when the VIX falls `vix_margin` points below it. The regime then changes only after
`confirm_sessions` closes in a row whose raw regime differs from it (`escalate_sessions` when all of them are
more stressed: calm to volatile, risk off), into the raw regime most frequent among them; a crisis starts
at once (trading stops the day the VIX reaches the extreme band). The settings are RegimeParams fields of
the configuration.
Inputs stay numbers, one row per session.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from trading_pipeline.core.indicators import adx, sma
from trading_pipeline.core.iv_history import rolling_rank_and_percentile
from trading_pipeline.core.regime import (
    MarketRegime,
    RegimeError,
    RegimeName,
    RegimeParams,
    Trend,
    VolLevel,
    regime_name,
    trend_of,
)

#: Sessions of regime history before the one that decides, so the hysteresis state has settled (a regime
#: confirmed within them is the one a longer history would give).
REGIME_WARMUP_SESSIONS = 60
#: The 3-month vol index whose ratio to the VIX is the term-structure input (backwardation when VIX is above).
TERM_SYMBOL = "VIX3M"
#: Vol levels in order; a level's index is the number of VIX thresholds at or below the VIX.
LEVELS = (VolLevel.LOW, VolLevel.NORMAL, VolLevel.HIGH, VolLevel.EXTREME)


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


#: How stressed each regime is: a move to a more stressed one is risk-off and confirms faster.
STRESS = {
    RegimeName.BULL_CALM: 0,
    RegimeName.RANGE_CALM: 0,
    RegimeName.BEAR_CALM: 0,
    RegimeName.BULL_VOLATILE: 1,
    RegimeName.RANGE_VOLATILE: 1,
    RegimeName.BEAR_VOLATILE: 1,
    RegimeName.CRISIS: 2,
}


def confirmed(
    raw: list[RegimeName], confirm_sessions: int, escalate_sessions: int | None = None
) -> tuple[list[RegimeName], list[int]]:
    """The regime per session after hysteresis and how many sessions it has held by then: the regime is
    left once `confirm_sessions` closes in a row differ from it (`escalate_sessions` if all were more
    stressed: calm to volatile), into the most frequent raw regime of those closes, the latest on a tie;
    a crisis starts at once. Raw regimes that alternate among several others still end the state."""
    escalate = confirm_sessions if escalate_sessions is None else escalate_sessions
    regimes: list[RegimeName] = []
    held: list[int] = []
    state, age = (raw[0] if raw else None), 0
    differing: list[RegimeName] = []
    for name in raw:
        if name == state:
            differing.clear()
            age += 1
        else:
            differing.append(name)
            stressed = all(STRESS[other] > STRESS[state] for other in differing)  # type: ignore[index]
            if name is RegimeName.CRISIS:
                state, age = name, 1
                differing.clear()
            elif len(differing) >= confirm_sessions or (stressed and len(differing) >= escalate):
                state, age = _most_frequent(differing), 1
                differing.clear()
            else:
                age += 1
        regimes.append(state)  # type: ignore[arg-type]
        held.append(age)
    return regimes, held


def _most_frequent(names: list[RegimeName]) -> RegimeName:
    """The regime that occurs most often in `names`, the latest of those tied."""
    counts = {name: names.count(name) for name in names}
    top = max(counts.values())
    return next(name for name in reversed(names) if counts[name] == top)


def lifted_to_volatile(levels: np.ndarray, stressed: np.ndarray) -> np.ndarray:
    """Vol level indices with a calm level (LOW, NORMAL) raised to HIGH where `stressed`: an inverted term
    structure or a VIX at the top of its year is stress the VIX level alone may not show yet."""
    high = LEVELS.index(VolLevel.HIGH)
    return np.where(stressed & (levels < high), high, levels)


def regime_history(
    closes: pd.Series,
    vix: pd.Series,
    params: RegimeParams,
    vix3m: pd.Series | None = None,
    high: pd.Series | None = None,
    low: pd.Series | None = None,
) -> pd.DataFrame:
    """One row per session with a full slow average and a VIX: close, sma_fast, sma_slow, slow_slope_pct,
    adx (NaN without highs and lows), vix, vix_rank (of the VIX over iv_rank_lookback closes), term_ratio
    (VIX / VIX3M, NaN without a VIX3M), vol_level_index, trend, vol_level, raw_regime, regime and
    regime_sessions (how long it has held)."""
    bad = closes.loc[~(np.isfinite(closes) & (closes > 0))]
    if not bad.empty:
        raise RegimeError(f"close must be positive and finite, got {float(bad.iloc[0])} at {bad.index[0]}")
    prices = closes.astype(float)
    slow = sma(prices, params.slow_window)
    aligned_vix = vix.astype(float).reindex(closes.index).ffill()
    frame = pd.DataFrame(
        {
            "close": prices,
            "sma_fast": sma(prices, params.fast_window),
            "sma_slow": slow,
            "slow_slope_pct": (slow / slow.shift(params.slope_sessions) - 1.0) * 100.0,
            "adx": _adx(high, low, prices, params.adx_window),
            "vix": aligned_vix,
            "vix_rank": rolling_rank_and_percentile(aligned_vix, params.iv_rank_lookback)["iv_rank"],
            "term_ratio": aligned_vix / _aligned(vix3m, closes.index),
        }
    ).dropna(subset=["close", "sma_fast", "sma_slow", "vix"])
    if frame.empty:
        raise RegimeError(
            f"regime history needs at least slow_window={params.slow_window} closes with a VIX, got "
            f"{len(closes)} closes"
        )
    bad_vix = frame.loc[~(frame["vix"] > 0), "vix"]
    if not bad_vix.empty:
        raise RegimeError(
            f"vix must be positive and finite, got {float(bad_vix.iloc[0])} at {bad_vix.index[0]}"
        )
    stressed = (frame["term_ratio"] >= params.backwardation_ratio) | (
        frame["vix_rank"] >= params.iv_rank_volatile
    )
    levels = lifted_to_volatile(
        vol_levels(frame["vix"].to_numpy(), params, params.vix_margin), stressed.to_numpy()
    )
    trends = [
        trend_of(c, f, s, params.trend_band, slope, strength, params.adx_trend_min)
        for c, f, s, slope, strength in zip(
            frame["close"],
            frame["sma_fast"],
            frame["sma_slow"],
            frame["slow_slope_pct"],
            frame["adx"],
            strict=True,
        )
    ]
    raw = [regime_name(t, LEVELS[level]) for t, level in zip(trends, levels, strict=True)]
    regimes, held = confirmed(raw, params.confirm_sessions, params.escalate_sessions)
    return frame.assign(
        vol_level_index=levels,
        trend=[str(t) for t in trends],
        vol_level=[str(LEVELS[level]) for level in levels],
        raw_regime=[str(r) for r in raw],
        regime=[str(r) for r in regimes],
        regime_sessions=held,
    )


def _adx(high: pd.Series | None, low: pd.Series | None, close: pd.Series, window: int) -> pd.Series:
    """Wilder's ADX on the closes' sessions; all NaN without highs and lows."""
    if high is None or low is None:
        return pd.Series(np.nan, index=close.index)
    return adx(
        high.astype(float).reindex(close.index), low.astype(float).reindex(close.index), close, window
    )["adx"]


def _aligned(series: pd.Series | None, index: pd.Index) -> pd.Series:
    """`series` on `index`, carried forward over gaps; all NaN when there is none."""
    if series is None:
        return pd.Series(np.nan, index=index)
    return series.astype(float).reindex(index).ffill()


def flips_per_year(regimes: pd.Series) -> pd.Series:
    """How many times the regime changed in each calendar year of a session-indexed series."""
    changed = (regimes != regimes.shift()).iloc[1:]
    return changed.groupby(changed.index.year).sum().astype(int)


def regime_after(
    closes: pd.Series,
    vix: pd.Series,
    params: RegimeParams,
    iv_rank: float | None = None,
    by_underlying: Mapping[str, RegimeName] | None = None,
    vix3m: pd.Series | None = None,
    high: pd.Series | None = None,
    low: pd.Series | None = None,
) -> MarketRegime:
    """The regime after the last close of `closes` (a session-indexed series): the last row of
    regime_history with its permissions and size multiplier."""
    last = regime_history(closes, vix, params, vix3m, high, low).iloc[-1]
    name = RegimeName(last["regime"])
    return MarketRegime(
        name=name,
        trend=Trend(last["trend"]),
        vol_level=VolLevel(last["vol_level"]),
        close=float(last["close"]),
        sma_fast=float(last["sma_fast"]),
        sma_slow=float(last["sma_slow"]),
        vix=float(last["vix"]),
        iv_rank=iv_rank,
        permissions=params.permissions.get(name, frozenset()),
        size_multiplier=params.size_multipliers[name],
        slow_slope_pct=float(last["slow_slope_pct"]),
        adx=float(last["adx"]),
        vix_rank=float(last["vix_rank"]),
        term_ratio=float(last["term_ratio"]),
        raw_name=RegimeName(last["raw_regime"]),
        regime_sessions=int(last["regime_sessions"]),
        closed_session=pd.Timestamp(last.name).date(),
        by_underlying=dict(by_underlying or {}),
    )


def classify_regime(
    closes: pd.Series, vix: float, iv_rank: float | None, params: RegimeParams, vix3m: float | None = None
) -> MarketRegime:
    """One session's own classification (no hysteresis) from its daily closes (oldest first, the session's
    last) and its VIX (and VIX3M): the regime_history rules applied to that session alone."""
    if len(closes) < params.slow_window:
        raise RegimeError(
            f"regime needs at least slow_window={params.slow_window} daily closes, got {len(closes)}"
        )
    if not (math.isfinite(vix) and vix > 0):
        raise RegimeError(f"vix must be positive and finite, got {vix!r}")
    if iv_rank is not None and not 0 <= iv_rank <= 100:
        raise RegimeError(f"iv_rank must be within [0, 100], got {iv_rank!r}")
    last = closes.index[-1:]
    alone = params.model_copy(update={"confirm_sessions": 1, "escalate_sessions": 1, "vix_margin": 0.0})
    vix3m_series = None if vix3m is None else pd.Series([vix3m], index=last)
    return regime_after(closes, pd.Series([vix], index=last), alone, iv_rank, vix3m=vix3m_series)
