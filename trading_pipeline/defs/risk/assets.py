"""Risk review: candidates become approved order intents or recorded rejections with reasons.

Review and record happen under the ledger's write lock (one writer for decisions): the portfolio is
read, every candidate judged, and every verdict and approved intent recorded in one transaction, so
two ticks at once cannot both spend the same room under a limit. Every verdict is recorded under a
deterministic decision id; a rerun replays the recorded verdict and its recorded intent instead of
judging again.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.brokers.reconciliation import ReconciliationReport
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.core import intents
from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.calendar import session_open
from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.decisions import Decision
from trading_pipeline.core.exposure import Exposure
from trading_pipeline.core.marking import mark_book
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import PositionMark
from trading_pipeline.core.reconciliation import ReconciliationBreak
from trading_pipeline.core.risk import PortfolioState, review_candidates, rule_of
from trading_pipeline.core.trading_state import (
    TradingState,
    TradingStateEvent,
    current_state,
    daily_loss_trip,
    rejection_burst_trip,
)
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import LedgerResource, NotifierResource, TradingConfigResource
from trading_pipeline.settings import PipelineConfig


@dataclass(frozen=True)
class RiskReview:
    """The approved intents of a run, every decision behind them, which verdicts were replayed, the trading
    state they were judged in and the kill triggers this run tripped."""

    intents: tuple[OrderIntent, ...]
    decisions: tuple[Decision, ...]
    replayed: frozenset[str] = frozenset()
    entries_blocked: str | None = None
    trips: tuple[TradingStateEvent, ...] = ()
    daily_pnl: Decimal = Decimal(0)
    #: The book the fresh candidates were judged against (its trading state included).
    state: PortfolioState | None = None
    #: The book after this run's fresh approvals (what the blocking check verifies against the limits).
    after: PortfolioState | None = None

    @property
    def trading_state(self) -> TradingState:
        return self.state.trading_state if self.state else TradingState.ACTIVE

    @property
    def trading_state_cause(self) -> str:
        return self.state.trading_state_cause if self.state else ""


def describe_breaks(breaks: tuple[ReconciliationBreak, ...]) -> str | None:
    """One line naming what reconciliation could not explain, or None when it found nothing."""
    if not breaks:
        return None
    kinds = Counter(b.kind.value for b in breaks)
    listed = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    return f"reconciliation found {len(breaks)} unexplained broker/ledger differences ({listed})"


def marks_now(ledger: Ledger, now: datetime, chain: pd.DataFrame | None) -> list[PositionMark]:
    """The marks of the open book at `now`: from the tick's chain where it quotes every leg (entries run
    before this tick's marks are recorded), else the last recorded mark."""
    recorded = {m.position_id: m for m in ledger.latest_marks(as_of=now)}
    if chain is not None:
        fresh = mark_book(ledger.positions(open_only=True, as_of=now), chain, now).marks
        recorded.update({m.position_id: m for m in fresh})
    return list(recorded.values())


def equity_as_of(ledger: Ledger, config: PipelineConfig, at: datetime, marks: list[PositionMark]) -> Decimal:
    """Account equity from the positions as they stood at `at`, valued at `marks`."""
    positions = ledger.positions(open_only=False, as_of=at)
    return account_pnl(positions, marks, config.account.starting_equity).equity


def portfolio_state(
    ledger: Ledger,
    config: PipelineConfig,
    session: date,
    now: datetime,
    entries_blocked: str | None = None,
    chain: pd.DataFrame | None = None,
    marks: list[PositionMark] | None = None,
) -> PortfolioState:
    """The ledger's portfolio as of `now` (core/intents.portfolio_state): positions and marks as they stood
    at the decision time, so a rerun of an old session never counts a later position; its exposure and
    current requirements from `chain`; the trading state the ledger records. `marks`: the book's marks at
    `now` when the caller has them (else from `marks_now`)."""
    return intents.portfolio_state(
        ledger.positions(open_only=False, as_of=now),
        marks if marks is not None else marks_now(ledger, now, chain),
        ledger.intents(),
        frozenset(p.position_id for p in ledger.positions(open_only=False)),
        config.account.starting_equity,
        session,
        now,
        entries_blocked,
        chain=chain,
        scenarios=config.risk.stress_scenarios,
        trading=current_state(ledger.trading_state()),
    )


def kill_trips(
    ledger: Ledger, config: PipelineConfig, session: date, now: datetime, marks: list[PositionMark]
) -> tuple[list[TradingStateEvent], Decimal]:
    """The automatic kill triggers that fire now (daily loss, rejection burst), with the session's P&L:
    equity at the current `marks` against equity at the marks recorded before the session opened."""
    opened = session_open(session)
    at_open = equity_as_of(ledger, config, opened, ledger.latest_marks(as_of=opened))
    daily_pnl = equity_as_of(ledger, config, now, marks) - at_open
    limits = config.risk
    rejected = [intent.decision_time for intent, status in ledger.intents() if status is OrderStatus.REJECTED]
    fired = [
        daily_loss_trip(daily_pnl, at_open, limits.daily_loss_limit_pct, session, now),
        rejection_burst_trip(
            rejected, limits.rejection_burst, timedelta(minutes=limits.rejection_window_minutes), session, now
        ),
    ]
    return [trip for trip in fired if trip is not None], daily_pnl


