"""Blocking check on approved orders: limits hold, the kill switch is off, the trading state allows entries
and the mode is allowed."""

import dagster as dg

from trading_pipeline.core.risk import exposure_reasons
from trading_pipeline.core.trading_state import TradingState
from trading_pipeline.defs.partitions import session_partitions
from trading_pipeline.defs.resources import TradingConfigResource
from trading_pipeline.defs.risk.assets import RiskReview, risk_approved_orders
from trading_pipeline.settings import ConfigError, EnvSettings, PipelineConfig, check_environment


def approval_problems(review: RiskReview, config: PipelineConfig, settings: EnvSettings) -> list[str]:
    """Every reason the approved intents must not reach a broker (empty when all is well)."""
    problems = []
    if review.intents:
        if config.risk.kill_switch:
            problems.append(f"kill switch is on but {len(review.intents)} orders are approved")
        try:
            check_environment(settings)
        except ConfigError as exc:
            problems.append(f"mode guard: {exc}")
    approved_ids = {d.decision_id for d in review.decisions if d.approved}
    fresh = [i for i in review.intents if i.tags.get("decision_id") not in review.replayed]
    if review.entries_blocked and fresh:
        problems.append(f"{len(fresh)} new entries approved while {review.entries_blocked}")
    if review.trading_state is TradingState.HALTED and fresh:
        problems.append(f"{len(fresh)} new entries approved while HALTED ({review.trading_state_cause})")
    if fresh and review.state is not None and review.after is not None:
        # The book after this run's approvals: beyond a budget only where the approvals made it no worse.
        equity = float(review.state.equity)
        for problem in exposure_reasons(review.state.exposure, review.after.exposure, equity, config.risk):
            problems.append(f"book after approvals: {problem}")
        used, limit = review.after.buying_power_used, config.risk.max_allocation_pct
        if review.state.equity > 0 and float(used / review.state.equity * 100) > limit:
            problems.append(f"book after approvals: buying power {used} is over {limit:g}% of equity")
    for intent in review.intents:
        if intent.quantity > config.risk.max_contracts_per_order:
            limit = config.risk.max_contracts_per_order
            problems.append(f"{intent.client_order_id}: {intent.quantity} contracts > max {limit}")
        if intent.tags.get("decision_id") not in approved_ids:
            problems.append(f"{intent.client_order_id}: no approved decision recorded for this intent")
    per_strategy: dict[str, int] = {}
    for intent in review.intents:
        per_strategy[intent.strategy] = per_strategy.get(intent.strategy, 0) + 1
    for strategy, count in per_strategy.items():
        if count > config.risk.max_entries_per_session_per_strategy:
            limit = config.risk.max_entries_per_session_per_strategy
            problems.append(f"{strategy}: {count} entries approved > max {limit}")
    return problems


@dg.asset_check(asset=risk_approved_orders, blocking=True, partitions_def=session_partitions)
def approved_orders_within_limits(
    risk_approved_orders: RiskReview, trading_config: TradingConfigResource
) -> dg.AssetCheckResult:
    """No order reaches the broker unless limits hold, the kill switch is off, the mode is allowed and the
    broker reconciles with the ledger."""
    problems = approval_problems(risk_approved_orders, trading_config.load(), EnvSettings())
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"approved": len(risk_approved_orders.intents), "problems": dg.MetadataValue.json(problems)},
    )
