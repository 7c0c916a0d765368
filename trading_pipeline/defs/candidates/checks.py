"""Blocking check on candidates: valid OCC legs, credit/debit sign, finite risk and sane limits."""

import dagster as dg

from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.instruments import OccSymbolError, OptionContract
from trading_pipeline.defs.candidates.assets import trade_candidates
from trading_pipeline.defs.partitions import session_partitions


def candidate_problems(candidate: TradeCandidate) -> list[str]:
    """Everything structurally wrong with one candidate (empty when it is well formed)."""
    problems = []
    for leg in candidate.legs:
        try:
            if OptionContract.from_occ(leg.contract.occ_symbol) != leg.contract:
                problems.append(f"{leg.contract.occ_symbol}: OCC round trip changes the contract")
        except OccSymbolError as exc:
            problems.append(str(exc))
    sells_premium = all(leg.side.sign < 0 for leg in candidate.legs)
    if sells_premium and candidate.mid_value >= 0:
        problems.append(f"short premium structure must be a credit, mid value {candidate.mid_value}")
    if not candidate.natural_value >= candidate.limit_price >= candidate.mid_value:
        problems.append(
            f"limit {candidate.limit_price} must lie between mid {candidate.mid_value} "
            f"and natural {candidate.natural_value}"
        )
    if not candidate.buying_power > 0:
        problems.append(f"buying power {candidate.buying_power} must be positive and finite")
    if candidate.max_loss is not None and not candidate.max_loss > 0:
        problems.append(f"max loss {candidate.max_loss} must be positive and finite")
    return problems


@dg.asset_check(asset=trade_candidates, blocking=True, partitions_def=session_partitions)
def candidates_well_formed(trade_candidates: list[TradeCandidate]) -> dg.AssetCheckResult:
    """Every candidate's legs, prices and risk figures are consistent before risk review."""
    problems = {c.key: candidate_problems(c) for c in trade_candidates}
    problems = {key: found for key, found in problems.items() if found}
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"candidates": len(trade_candidates), "problems": dg.MetadataValue.json(problems)},
    )
