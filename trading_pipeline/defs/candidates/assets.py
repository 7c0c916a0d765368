"""Trade candidates of every enabled strategy, ranked, with the reasons strategies stood aside."""

import dagster as dg
import pandas as pd

from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.regime import MarketRegime
from trading_pipeline.core.strategies.short_strangle import STRATEGY, short_strangle_candidates
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_partitions
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
    """Run each strategy on the chain, IV rank and regime; best score first."""
    config = trading_config.load()
    now = decision_time_of(context, config)
    params = config.strategies.short_strangle
    ranks = iv_rank.set_index("underlying")["iv_rank"]
    if params.underlying not in ranks.index:
        raise ValueError(
            f"strategies.short_strangle.underlying {params.underlying!r} is not in universe.underlyings"
        )
    outcome = short_strangle_candidates(
        option_chains,
        float(ranks[params.underlying]),
        market_regime.allows(STRATEGY),
        market_regime.name.value,
        params,
        config.execution.limit_fraction_of_half_spread,
        now,
        contracts=market_regime.sized(params.contracts),
    )
    candidates = sorted(outcome.candidates, key=lambda c: c.score, reverse=True)
    context.add_output_metadata(
        {
            "candidates": len(candidates),
            "skipped": dg.MetadataValue.json({outcome.strategy: list(outcome.skipped)}),
            "preview": table_preview(candidates_table(candidates)),
        }
    )
    return candidates
