"""The market regime of the session, decided by the daily closes before it (never by the intraday tick),
market-wide from the regime underlying and per traded underlying, with hysteresis (core/regime_history)."""

import dagster as dg
import pandas as pd

from trading_pipeline.core import realized
from trading_pipeline.core.realized import TermStructureShape
from trading_pipeline.core.regime import MarketRegime, RegimeName, Trend
from trading_pipeline.core.regime_history import LEVELS, TERM_SYMBOL, regime_after
from trading_pipeline.defs.partitions import session_partitions
from trading_pipeline.defs.resources import TradingConfigResource
from trading_pipeline.defs.volatility.assets import session_closes, session_values

#: Numeric codes so the UI can plot the regime and its trend (a plot needs numbers, not names).
REGIME_CODES = {name: code for code, name in enumerate(RegimeName)}
TREND_CODES = {Trend.DOWN: -1, Trend.SIDEWAYS: 0, Trend.UP: 1}
SHAPE_CODES = {
    TermStructureShape.CONTANGO: -1,
    TermStructureShape.FLAT: 0,
    TermStructureShape.BACKWARDATION: 1,
}


def _term_structure(closes: pd.DataFrame, volatility_index: str) -> dict[str, float | int | str]:
    """VIX9D/VIX, VIX/VIX3M and the curve's shape at the last close (NaN and "unknown" where an index is
    missing), the shape also as a code for plots (-1 contango, 0 flat, 1 backwardation)."""
    missing = pd.Series(float("nan"), index=closes.index)
    curve = realized.vix_term_structure(
        closes.get("VIX9D", missing), closes[volatility_index], closes.get(TERM_SYMBOL, missing)
    ).iloc[-1]
    shape = None if pd.isna(curve["shape"]) else TermStructureShape(curve["shape"])
    return {
        "vix9d_to_vix": float(curve["vix9d_vix"]),
        "term_shape": shape.value if shape else "unknown",
        "term_shape_code": SHAPE_CODES[shape] if shape else float("nan"),
    }


def _iv_rv_ratios(iv_rank: pd.DataFrame, rv: pd.Series) -> dict[str, float]:
    """Today's 30-day IV over the realized vol of the closes before it, per underlying."""
    iv = iv_rank.set_index("underlying")["iv_30d"]
    ratios = realized.iv_rv_ratio(iv, rv.reindex(iv.index))
    return {f"iv_rv_ratio_{underlying}": float(value) for underlying, value in ratios.items()}


@dg.asset(partitions_def=session_partitions, group_name="regime", compute_kind="python")
def market_regime(
    context: dg.AssetExecutionContext,
    underlying_bars: pd.DataFrame,
    realized_vol: pd.DataFrame,
    iv_rank: pd.DataFrame,
    trading_config: TradingConfigResource,
) -> MarketRegime:
    """The regime after the last closed session, with the permissions and size multiplier the
    configuration grants it; every input that decided it is recorded as a number."""
    config = trading_config.load()
    universe, params = config.universe, config.regime
    closes = session_closes(underlying_bars)
    vix = closes[universe.volatility_index]
    vix3m = closes[TERM_SYMBOL].dropna() if TERM_SYMBOL in closes else None
    highs, lows = (session_values(underlying_bars, column) for column in ("high", "low"))
    by_underlying = {
        u: regime_after(closes[u].dropna(), vix, params, vix3m=vix3m, high=highs[u], low=lows[u]).name
        for u in universe.underlyings
    }
    ranks = iv_rank.set_index("underlying")["iv_rank"]
    rank = float(ranks.get(universe.regime_underlying, float("nan")))
    market = universe.regime_underlying
    regime = regime_after(
        closes[market].dropna(),
        vix,
        params,
        None if pd.isna(rank) else rank,
        by_underlying,
        vix3m,
        highs[market],
        lows[market],
    )
    rv = realized_vol.set_index("symbol")["realized_vol"]
    context.add_output_metadata(
        {
            "regime": regime.name.value,
            "regime_code": REGIME_CODES[regime.name],
            "raw_regime": regime.raw_name.value if regime.raw_name else regime.name.value,
            "regime_sessions": regime.regime_sessions,
            "decided_by_close_of": str(regime.closed_session),
            "trend": regime.trend.value,
            "trend_code": TREND_CODES[regime.trend],
            "vol_level": regime.vol_level.value,
            "vol_level_code": LEVELS.index(regime.vol_level),
            "close": regime.close,
            "sma_fast": regime.sma_fast,
            "sma_slow": regime.sma_slow,
            "vix": regime.vix,
            "vix_to_vix3m": regime.term_ratio,
            "backwardation": int(regime.term_ratio >= params.backwardation_ratio),
            "sma_slow_slope_pct": regime.slow_slope_pct,
            "size_multiplier": regime.size_multiplier,
            "iv_rank": rank,
            "realized_vol": float(rv.get(universe.regime_underlying, float("nan"))),
            "adx": regime.adx,
            "vix_rank": regime.vix_rank,
            **_term_structure(closes, universe.volatility_index),
            **_iv_rv_ratios(iv_rank, rv),
            **{f"regime_code_{u}": REGIME_CODES[name] for u, name in by_underlying.items()},
            "regimes_by_underlying": dg.MetadataValue.json({u: n.value for u, n in by_underlying.items()}),
            "permissions": ", ".join(sorted(regime.permissions)) or "(none)",
        }
    )
    return regime