def review_and_record(
    ledger: Ledger,
    candidates: list[TradeCandidate],
    config: PipelineConfig,
    session: date,
    now: datetime,
    entries_blocked: str | None = None,
    chain: pd.DataFrame | None = None,
) -> RiskReview:
    """Trip the kill triggers that fire, then judge fresh candidates and record verdicts and approved
    intents as one writer; replay the rest. A trip recorded here halts entries in this same review."""
    ids = {c.key: intents.entry_decision_id(c, session) for c in candidates}
    with ledger.exclusive() as locked:
        marks = marks_now(locked, now, chain)
        fired, daily_pnl = kill_trips(locked, config, session, now, marks)
        trips = tuple(trip for trip in fired if locked.record_trading_state(trip))
        recorded = {key: locked.decision(decision_id) for key, decision_id in ids.items()}
        decisions = {key: d for key, d in recorded.items() if d is not None}
        fresh = [c for c in candidates if recorded[c.key] is None]
        state = portfolio_state(locked, config, session, now, entries_blocked, chain, marks)
        after = state
        for verdict in review_candidates(fresh, state, config.risk):
            candidate = verdict.candidate
            if verdict.approved:
                after = after.with_entry(candidate)
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
                if stored is None:
                    raise LookupError(f"approved decision {decision.decision_id} has no recorded intent")
                approved.append(stored[0])
    replayed = frozenset(d.decision_id for d in recorded.values() if d is not None)
    return RiskReview(
        tuple(approved),
        tuple(decisions[c.key] for c in candidates),
        replayed,
        entries_blocked,
        trips,
        daily_pnl,
        state,
        after,
    )


def decisions_table(review: RiskReview) -> pd.DataFrame:
    """One row per decision: strategy, underlying, verdict, size and reasons."""
    return pd.DataFrame(
        [
            {
                "strategy": d.strategy,
                "underlying": d.underlying,
                "approved": d.approved,
                "quantity": d.details.get("quantity", ""),
                "reasons": "; ".join(d.reasons),
            }
            for d in review.decisions
        ],
        columns=["strategy", "underlying", "approved", "quantity", "reasons"],
    )


def review_metadata(review: RiskReview) -> dict[str, object]:
    """Counts by strategy and by rejection rule, the trading state, the book's exposure and stress."""
    rejected = [d for d in review.decisions if not d.approved]
    by_rule = Counter(rule_of(reason) for d in rejected for reason in d.reasons)
    approved_by_strategy = Counter(d.strategy for d in review.decisions if d.approved)
    state = review.state
    exposure = state.exposure if state else Exposure()
    metadata: dict[str, object] = {
        "approved": len(review.intents),
        "rejected": len(rejected),
        "replayed_decisions": len(review.replayed),
        "entries_blocked": review.entries_blocked or "",
        "trading_state": review.trading_state.value,
        "trading_state_cause": review.trading_state_cause,
        "kill_trips": dg.MetadataValue.json(
            [{"trigger": t.trigger.value, "cause": t.cause} for t in review.trips]
        ),
        "daily_pnl": float(review.daily_pnl),
        "buying_power_used": float(state.buying_power_used) if state else 0.0,
        "book_delta_dollars": round(exposure.delta_dollars, 2),
        "book_gamma_dollars_per_1pct": round(exposure.gamma_dollars, 2),
        "book_vega_per_vol_point": round(exposure.vega_per_point, 2),
        "book_theta_per_day": round(exposure.theta_per_day, 2),
        "equity": float(state.equity) if state else 0.0,
        **{f"approved_{name}": count for name, count in sorted(approved_by_strategy.items())},
        **{f"rejected_by_{rule.replace(' ', '_')}": count for rule, count in sorted(by_rule.items())},
        "decisions": table_preview(decisions_table(review)),
    }
    return metadata


@dg.asset(partitions_def=session_partitions, group_name="risk", compute_kind="python")
def risk_approved_orders(
    context: dg.AssetExecutionContext,
    trade_candidates: list[TradeCandidate],
    broker_reconciliation: ReconciliationReport,
    option_chains: pd.DataFrame,
    ledger: LedgerResource,
    notifier: NotifierResource,
    trading_config: TradingConfigResource,
) -> RiskReview:
    """Trip the automatic kill triggers, then size and approve or reject each candidate against the
    limits (equity, buying power and exposure at the tick's chain), recording every verdict once."""
    config = trading_config.load()
    session = session_of_partition(context)
    now = decision_time_of(context, config)
    blocked = describe_breaks(broker_reconciliation.breaks)
    review = review_and_record(
        ledger.ledger(), trade_candidates, config, session, now, blocked, option_chains
    )
    for trip in review.trips:
        notifier.notifier().notify(
            f"kill switch tripped: {trip.state.value}",
            f"{trip.cause}; new entries stop until an operator resets the trading state "
            "(trading-pipeline trading-state reset)",
            Severity.CRITICAL,
        )
    context.add_output_metadata(review_metadata(review))
    return review
