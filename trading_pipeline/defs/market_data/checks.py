"""Blocking data-quality checks on option chains: a failure stops every broker-touching step."""

import dagster as dg
import pandas as pd

from trading_pipeline.core.chain_quality import (
    gap_around_spot,
    max_quote_age_seconds,
    strikes_each_side,
    unsolvable_near_money,
)
from trading_pipeline.defs.expectations import chain_quote_expectations, validate_frame
from trading_pipeline.defs.market_data.assets import option_chains
from trading_pipeline.defs.partitions import decision_time_of, session_partitions
from trading_pipeline.defs.resources import TradingConfigResource

_BLOCKING = {"asset": option_chains, "blocking": True, "partitions_def": session_partitions}


@dg.asset_check(**_BLOCKING)
def chain_quotes_not_crossed(option_chains: pd.DataFrame) -> dg.AssetCheckResult:
    """Great-expectations suite: bids and asks present, non-negative, ask >= bid, unique symbols."""
    columns = ["occ_symbol", "strike", "right", "bid", "ask"]
    outcome = validate_frame(option_chains[columns], "chain_quotes", chain_quote_expectations())
    crossed = int((option_chains["bid"] > option_chains["ask"]).sum())
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"crossed_quotes": crossed, "failures": dg.MetadataValue.json(outcome.failures)},
    )


@dg.asset_check(**_BLOCKING)
def chain_quotes_fresh(
    context: dg.AssetCheckExecutionContext, option_chains: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Every quote is younger than the configured maximum age at the decision time."""
    config = trading_config.load()
    now = decision_time_of(context, config)
    age = max_quote_age_seconds(option_chains, now)
    limit = config.data_quality.max_quote_age_seconds
    return dg.AssetCheckResult(
        passed=bool(not option_chains.empty and age <= limit),
        metadata={"oldest_quote_age_seconds": age, "limit_seconds": limit, "contracts": len(option_chains)},
    )


@dg.asset_check(**_BLOCKING)
def chain_complete_around_spot(
    option_chains: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Every expiration quotes enough strikes on each side of spot, with no hole around spot."""
    quality = trading_config.load().data_quality
    counts = strikes_each_side(option_chains).merge(gap_around_spot(option_chains), how="outer")
    thin = counts[
        (counts["below"] < quality.min_strikes_each_side)
        | (counts["above"] < quality.min_strikes_each_side)
        | (counts["gap_spacings"] > quality.max_spot_gap_spacings)
    ]
    return dg.AssetCheckResult(
        passed=bool(not counts.empty and thin.empty),
        metadata={
            "expirations": len(counts),
            "incomplete_expirations": len(thin),
            "min_strikes_each_side": quality.min_strikes_each_side,
            "max_spot_gap_spacings": quality.max_spot_gap_spacings,
            "fewest_below": int(counts["below"].min()) if not counts.empty else 0,
            "fewest_above": int(counts["above"].min()) if not counts.empty else 0,
            "widest_spot_gap_spacings": float(counts["gap_spacings"].max()) if not counts.empty else 0.0,
        },
    )


@dg.asset_check(**_BLOCKING)
def chain_iv_solvable(
    option_chains: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Implied vol solves from the mid for near-the-money quotes (a failure means prices are off)."""
    limit = trading_config.load().data_quality.max_iv_unsolvable_fraction
    unsolved, total = unsolvable_near_money(option_chains)
    fraction = unsolved / total if total else 1.0
    return dg.AssetCheckResult(
        passed=bool(total > 0 and fraction <= limit),
        metadata={
            "near_money_quotes": total,
            "unsolvable": unsolved,
            "unsolvable_fraction": fraction,
            "limit": limit,
        },
    )
