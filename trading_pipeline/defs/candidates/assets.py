"""Trade candidates of every enabled strategy, ranked, with the reasons strategies stood aside."""

from collections import Counter

import dagster as dg
import pandas as pd

from trading_pipeline.core.calendar import decision_times
from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.decision import scan
from trading_pipeline.core.regime import MarketRegime
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.registry import strategies_named
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import (
    decision_time_of,
    session_of_partition,
    session_partitions,
    strategies_of,
)
from trading_pipeline.defs.resources import TradingConfigResource


def candidates_table(candidates: list[TradeCandidate]) -> pd.DataFrame:
    """One row per candidate for previews and analytics."""
    return pd.DataFrame(
        [
            {
                "strategy": c.strategy,
                "underlying": c.underlying,
                "legs": " / ".join(
                    f"{leg.side.value} {leg.contract.occ_symbol.replace(' ', '')}" for leg in c.legs
                ),
                "quantity": c.quantity,
                "mid": float(c.mid_value),
                "limit": float(c.limit_price),
                "buying_power": float(c.buying_power),
                "max_loss": float(c.max_loss) if c.max_loss is not None else None,
                "delta_$": round(c.exposure.delta_dollars, 2) if c.exposure else None,
                "theta_$/day": round(c.exposure.theta_per_day, 2) if c.exposure else None,
                "vega_$/pt": round(c.exposure.vega_per_point, 2) if c.exposure else None,
                "worst_stress_$": round(min(c.exposure.stress_pnl), 2) if c.exposure else None,
                "min_oi": c.min_open_interest,
                "pop_%": round(c.odds.probability_of_profit * 100, 1) if c.odds else None,
                "touch_%": round(c.odds.probability_of_touch * 100, 1) if c.odds else None,
                "ev_$": round(c.odds.expected_value, 2) if c.odds else None,
                "score": round(c.score, 4),
            }
            for c in candidates
        ]
    )


@dg.asset(partitions_def=session_partitions, group_name="candidates", compute_kind="python")
def trade_candidates(
    context: dg.AssetExecutionContext,
    option_chains: pd.DataFrame,
    iv_rank: pd.DataFrame,
    market_regime: MarketRegime,
    trading_config: TradingConfigResource,
) -> list[TradeCandidate]:
    """Every enabled strategy's candidates (only those the run's strategies tag names, when it has one) on
    the chains, IV ranks and regime, ranked by score: the top N (scanner.top_n) go on to risk; the metadata
    names each one cut and why."""
    config = trading_config.load()
    strategies = strategies_named(config.strategies.build(), strategies_of(context))
    strategy_context = StrategyContext(
        now=decision_time_of(context, config),
        chains=option_chains,
        iv_ranks=iv_rank.set_index("underlying")["iv_rank"].to_dict(),
        regime=market_regime,
        limit_fraction=config.execution.limit_fraction_of_half_spread,
        decision_times=tuple(
            decision_times(session_of_partition(context), list(config.sessions.decision_times_et))
        ),
    )
    found = scan(strategies, strategy_context, config.risk.stress_scenarios, config.scanner.top_n)
    outcomes, candidates = found.outcomes, list(found.kept)
    proposed: Counter[str] = Counter()
    skipped: dict[str, list[str]] = {}
    for outcome in outcomes:  # a strategy on several underlyings has one outcome each
        proposed[outcome.strategy] += len(outcome.candidates)
        skipped.setdefault(outcome.strategy, []).extend(outcome.skipped)
    context.add_output_metadata(
        {
            "candidates": len(candidates),
            "strategies": dg.MetadataValue.json(sorted({s.name for s in strategies if s.enabled})),
            "cut_by_scanner": len(found.cut),
            **{f"candidates_{name}": count for name, count in proposed.items()},
            "regime": market_regime.name.value,
            "skipped": dg.MetadataValue.json(skipped),
            "preview": table_preview(candidates_table(candidates)),
            "cut": dg.MetadataValue.json(
                [{"strategy": c.strategy, "legs": c.key, "reason": why} for c, why in found.cut]
            ),
        }
    )
    return candidates
