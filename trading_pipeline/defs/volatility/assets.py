"""Volatility assets: realized vol, the 30-day implied-vol history, IV rank / percentile and dealer GEX."""

import math
from datetime import date, datetime

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.market_data.recorded_iv import recorded_iv, recorded_source
from trading_pipeline.core import iv_history, realized
from trading_pipeline.core import volatility as vol
from trading_pipeline.core.calendar import previous_session, session_close, sessions_ending
from trading_pipeline.core.gamma_exposure import DealerPositioning, gamma_exposure
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import LedgerResource, MarketDataResource, TradingConfigResource

#: Metadata key prefix per realized-vol estimate (rv_SPY stays the close-to-close one).
RV_METADATA = {
    "rv": "realized_vol",
    "rv_parkinson": "parkinson_vol",
    "rv_garman_klass": "garman_klass_vol",
    "rv_yang_zhang": "yang_zhang_vol",
}


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


def session_values(bars: pd.DataFrame, column: str) -> pd.DataFrame:
    """One column of underlying_bars (close, high, ...) per symbol, indexed by session (a Timestamp)."""
    values = bars.pivot(index="session", columns="symbol", values=column).sort_index()
    values.index = pd.DatetimeIndex(values.index)
    return values


def session_closes(bars: pd.DataFrame) -> pd.DataFrame:
    """Daily closes from underlying_bars: one column per symbol, indexed by session (a Timestamp)."""
    return session_values(bars, "close")


def _proxy(underlying: str, closes: pd.DataFrame, volatility_index: str) -> pd.DataFrame:
    """The documented proxy of one underlying's IV history from the daily closes (core/iv_history)."""
    if underlying in iv_history.VIX_UNDERLYINGS:
        return iv_history.vix_proxy(underlying, closes[volatility_index])
    return iv_history.vix_proxy(
        underlying, closes[volatility_index], closes[underlying], closes[iv_history.PROXY_INDEX_SYMBOL]
    )


def _to_record(
    history: pd.DataFrame, known: dict[date, iv_history.IvObservation]
) -> dict[date, iv_history.IvObservation]:
    """Derived observations (recorded or proxy) the ledger does not hold yet, or holds differently."""
    rows = {}
    for row in history.itertuples():
        if row.source == iv_history.MISSING_SOURCE or iv_history.is_own(row.source):
            continue  # an own value used is already in the ledger
        held = known.get(row.session)
        # A rolling window one session later moves the scaled proxy in its last bits: not a new value.
        if held is None or held.source != row.source or not math.isclose(held.iv, row.iv, rel_tol=1e-9):
            rows[row.session] = iv_history.IvObservation(row.iv, row.source, session_close(row.session))
    return rows


def _other_measure(
    context: dg.AssetExecutionContext, chain: pd.DataFrame, now: datetime, measure: iv_history.IvMeasure
) -> float:
    """A 30-day IV measure shown beside the deciding one; NaN (logged) where the chain cannot give it."""
    try:
        return iv_history.chain_iv_30d(chain, now, measure)
    except ValueError as exc:
        context.log.info(f"no {measure.value} 30-day IV for the metadata: {exc}")
        return float("nan")


