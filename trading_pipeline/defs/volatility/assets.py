"""Volatility assets: realized vol, the 30-day ATM implied-vol history and IV rank / percentile."""

from datetime import timedelta

import dagster as dg
import pandas as pd

from trading_pipeline.core import realized
from trading_pipeline.core import volatility as vol
from trading_pipeline.core.calendar import previous_session, session_close, sessions_ending
from trading_pipeline.core.chain import enrich_chain, normalize_chain
from trading_pipeline.defs.partitions import session_of_partition, session_partitions
from trading_pipeline.defs.resources import LedgerResource, MarketDataResource, TradingConfigResource

#: Metadata key prefix per realized-vol estimate (rv_SPY stays the close-to-close one).
RV_METADATA = {
    "rv": "realized_vol",
    "rv_parkinson": "parkinson_vol",
    "rv_garman_klass": "garman_klass_vol",
    "rv_yang_zhang": "yang_zhang_vol",
}
#: Expirations around 30 days that the constant-maturity interpolation needs.
HISTORY_MIN_DTE = 7
HISTORY_MAX_DTE = 60


@dg.asset(partitions_def=session_partitions, group_name="volatility", compute_kind="pandas")
def realized_vol(
    underlying_bars: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.Output[pd.DataFrame]:
    """Annualized realized vol of every symbol over the configured window: close-to-close (what decides)
    and the range-based Parkinson, Garman-Klass and Yang-Zhang estimators beside it."""
    window = trading_config.load().volatility.realized_vol_window
    rows = []
    for symbol, bars in underlying_bars.groupby("symbol"):
        ordered = bars.sort_values("session").set_index("session")
        ohlc = (ordered["open"], ordered["high"], ordered["low"], ordered["close"])
        estimates = {
            "realized_vol": vol.realized_vol(ordered["close"], window),
            "parkinson_vol": realized.parkinson_vol(ordered["high"], ordered["low"], window),
            "garman_klass_vol": realized.garman_klass_vol(*ohlc, window),
            "yang_zhang_vol": realized.yang_zhang_vol(*ohlc, window),
        }
        rows.append(
            {"symbol": symbol, **{k: float(v.iloc[-1]) for k, v in estimates.items()}, "window": window}
        )
    frame = pd.DataFrame(rows)
    metadata = {
        f"{prefix}_{r.symbol}": float(getattr(r, column))
        for r in frame.itertuples()
        for prefix, column in RV_METADATA.items()
    }
    return dg.Output(frame, metadata=metadata)


def _closed_session_atm_iv(market_data: MarketDataResource, underlying: str, session: pd.Timestamp) -> float:
    """30-day ATM IV from the near-the-money quotes one minute before a past session's close."""
    at = session_close(session.date()) - timedelta(minutes=1)
    client = market_data.client()
    quotes = vol.near_the_money(
        normalize_chain(client.option_chain(underlying, at, HISTORY_MIN_DTE, HISTORY_MAX_DTE))
    )
    chain = enrich_chain(quotes, at, {underlying: client.carry(underlying, at)})
    return vol.constant_maturity_atm_iv(chain)


@dg.asset(partitions_def=session_partitions, group_name="volatility", compute_kind="pandas")
def implied_vol_history(
    context: dg.AssetExecutionContext,
    option_chains: pd.DataFrame,
    market_data: MarketDataResource,
    ledger: LedgerResource,
    trading_config: TradingConfigResource,
) -> pd.DataFrame:
    """30-day ATM IV per session over the lookback: today's from the live chain, past ones from the
    ledger, computing (and recording) any past session the ledger does not have yet."""
    config = trading_config.load()
    session = session_of_partition(context)
    past = sessions_ending(previous_session(session), config.volatility.iv_lookback_sessions - 1)
    store = ledger.ledger()
    rows = []
    computed_total = 0
    for underlying in config.universe.underlyings:
        known = store.iv_observations(underlying, past[0], past[-1])
        missing = [d for d in past if d not in known]
        computed = {d: _closed_session_atm_iv(market_data, underlying, pd.Timestamp(d)) for d in missing}
        if computed:
            store.record_iv_observations(underlying, computed, source=market_data.client().name)
        computed_total += len(computed)
        values = {**known, **computed}
        today = vol.constant_maturity_atm_iv(option_chains[option_chains["underlying"] == underlying])
        rows += [{"underlying": underlying, "session": d, "atm_iv_30d": values[d]} for d in past]
        rows.append({"underlying": underlying, "session": session, "atm_iv_30d": today})
    history = pd.DataFrame(rows)
    context.add_output_metadata({"observations": len(history), "computed_from_chains": computed_total})
    return history


@dg.asset(partitions_def=session_partitions, group_name="volatility", compute_kind="pandas")
def iv_rank(
    context: dg.AssetExecutionContext,
    implied_vol_history: pd.DataFrame,
    trading_config: TradingConfigResource,
) -> pd.DataFrame:
    """IV rank and IV percentile of today's 30-day ATM IV against the lookback history."""
    minimum = trading_config.load().volatility.min_iv_observations
    session = session_of_partition(context)
    rows = []
    for underlying, frame in implied_vol_history.groupby("underlying"):
        current = float(frame.loc[frame["session"] == session, "atm_iv_30d"].iloc[0])
        history = frame.loc[frame["session"] != session, "atm_iv_30d"]
        rows.append(
            {
                "underlying": underlying,
                "atm_iv_30d": current,
                "iv_rank": vol.iv_rank(history, current, min_observations=minimum),
                "iv_percentile": vol.iv_percentile(history, current, min_observations=minimum),
                "observations": int(history.notna().sum()),
            }
        )
    ranks = pd.DataFrame(rows)
    context.add_output_metadata(
        {
            **{f"iv_rank_{r.underlying}": float(r.iv_rank) for r in ranks.itertuples()},
            **{f"iv_percentile_{r.underlying}": float(r.iv_percentile) for r in ranks.itertuples()},
            **{f"iv_observations_{r.underlying}": int(r.observations) for r in ranks.itertuples()},
            **{f"atm_iv_{r.underlying}": float(r.atm_iv_30d) for r in ranks.itertuples()},
        }
    )
    return ranks
