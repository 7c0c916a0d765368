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

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.brokers.reconciliation import ReconciliationReport
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.core import intents
from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.decisions import Decision
from trading_pipeline.core.orders import OrderIntent
from trading_pipeline.core.reconciliation import ReconciliationBreak
from trading_pipeline.core.risk import PortfolioState, review_candidates
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import LedgerResource, TradingConfigResource
from trading_pipeline.settings import PipelineConfig


@dataclass(frozen=True)
class RiskReview:
    """The approved intents of a run, every decision behind them, and which verdicts were replayed."""

    intents: tuple[OrderIntent, ...]
    decisions: tuple[Decision, ...]
    replayed: frozenset[str] = frozenset()
    entries_blocked: str | None = None


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
    """The ledger's portfolio as of `now` (core/intents.portfolio_state): positions and marks as they stood
    at the decision time, so a rerun of an old session never counts a later position."""
    return intents.portfolio_state(
        ledger.positions(open_only=False, as_of=now),
        ledger.latest_marks(as_of=now),
        ledger.intents(),
        frozenset(p.position_id for p in ledger.positions(open_only=False)),
        config.account.starting_equity,
        session,
        now,
        entries_blocked,
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
    ids = {c.key: intents.entry_decision_id(c, session) for c in candidates}
    with ledger.exclusive() as locked:
        recorded = {key: locked.decision(decision_id) for key, decision_id in ids.items()}
        decisions = {key: d for key, d in recorded.items() if d is not None}
        fresh = [c for c in candidates if recorded[c.key] is None]
        state = portfolio_state(locked, config, session, now, entries_blocked)
        for verdict in review_candidates(fresh, state, config.risk):
            candidate = verdict.candidate
            intent = intents.entry_intent(candidate, session, now, ids[candidate.key])
            decision = intents.entry_decision(
                verdict, session, now, ids[candidate.key], intent.client_order_id
            )
            locked.record_decision(decision)
            if decision.approved:
                locked.record_intent(intent)
            decisions[candidate.key] = decision
        approved = []
        for candidate in candidates:
            decision = decisions[candidate.key]
            if decision.approved and decision.client_order_id:
                stored = locked.intent(decision.client_order_id)
                approved.append(
                    stored[0]
                    if stored
                    else intents.entry_intent(candidate, session, decision.decided_at, decision.decision_id)
                )
    replayed = frozenset(d.decision_id for d in recorded.values() if d is not None)
    return RiskReview(tuple(approved), tuple(decisions[c.key] for c in candidates), replayed, entries_blocked)


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