@dg.asset(partitions_def=session_partitions, group_name="volatility", compute_kind="pandas")
def implied_vol_history(
    context: dg.AssetExecutionContext,
    option_chains: pd.DataFrame,
    underlying_bars: pd.DataFrame,
    market_data: MarketDataResource,
    ledger: LedgerResource,
    trading_config: TradingConfigResource,
) -> pd.DataFrame:
    """30-day IV per session over the lookback, each labelled with its source: today's measured on the live
    chain, past ones from the ledger's own observations, then the recorded history, then the VIX proxy.
    Today's observation and every derived one are recorded in the ledger with their source."""
    config = trading_config.load()
    settings = config.volatility
    session = session_of_partition(context)
    now = decision_time_of(context, config)
    past = sessions_ending(previous_session(session), settings.iv_lookback_sessions - 1)
    closes = session_closes(underlying_bars)
    store = ledger.ledger()
    provider = market_data.client().name
    frames = []
    measures: dict[str, float] = {}
    for underlying in config.universe.underlyings:
        chain = option_chains[option_chains["underlying"] == underlying]
        today = iv_history.IvObservation(
            iv_history.chain_iv_30d(chain, now, settings.iv_measure),
            iv_history.own_source(settings.iv_measure.value, provider),
            now,
        )
        for measure in iv_history.IvMeasure:
            value = (
                today.iv if measure is settings.iv_measure else _other_measure(context, chain, now, measure)
            )
            measures[f"{measure.value}_iv_30d_{underlying}"] = value
        known = store.iv_observations(underlying, past[0], session)
        recorded = None
        if settings.recorded_history is not None:
            values = recorded_iv(settings.recorded_history, underlying, past[0], past[-1])
            recorded = (recorded_source(settings.recorded_history), values)
        past_ledger = {d: o for d, o in known.items() if d != session}
        history = iv_history.iv_history_of(
            past,
            past_ledger,
            recorded,
            _proxy(underlying, closes, config.universe.volatility_index),
            settings.iv_measure,
        )
        unchanged = known.get(session) == today
        store.record_iv_observations(
            underlying,
            {**_to_record(history, past_ledger), **({} if unchanged else {session: today})},
            trusted=iv_history.own_prefix(settings.iv_measure),
        )
        today_row = pd.DataFrame([{"session": session, "iv": today.iv, "source": today.source}])
        frames.append(pd.concat([history, today_row], ignore_index=True).assign(underlying=underlying))
    result = pd.concat(frames, ignore_index=True)[["underlying", "session", "iv", "source"]]
    counts = result.groupby(["underlying", "source"]).size()
    context.add_output_metadata(
        {
            "observations": len(result),
            "iv_measure": settings.iv_measure.value,
            "sources": dg.MetadataValue.json({f"{u} {src}": int(n) for (u, src), n in counts.items()}),
            **measures,
            **{
                f"iv_30d_{row.underlying}": float(row.iv)
                for row in result.loc[result["session"] == session].itertuples()
            },
        }
    )
    return result


@dg.asset(partitions_def=session_partitions, group_name="volatility", compute_kind="pandas")
def iv_rank(
    context: dg.AssetExecutionContext,
    implied_vol_history: pd.DataFrame,
    trading_config: TradingConfigResource,
) -> pd.DataFrame:
    """IV rank and IV percentile of today's 30-day IV against the lookback history (finite past values)."""
    minimum = trading_config.load().volatility.min_iv_observations
    session = session_of_partition(context)
    rows = []
    for underlying, frame in implied_vol_history.groupby("underlying"):
        current = float(frame.loc[frame["session"] == session, "iv"].iloc[0])
        history = frame.loc[frame["session"] != session, "iv"]
        rows.append(
            {
                "underlying": underlying,
                "iv_30d": current,
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
            **{f"iv_30d_{r.underlying}": float(r.iv_30d) for r in ranks.itertuples()},
        }
    )
    return ranks


#: The zero-gamma scan of the session graph: 81 spots over +-20% (0.5% steps, the level interpolated
#: linearly between them), a fifth of the library default's 401 re-pricings on every tick.
GEX_SCAN_POINTS = 81
POSITIONING_CODES = {
    DealerPositioning.SHORT_GAMMA: -1,
    DealerPositioning.NEAR_FLIP: 0,
    DealerPositioning.LONG_GAMMA: 1,
}


@dg.asset(partitions_def=session_partitions, group_name="volatility", compute_kind="numpy")
def dealer_gamma_exposure(context: dg.AssetExecutionContext, option_chains: pd.DataFrame) -> pd.DataFrame:
    """Dealer gamma exposure of every underlying's chain (core/gamma_exposure.py convention: dealers long
    calls, short puts): net, call and put GEX, the zero-gamma level and the positioning label."""
    rows = []
    for underlying, chain in option_chains.groupby("underlying"):
        gex = gamma_exposure(chain, scan_points=GEX_SCAN_POINTS)
        rows.append(
            {
                "underlying": str(underlying),
                "spot": gex.spot,
                "net_gex": gex.net_gex,
                "call_gex": gex.call_gex,
                "put_gex": gex.put_gex,
                "zero_gamma_level": gex.zero_gamma_level
                if gex.zero_gamma_level is not None
                else float("nan"),
                "positioning": gex.positioning.value,
                "positioning_code": POSITIONING_CODES[gex.positioning],
                "contracts_used": gex.contracts_used,
            }
        )
    frame = pd.DataFrame(rows)
    context.add_output_metadata(
        {
            **{f"net_gex_usd_bn_{r.underlying}": round(r.net_gex / 1e9, 4) for r in frame.itertuples()},
            **{f"zero_gamma_level_{r.underlying}": float(r.zero_gamma_level) for r in frame.itertuples()},
            **{f"positioning_code_{r.underlying}": int(r.positioning_code) for r in frame.itertuples()},
            "positioning": dg.MetadataValue.json({r.underlying: r.positioning for r in frame.itertuples()}),
        }
    )
    return frame
