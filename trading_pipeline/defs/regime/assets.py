"""The market regime of the session: trend of the regime underlying x volatility level of the VIX."""

from dataclasses import asdict

import dagster as dg
import pandas as pd

from trading_pipeline.core.regime import MarketRegime, classify_regime
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import MarketDataResource, TradingConfigResource


@dg.asset(partitions_def=session_partitions, group_name="regime", compute_kind="python")
def market_regime(
    context: dg.AssetExecutionContext,
    underlying_bars: pd.DataFrame,
    realized_vol: pd.DataFrame,
    iv_rank: pd.DataFrame,
    market_data: MarketDataResource,
    trading_config: TradingConfigResource,
) -> MarketRegime:
    """Classify the regime from past closes plus the price and VIX at the decision time."""
    config = trading_config.load()
    now = decision_time_of(context, config)
    universe = config.universe
    client = market_data.client()
    bars = underlying_bars[underlying_bars["symbol"] == universe.regime_underlying].sort_values("session")
    closes = pd.concat(
        [
            bars.set_index("session")["close"],
            pd.Series([client.spot(universe.regime_underlying, now)], index=[session_of_partition(context)]),
        ]
    )
    ranks = iv_rank.set_index("underlying")["iv_rank"]
    rank = float(ranks.get(universe.regime_underlying, float("nan")))
    regime = classify_regime(
        closes, client.spot(universe.volatility_index, now), None if pd.isna(rank) else rank, config.regime
    )
    rv = realized_vol.set_index("symbol")["realized_vol"]
    context.add_output_metadata(
        {
            "regime": regime.name.value,
            "trend": regime.trend.value,
            "vol_level": regime.vol_level.value,
            "vix": regime.vix,
            "iv_rank": rank,
            "realized_vol": float(rv.get(universe.regime_underlying, float("nan"))),
            "permissions": ", ".join(sorted(regime.permissions)) or "(none)",
            "inputs": dg.MetadataValue.json({k: str(v) for k, v in asdict(regime).items()}),
        }
    )
    return regime
