"""Blocking data-quality checks on option chains: a failure stops every broker-touching step.

Each check names the offending contracts or expirations (the first few, with totals) in its metadata,
and an empty chain fails every check: there is nothing to trade on and nothing to measure.
"""

import dagster as dg
import pandas as pd

from trading_pipeline.core.chain_quality import (
    QUOTE_CLOCK_SKEW_SECONDS,
    crossed_or_locked_quotes,
    expiration_coverage,
    future_quotes,
    incomplete_expirations,
    listing,
    max_quote_age_seconds,
    missing_underlyings,
    stale_quotes,
    unsolvable_near_money,
)
from trading_pipeline.defs.expectations import chain_quote_expectations, validate_frame
from trading_pipeline.defs.market_data.assets import option_chains
from trading_pipeline.defs.partitions import decision_time_of, session_partitions
from trading_pipeline.defs.resources import TradingConfigResource

_BLOCKING = {"asset": option_chains, "blocking": True, "partitions_def": session_partitions}
_EMPTY_CHAIN = dg.AssetCheckResult(
    passed=False,
    severity=dg.AssetCheckSeverity.ERROR,
    metadata={"contracts": 0, "reason": "the option chain is empty: the provider returned no quotes"},
)


def _listed(rows: pd.DataFrame, columns: list[str]) -> dg.JsonMetadataValue:
    return dg.MetadataValue.json(listing(rows, columns))


@dg.asset_check(**_BLOCKING)
def chain_quotes_not_crossed(option_chains: pd.DataFrame) -> dg.AssetCheckResult:
    """Great-expectations suite: bids and asks present, non-negative, ask > bid (neither crossed nor
    locked at zero width), unique symbols."""
    if option_chains.empty:
        return _EMPTY_CHAIN
    columns = ["occ_symbol", "strike", "right", "bid", "ask"]
    outcome = validate_frame(option_chains[columns], "chain_quotes", chain_quote_expectations())
    offending = crossed_or_locked_quotes(option_chains)
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "crossed_quotes": int((offending["bid"] > offending["ask"]).sum()),
            "locked_quotes": int((offending["bid"] == offending["ask"]).sum()),
            "crossed_or_locked": _listed(offending, ["occ_symbol", "bid", "ask"]),
            "failures": dg.MetadataValue.json(outcome.failures),
        },
    )


@dg.asset_check(**_BLOCKING)
def chain_quotes_fresh(
    context: dg.AssetCheckExecutionContext, option_chains: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Every quote is younger than the configured maximum age at the decision time, and none is stamped
    after it (beyond a second of clock skew): a future quote means a broken clock or a replay leak."""
    if option_chains.empty:
        return _EMPTY_CHAIN
    config = trading_config.load()
    now = decision_time_of(context, config)
    limit = config.data_quality.max_quote_age_seconds
    stale, future = stale_quotes(option_chains, now, limit), future_quotes(option_chains, now)
    return dg.AssetCheckResult(
        passed=bool(stale.empty and future.empty),
        metadata={
            "oldest_quote_age_seconds": max_quote_age_seconds(option_chains, now),
            "limit_seconds": limit,
            "clock_skew_tolerance_seconds": QUOTE_CLOCK_SKEW_SECONDS,
            "contracts": len(option_chains),
            "stale_quotes": len(stale),
            "future_quotes": len(future),
            "stale": _listed(stale, ["occ_symbol", "quote_time"]),
            "future_stamped": _listed(future, ["occ_symbol", "quote_time"]),
        },
    )


@dg.asset_check(**_BLOCKING)
def chain_complete_around_spot(
    option_chains: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Every universe underlying is quoted, and every expiration quotes enough strikes on each side of
    spot with no hole around spot."""
    if option_chains.empty:
        return _EMPTY_CHAIN
    config = trading_config.load()
    quality = config.data_quality
    coverage = expiration_coverage(option_chains)
    thin = incomplete_expirations(coverage, quality.min_strikes_each_side, quality.max_spot_gap_spacings)
    unquoted = missing_underlyings(option_chains, config.universe.underlyings)
    return dg.AssetCheckResult(
        passed=bool(thin.empty and not unquoted),
        metadata={
            "expirations": len(coverage),
            "incomplete_expirations": len(thin),
            "incomplete": _listed(thin, ["underlying", "expiration", "below", "above", "gap_spacings"]),
            "underlyings_without_quotes": dg.MetadataValue.json(unquoted),
            "min_strikes_each_side": quality.min_strikes_each_side,
            "max_spot_gap_spacings": quality.max_spot_gap_spacings,
            "fewest_below": int(coverage["below"].min()),
            "fewest_above": int(coverage["above"].min()),
            "widest_spot_gap_spacings": float(coverage["gap_spacings"].max()),
        },
    )


@dg.asset_check(**_BLOCKING)
def chain_iv_solvable(
    option_chains: pd.DataFrame, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """Implied vol solves from the mid for near-the-money quotes (a failure means prices are off)."""
    if option_chains.empty:
        return _EMPTY_CHAIN
    limit = trading_config.load().data_quality.max_iv_unsolvable_fraction
    unsolved, total = unsolvable_near_money(option_chains)
    fraction = len(unsolved) / total if total else 1.0
    return dg.AssetCheckResult(
        passed=bool(total > 0 and fraction <= limit),
        metadata={
            "near_money_quotes": total,
            "unsolvable": len(unsolved),
            "unsolvable_fraction": fraction,
            "limit": limit,
            "unsolvable_contracts": _listed(unsolved, ["occ_symbol", "bid", "ask", "underlying_price"]),
        },
    )
