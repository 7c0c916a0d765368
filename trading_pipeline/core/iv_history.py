"""Implied-vol history from what a real provider can feed, best source first: the ledger's own
observations, then a recorded history, then a documented proxy (docs/iv_history.md).

The proxy is the VIX for SPX and SPY; for other underlyings the VIX scaled by the ratio of their
realized vol to the S&P 500's over PROXY_RV_WINDOW sessions, as Cboe's VXN (Nasdaq-100) and RVX (Russell
2000) sit above the VIX by roughly that ratio. Every observation keeps the name of its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from trading_pipeline.core.model_free import model_free_vol_30d
from trading_pipeline.core.volatility import VolatilityError, constant_maturity_atm_iv, realized_vol

#: Underlyings whose 30-day IV the VIX itself stands for (it is computed from SPX options).
VIX_UNDERLYINGS = frozenset({"SPX", "SPY", "XSP"})
PROXY_RV_WINDOW = 60
VIX_PROXY_SOURCE = "proxy:VIX"
SCALED_PROXY_SOURCE = f"proxy:VIX x {PROXY_RV_WINDOW}d RV ratio to SPX"
MISSING_SOURCE = "missing"
DEFAULT_LOOKBACK = 252
#: Source prefix of the pipeline's own observations, measured on a chain: `chain:<measure>:<provider>`.
OWN_SOURCE_PREFIX = "chain:"
RECORDED_SOURCE_PREFIX = "recorded:"
#: The S&P 500 tracker whose closes scale the VIX proxy of other underlyings.
PROXY_INDEX_SYMBOL = "SPY"


class IvMeasure(StrEnum):
    """How a chain's 30-day IV is measured: the Cboe VIX method (default) or the ATM IV at 30 days."""

    MODEL_FREE = "model_free"
    ATM = "atm"


@dataclass(frozen=True)
class IvObservation:
    """One session's 30-day IV (decimal), where it came from and when it was observed."""

    iv: float
    source: str
    observed_at: datetime


def own_source(measure: str, provider: str) -> str:
    """The source label of an observation the pipeline measured itself on `provider`'s chain."""
    return f"{OWN_SOURCE_PREFIX}{measure}:{provider}"


def own_prefix(measure: IvMeasure) -> str:
    """The source prefix of own observations in `measure` (any provider)."""
    return own_source(measure.value, "")


def is_own(source: str) -> bool:
    """Whether a source label names one of the pipeline's own chain observations."""
    return source.startswith(OWN_SOURCE_PREFIX)


def vix_proxy(
    underlying: str,
    vix: pd.Series,
    closes: pd.Series | None = None,
    index_closes: pd.Series | None = None,
    window: int = PROXY_RV_WINDOW,
) -> pd.DataFrame:
    """30-day IV proxy per session (decimal) and its source: VIX / 100 for S&P 500 underlyings, scaled by
    the underlying's realized vol over the index's for others (both close series indexed by session)."""
    symbol = underlying.strip().upper()
    level = vix.astype(float) / 100.0
    if symbol in VIX_UNDERLYINGS:
        return pd.DataFrame({"iv": level, "source": VIX_PROXY_SOURCE})
    if closes is None or index_closes is None:
        raise VolatilityError(
            f"a VIX proxy for {symbol} needs its closes and the S&P 500's to scale the VIX by their "
            "realized-vol ratio"
        )
    ratio = realized_vol(closes.astype(float), window) / realized_vol(index_closes.astype(float), window)
    scaled = (level * ratio.reindex(level.index)).dropna()
    return pd.DataFrame({"iv": scaled, "source": SCALED_PROXY_SOURCE})


def assemble_iv_history(
    sessions: Sequence[date], sources: Sequence[tuple[str, Mapping[date, float]]]
) -> pd.DataFrame:
    """IV per session from the first source (name, values by session) holding a finite value for it;
    NaN and MISSING_SOURCE where none does. Columns: session, iv, source."""
    rows = []
    for session in sessions:
        for name, values in sources:
            value = values.get(session)
            if value is not None and np.isfinite(value):
                rows.append((session, float(value), name))
                break
        else:
            rows.append((session, np.nan, MISSING_SOURCE))
    return pd.DataFrame(rows, columns=["session", "iv", "source"])


def rolling_rank_and_percentile(iv: pd.Series, lookback: int = DEFAULT_LOOKBACK) -> pd.DataFrame:
    """IV rank and IV percentile (0-100) of each value against the `lookback` sessions ending with it.

    Rank: where the value sits between the window's low and high (0 for a flat window); percentile: the
    share of the window's earlier values strictly below it. NaN until a full window of finite values.
    """
    if lookback < 2:
        raise VolatilityError(f"IV lookback must be at least 2 sessions, got {lookback}")
    values = iv.to_numpy(dtype=float)
    rank = np.full(values.size, np.nan)
    percentile = np.full(values.size, np.nan)
    if values.size >= lookback:
        windows = sliding_window_view(values, lookback)
        full = np.isfinite(windows).all(axis=1)
        current = windows[:, -1]
        low, high = windows.min(axis=1), windows.max(axis=1)
        span = np.where(high > low, high - low, np.nan)
        ranks = np.where(high > low, (current - low) / span * 100.0, 0.0)
        below = (windows[:, :-1] < current[:, None]).mean(axis=1) * 100.0
        rank[lookback - 1 :] = np.where(full, ranks, np.nan)
        percentile[lookback - 1 :] = np.where(full, below, np.nan)
    return pd.DataFrame({"iv_rank": rank, "iv_percentile": percentile}, index=iv.index)


def chain_iv_30d(chain: pd.DataFrame, now: datetime, measure: IvMeasure) -> float:
    """The 30-day IV of one underlying's enriched chain (core/chain.enrich_chain) at `now` by `measure`;
    the model-free one discounts each expiration at the chain's own rate for it."""
    if measure is IvMeasure.ATM:
        return constant_maturity_atm_iv(chain)
    by_expiration = chain.groupby("expiration")["rate"].first()
    rates = {pd.Timestamp(e).date(): float(r) for e, r in by_expiration.items()}
    return model_free_vol_30d(chain, now, rates).vol


def iv_history_of(
    sessions: Sequence[date],
    ledger: Mapping[date, IvObservation],
    recorded: tuple[str, Mapping[date, float]] | None,
    proxy: pd.DataFrame,
    measure: IvMeasure,
) -> pd.DataFrame:
    """IV per session from the ledger's own observations in `measure`, then the recorded history (name,
    values), then the proxy (vix_proxy's frame); columns session, iv, source. Own rows of another measure
    (ATM ones under model-free, say) would bias the rank and count as absent; derived rows the ledger holds
    are not trusted over a fresh derivation, so a better recorded history replaces an earlier proxy."""
    trusted = own_prefix(measure)
    own_sources = sorted({o.source for o in ledger.values() if o.source.startswith(trusted)})
    tiers: list[tuple[str, Mapping[date, float]]] = [
        (name, {d: o.iv for d, o in ledger.items() if o.source == name}) for name in own_sources
    ]
    if recorded is not None:
        tiers.append(recorded)
    for name, rows in proxy.groupby("source"):
        tiers.append((str(name), {pd.Timestamp(d).date(): float(v) for d, v in rows["iv"].items()}))
    return assemble_iv_history(sessions, tiers)
