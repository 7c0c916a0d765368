"""Blocking checks on IV rank: enough history and values inside [0, 100]."""

import math

import dagster as dg
import pandas as pd

from trading_pipeline.defs.partitions import session_partitions
from trading_pipeline.defs.resources import TradingConfigResource
from trading_pipeline.defs.volatility.assets import iv_rank


@dg.asset_check(asset=iv_rank, blocking=True, partitions_def=session_partitions)
def iv_rank_history_sufficient_and_in_range(
    iv_rank: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Each underlying has the minimum IV observations, and rank and percentile lie in [0, 100]."""
    minimum = trading_config.load().volatility.min_iv_observations
    problems = []
    for row in iv_rank.itertuples():
        if row.observations < minimum:
            problems.append(f"{row.underlying}: {row.observations} observations < {minimum}")
        for name in ("iv_rank", "iv_percentile", "iv_30d"):
            value = float(getattr(row, name))
            upper = 100.0 if name != "iv_30d" else 5.0
            if not (math.isfinite(value) and 0.0 <= value <= upper):
                problems.append(f"{row.underlying}: {name}={value} outside [0, {upper}]")
    return dg.AssetCheckResult(
        passed=bool(not iv_rank.empty and not problems),
        metadata={"underlyings": len(iv_rank), "problems": dg.MetadataValue.json(problems)},
    )
