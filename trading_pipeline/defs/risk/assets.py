"""Risk review: candidates become approved order intents or recorded rejections with reasons.

Every verdict is recorded in the ledger under a deterministic decision id; a rerun replays the
recorded verdict instead of judging again against a ledger that already holds its own order.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.decisions import Decision, DecisionKind, make_decision_id
from trading_pipeline.core.orders import OrderIntent, PositionEffect, make_client_order_id
from trading_pipeline.core.risk import PortfolioState, RiskDecision, review_candidates
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import LedgerResource, TradingConfigResource
from trading_pipeline.settings import PipelineConfig

BUYING_POWER_TAG = "buying_power_per_unit"


@dataclass(frozen=True)
class RiskReview:
    """The approved intents of a run and every decision (approved or not) behind them."""

    intents: tuple[OrderIntent, ...]
    decisions: tuple[Decision, ...]


def portfolio_state(ledger: Ledger, config: PipelineConfig, session: date) -> PortfolioState:
    """Equity, buying power in use and position counts from the ledger (the source of truth)."""
    positions = ledger.positions(open_only=False)
    open_positions = [p for p in positions if p.quantity > 0]
    pnl = account_pnl(positions, ledger.latest_marks(), config.account.starting_equity)
    intents = {intent.client_order_id: intent for intent, _ in ledger.intents()}
    used = sum(
        (
            Decimal(intents[p.position_id].tags.get(BUYING_POWER_TAG, "0")) * p.quantity
            for p in open_positions
            if p.position_id in intents
        ),
        Decimal(0),
    )
    entries = Counter(
        intent.strategy for intent, _ in ledger.intents(session) if intent.effect is PositionEffect.OPEN
    )
    return PortfolioState(
        equity=pnl.equity,
        buying_power_used=used,
        open_positions=Counter(p.strategy for p in open_positions),
        entries_this_session=entries,
    )


def _intent(candidate: TradeCandidate, session: date, now: datetime, decision_id: str) -> OrderIntent:
    return OrderIntent(
        client_order_id=make_client_order_id(
            candidate.strategy, session, candidate.key, candidate.legs, PositionEffect.OPEN
        ),
        strategy=candidate.strategy,
        session=session,
        decision_time=now,
        underlying=candidate.underlying,
        legs=candidate.legs,
        quantity=candidate.quantity,
        limit_price=candidate.limit_price,
        effect=PositionEffect.OPEN,
        reason=candidate.rationale,
        tags={BUYING_POWER_TAG: str(candidate.buying_power), "decision_id": decision_id},
    )


def _decision(
    verdict: RiskDecision, session: date, now: datetime, decision_id: str, client_id: str
) -> Decision:
    candidate = verdict.candidate
    return Decision(
        decision_id=decision_id,
        session=session,
        decided_at=now,
        strategy=candidate.strategy,
        underlying=candidate.underlying,
        kind=DecisionKind.ENTRY,
        approved=verdict.approved,
        reasons=verdict.reasons or (candidate.rationale,),
        client_order_id=client_id if verdict.approved else None,
        details={
            "legs": candidate.key,
            "limit_price": str(candidate.limit_price),
            "buying_power": str(candidate.buying_power),
            **candidate.details,
        },
    )


@dg.asset(partitions_def=session_partitions, group_name="risk", compute_kind="python")
def risk_approved_orders(
    context: dg.AssetExecutionContext,
    trade_candidates: list[TradeCandidate],
    ledger: LedgerResource,
    trading_config: TradingConfigResource,
) -> RiskReview:
    """Approve or reject each candidate against the limits, recording every verdict once."""
    config = trading_config.load()
    session = session_of_partition(context)
    now = decision_time_of(context, config)
    store = ledger.ledger()
    decision_ids = {
        c.key: make_decision_id(c.strategy, session, DecisionKind.ENTRY, c.key) for c in trade_candidates
    }
    recorded = {key: store.decision(decision_id) for key, decision_id in decision_ids.items()}
    fresh = [c for c in trade_candidates if recorded[c.key] is None]
    verdicts = review_candidates(fresh, portfolio_state(store, config, session), config.risk)
    decisions = {key: d for key, d in recorded.items() if d is not None}
    intents = []
    for verdict in verdicts:
        candidate = verdict.candidate
        intent = _intent(candidate, session, now, decision_ids[candidate.key])
        decision = _decision(verdict, session, now, decision_ids[candidate.key], intent.client_order_id)
        store.record_decision(decision)
        decisions[candidate.key] = decision
    for candidate in trade_candidates:
        decision = decisions[candidate.key]
        if decision.approved:
            intents.append(_intent(candidate, session, decision.decided_at, decision.decision_id))
    review = RiskReview(tuple(intents), tuple(decisions[c.key] for c in trade_candidates))
    context.add_output_metadata(
        {
            "approved": len(review.intents),
            "rejected": sum(not d.approved for d in review.decisions),
            "replayed_decisions": len(trade_candidates) - len(fresh),
            "decisions": table_preview(
                pd.DataFrame(
                    [
                        {"strategy": d.strategy, "approved": d.approved, "reasons": "; ".join(d.reasons)}
                        for d in review.decisions
                    ]
                )
            ),
        }
    )
    return review
