"""Market-data assets: daily bars of the universe and the enriched option chains at decision time."""

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.market_data.base import DataCoverage, MarketDataError
from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.core.calendar import previous_session, sessions_ending
from trading_pipeline.core.chain import enrich_chain, normalize_chain
from trading_pipeline.core.chain_quality import newest_quote_age_seconds
from trading_pipeline.core.iv_history import PROXY_INDEX_SYMBOL, PROXY_RV_WINDOW, VIX_UNDERLYINGS
from trading_pipeline.core.regime_history import REGIME_WARMUP_SESSIONS, TERM_SYMBOL
from trading_pipeline.core.trading_state import stale_data_trip
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import (
    LedgerResource,
    MarketDataResource,
    NotifierResource,
    TradingConfigResource,
)
from trading_pipeline.settings import PipelineConfig

#: Vol indices of the term structure, read where the provider has them (VIX9D began 2011, VIX3M 2009-09).
TERM_SYMBOLS = ("VIX9D", TERM_SYMBOL)
#: Extra sessions of bars beyond the longest lookback, so windows are full on the first day.
BAR_MARGIN_SESSIONS = 10


def bar_lookback(config: PipelineConfig) -> int:
    """Sessions of daily bars the volatility and regime assets read: the regime's slow average or VIX rank
    plus its hysteresis warm-up, or the IV lookback plus the proxy's realized-vol window, the longest."""
    regime = max(config.regime.slow_window, config.regime.iv_rank_lookback) + REGIME_WARMUP_SESSIONS
    iv = config.volatility.iv_lookback_sessions + PROXY_RV_WINDOW
    return max(regime, iv) + BAR_MARGIN_SESSIONS


def _proxy_index(underlyings: tuple[str, ...]) -> set[str]:
    """The S&P 500 tracker, when an underlying's VIX proxy is scaled by realized vol against it."""
    scaled = [u for u in underlyings if u not in VIX_UNDERLYINGS]
    return {PROXY_INDEX_SYMBOL} if scaled else set()


@dg.asset(partitions_def=session_partitions, group_name="market_data", compute_kind="pandas")
def underlying_bars(
    context: dg.AssetExecutionContext, market_data: MarketDataResource, trading_config: TradingConfigResource
) -> pd.DataFrame:
    """Daily bars up to the previous session (the current session is not closed at decision time)."""
    config = trading_config.load()
    session = session_of_partition(context)
    lookback = bar_lookback(config)
    last_closed = previous_session(session)
    start = sessions_ending(last_closed, lookback)[0]
    symbols = sorted(
        {
            *config.universe.underlyings,
            config.universe.regime_underlying,
            config.universe.volatility_index,
            *_proxy_index(config.universe.underlyings),
        }
    )
    client = market_data.client()
    frames = [client.daily_bars(symbol, start, last_closed).assign(symbol=symbol) for symbol in symbols]
    unavailable = {}
    for symbol in TERM_SYMBOLS:  # optional: the VIX term structure where the provider has it
        try:
            first = client.coverage(symbol)[0] if isinstance(client, DataCoverage) else start
            bars_from = max(start, first)  # a series beginning inside the lookback is read from its start
            if bars_from > last_closed:
                raise MarketDataError(
                    f"{symbol} begins on {first.isoformat()}, after {last_closed.isoformat()}"
                )
            frames.append(client.daily_bars(symbol, bars_from, last_closed).assign(symbol=symbol))
        except MarketDataError as exc:
            unavailable[symbol] = str(exc)
            context.log.info(f"no {symbol} bars, so no {symbol} in the term structure: {exc}")
    bars = pd.concat(frames).rename_axis("session").reset_index()
    last = bars.sort_values("session").groupby("symbol").tail(1)
    context.add_output_metadata(
        {
            "rows": len(bars),
            "last_session": last_closed.isoformat(),
            **{f"close_{row.symbol}": float(row.close) for row in last.itertuples()},
            "unavailable": dg.MetadataValue.json(unavailable),
        }
    )
    return bars


@dg.asset(
    partitions_def=session_partitions, group_name="market_data", deps=[underlying_bars], compute_kind="pandas"
)
def option_chains(
    context: dg.AssetExecutionContext,
    market_data: MarketDataResource,
    ledger: LedgerResource,
    notifier: NotifierResource,
    trading_config: TradingConfigResource,
) -> pd.DataFrame:
    """Quotes of every universe underlying at the decision time, with solved IV and greeks per contract.

    A provider returning no quotes gives an empty chain, which every blocking check then fails. When even
    the newest quote is older than `risk.stale_data_halt_minutes`, the trading state trips to HALTED."""
    config = trading_config.load()
    now = decision_time_of(context, config)
    client = market_data.client()
    quality = config.data_quality
    frames = [
        normalize_chain(client.option_chain(underlying, now, quality.chain_min_dte, quality.chain_max_dte))
        for underlying in config.universe.underlyings
    ]
    carry = {underlying: client.carry(underlying, now) for underlying in config.universe.underlyings}
    chain = enrich_chain(pd.concat(frames, ignore_index=True), now, carry)
    spots = chain.groupby("underlying")["underlying_price"].first()
    newest_age = newest_quote_age_seconds(chain, now)
    trip = stale_data_trip(
        newest_age, config.risk.stale_data_halt_minutes, session_of_partition(context), now
    )
    if trip is not None and ledger.ledger().record_trading_state(trip):
        notifier.notifier().notify(f"kill switch tripped: {trip.state.value}", trip.cause, Severity.CRITICAL)
    context.add_output_metadata(
        {
            "decision_time": now.isoformat(),
            "newest_quote_age_seconds": newest_age if newest_age is not None else -1.0,
            **{f"rate_{u}": c.rate for u, c in carry.items()},
            **{f"dividend_yield_{u}": c.dividend_yield for u, c in carry.items()},
            "carry_sources": dg.MetadataValue.json(sorted(set(chain["carry_source"]))),
            "contracts": len(chain),
            "expirations": int(chain["expiration"].nunique()),
            **{f"spot_{symbol}": float(price) for symbol, price in spots.items()},
            "preview": table_preview(
                chain.loc[
                    (chain["strike"] / chain["underlying_price"] - 1).abs() < 0.01,
                    ["occ_symbol", "bid", "ask", "iv", "delta", "dte"],
                ]
            ),
        }
    )
    return chain
