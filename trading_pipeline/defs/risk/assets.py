"""Risk review: candidates become approved order intents or recorded rejections with reasons.

Review and record happen under the ledger's write lock (one writer for decisions): the portfolio is
read, every candidate judged, and every verdict and approved intent recorded in one transaction, so
two ticks at once cannot both spend the same room under a limit. Every verdict is recorded under a
deterministic decision id; a rerun replays the recorded verdict and its recorded intent instead of
judging again.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.brokers.reconciliation import ReconciliationReport
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.decisions import Decision, DecisionKind, make_decision_id
from trading_pipeline.core.orders import OrderIntent, OrderStatus, PositionEffect, make_client_order_id
from trading_pipeline.core.reconciliation import ReconciliationBreak
from trading_pipeline.core.risk import PortfolioState, RiskDecision, review_candidates
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import LedgerResource, TradingConfigResource
from trading_pipeline.settings import PipelineConfig

BUYING_POWER_TAG = "buying_power_per_unit"
_NEVER_TRADED = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED})


@dataclass(frozen=True)
class RiskReview:
    """The approved intents of a run, every decision behind them, and which verdicts were replayed."""

    intents: tuple[OrderIntent, ...]
    decisions: tuple[Decision, ...]
    replayed: frozenset[str] = frozenset()
    entries_blocked: str | None = None


def _buying_power(intent: OrderIntent) -> Decimal:
    return Decimal(intent.tags.get(BUYING_POWER_TAG, "0"))


def describe_breaks(breaks: tuple[ReconciliationBreak, ...]) -> str | None:
    """One line naming what reconciliation could not explain, or None when it found nothing."""
    if not breaks:
        return None
    kinds = Counter(b.kind.value for b in breaks)
    listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"reconciliation found {len(breaks)} unexplained broker/ledger differences ({listed})"


def portfolio_state(
    ledger: Ledger, config: PipelineConfig, session: date, now: datetime, entries_blocked: str | None = None
) -> PortfolioState:
    """Equity, buying power and position counts as of `now`, counting entries still on their way.

    Positions and marks are read as they stood at the decision time (a rerun of an old session never
    counts a later position); an opening order that is claimed or working but not yet filled counts as
    an open position, and so does one recorded but not yet claimed in this session, so a crash or a
    concurrent tick cannot slip an entry past a limit.
    """
    positions = ledger.positions(open_only=False, as_of=now)
    open_positions = [p for p in positions if p.quantity > 0]
    pnl = account_pnl(positions, ledger.latest_marks(as_of=now), config.account.starting_equity)
    recorded = ledger.intents()
    intents = {intent.client_order_id: intent for intent, _ in recorded}
    held_ids = {p.position_id for p in positions}
    pending = [
        intent
        for intent, status in recorded
        if intent.effect is PositionEffect.OPEN
        and (status.on_its_way or (status is OrderStatus.NEW and intent.session == session))
        and intent.decision_time <= now
        and intent.client_order_id not in held_ids
    ]
    used = sum(
        (
            _buying_power(intents[p.position_id]) * p.quantity
            for p in open_positions
            if p.position_id in intents
        ),
        Decimal(0),
    ) + sum((_buying_power(i) * i.quantity for i in pending), Decimal(0))
    every_position = {p.position_id for p in ledger.positions(open_only=False)}
    entries = Counter(
        intent.strategy
        for intent, status in recorded
        if intent.session == session
        and intent.effect is PositionEffect.OPEN
        and (status not in _NEVER_TRADED or intent.client_order_id in every_position)
    )
    return PortfolioState(
        equity=pnl.equity,
        buying_power_used=used,
        open_positions=Counter(p.strategy for p in open_positions) + Counter(i.strategy for i in pending),
        entries_this_session=entries,
        entries_blocked=entries_blocked,
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


def review_and_record(
    ledger: Ledger,
    candidates: list[TradeCandidate],
    config: PipelineConfig,
    session: date,
    now: datetime,
    entries_blocked: str | None = None,
) -> RiskReview:
    """Judge fresh candidates and record verdicts and approved intents as one writer; replay the rest."""
    ids = {c.key: make_decision_id(c.strategy, session, DecisionKind.ENTRY, c.key) for c in candidates}
    with ledger.exclusive() as locked:
        recorded = {key: locked.decision(decision_id) for key, decision_id in ids.items()}
        decisions = {key: d for key, d in recorded.items() if d is not None}
        fresh = [c for c in candidates if recorded[c.key] is None]
        state = portfolio_state(locked, config, session, now, entries_blocked)
        for verdict in review_candidates(fresh, state, config.risk):
            candidate = verdict.candidate
            intent = _intent(candidate, session, now, ids[candidate.key])
            decision = _decision(verdict, session, now, ids[candidate.key], intent.client_order_id)
            locked.record_decision(decision)
            if decision.approved:
                locked.record_intent(intent)
            decisions[candidate.key] = decision
        intents = []
        for candidate in candidates:
            decision = decisions[candidate.key]
            if decision.approved and decision.client_order_id:
                stored = locked.intent(decision.client_order_id)
                intents.append(
                    stored[0]
                    if stored
                    else _intent(candidate, session, decision.decided_at, decision.decision_id)
                )
    replayed = frozenset(d.decision_id for d in recorded.values() if d is not None)
    return RiskReview(tuple(intents), tuple(decisions[c.key] for c in candidates), replayed, entries_blocked)


@dg.asset(partitions_def=session_partitions, group_name="risk", compute_kind="python")
def risk_approved_orders(
    context: dg.AssetExecutionContext,
    trade_candidates: list[TradeCandidate],
    broker_reconciliation: ReconciliationReport,
    ledger: LedgerResource,
    trading_config: TradingConfigResource,
) -> RiskReview:
    """Approve or reject each candidate against the limits, recording every verdict once."""
    config = trading_config.load()
    session = session_of_partition(context)
    now = decision_time_of(context, config)
    blocked = describe_breaks(broker_reconciliation.breaks)
    review = review_and_record(ledger.ledger(), trade_candidates, config, session, now, blocked)
    context.add_output_metadata(
        {
            "approved": len(review.intents),
            "rejected": sum(not d.approved for d in review.decisions),
            "replayed_decisions": len(review.replayed),
            "entries_blocked": blocked or "",
            "decisions": table_preview(
                pd.DataFrame(
                    [
                        {"strategy": d.strategy, "approved": d.approved, "reasons": "; ".join(d.reasons)}
                        for d in review.decisions
                    ],
                    columns=["strategy", "approved", "reasons"],
                )
            ),
        }
    )
    return review
