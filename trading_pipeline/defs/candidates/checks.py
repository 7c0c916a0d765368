"""Blocking check on candidates: each structure judged by its own rules (core/candidates.py)."""

import dagster as dg

from trading_pipeline.core.candidates import TradeCandidate, candidate_problems
from trading_pipeline.defs.candidates.assets import trade_candidates
from trading_pipeline.defs.partitions import session_partitions


@dg.asset_check(asset=trade_candidates, blocking=True, partitions_def=session_partitions)
def candidates_well_formed(trade_candidates: list[TradeCandidate]) -> dg.AssetCheckResult:
    """Every candidate's legs, prices and risk figures are consistent before risk review."""
    problems = {c.key: candidate_problems(c) for c in trade_candidates}
    problems = {key: found for key, found in problems.items() if found}
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"candidates": len(trade_candidates), "problems": dg.MetadataValue.json(problems)},
    )
