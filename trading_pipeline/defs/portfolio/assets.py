"""Positions, their marks, exits, portfolio greeks and P&L: the lifecycle after an entry fills."""

from datetime import datetime, timedelta
from decimal import Decimal

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.brokers.submission import SubmissionResult
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.adapters.market_data.base import DividendCalendar
from trading_pipeline.adapters.notify.base import Notifier, Severity
from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.calendar import ET
from trading_pipeline.core.chain import leg_quotes, leg_rows
from trading_pipeline.core.early_assignment import EarlyAssignmentRisk, early_assignment_risks
from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.intents import ExitPlan, plan_exit
from trading_pipeline.core.marking import BookMarks, book_greeks, mark_book
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline.core.positions import GREEKS, Position, PositionMark, StaleMark
from trading_pipeline.core.strategies.registry import strategy_named
from trading_pipeline.defs.execution.assets import (
    action_counts,
    notify_submissions,
    order_submissions,
    send_intents,
    submissions_table,
    working_orders,
)
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_of_partition, session_partitions
from trading_pipeline.defs.resources import (
    BrokerResource,
    ExecutionGuardResource,
    LedgerResource,
    MarketDataResource,
    NotifierResource,
    TradingConfigResource,
)
from trading_pipeline.settings import PipelineConfig

#: How far ahead the dividend calendar is read for the early-assignment check (the check itself looks one
#: session ahead by default; a week covers weekends and holidays).
DIVIDEND_LOOKAHEAD = timedelta(days=7)
#: What a stale position misses this tick, said in metadata and in the warning.
NO_EXIT_WHEN_STALE = "no exit decision this tick: no quote to price the position with"


@dg.asset(
    partitions_def=session_partitions,
    group_name="portfolio",
    compute_kind="ledger",
    deps=[working_orders, order_submissions],  # ordering only: a monitor run selects no entries
)
def positions(
    context: dg.AssetExecutionContext, ledger: LedgerResource, trading_config: TradingConfigResource
) -> list[Position]:
    """Open structure-level positions as of the tick's decision time, after this run's broker sync, ladder
    steps and entries (when the run has any).

    Point in time: a rerun of an old session sees the positions of that moment, never later ones.
    """
    now = decision_time_of(context, trading_config.load())
    open_positions = ledger.ledger().positions(open_only=True, as_of=now)
    context.add_output_metadata({"open_positions": len(open_positions), "as_of": now.isoformat()})
    return open_positions


def marks_table(marks: list[PositionMark]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "position_id": m.position_id,
                "mark_value": float(m.mark_value),
                "unrealized_pnl": float(m.unrealized_pnl),
                **{g: getattr(m, g) for g in GREEKS},
            }
            for m in marks
        ],
        columns=["position_id", "mark_value", "unrealized_pnl", *GREEKS],
    )


def stale_table(
    stale: tuple[StaleMark, ...], positions: list[Position], last_good: list[PositionMark]
) -> pd.DataFrame:
    """Stale positions with why, and the last good mark that stands for them (empty when never marked)."""
    by_id = {p.position_id: p for p in positions}
    last = {m.position_id: m for m in last_good}
    return pd.DataFrame(
        [
            {
                "position_id": s.position_id,
                "strategy": by_id[s.position_id].strategy,
                "reason": s.reason,
                "last_marked_at": last[s.position_id].marked_at.isoformat() if s.position_id in last else "",
                "last_mark_value": float(last[s.position_id].mark_value) if s.position_id in last else None,
            }
            for s in stale
        ],
        columns=["position_id", "strategy", "reason", "last_marked_at", "last_mark_value"],
    )


def warn_stale(notifier: Notifier, stale: list[StaleMark], now: datetime) -> None:
    """One warning per tick naming every newly stale position: nothing prices or exits them now."""
    if not stale:
        return
    notifier.notify(
        f"{len(stale)} position(s) stale at {now.isoformat()}",
        "; ".join(f"{s.position_id}: {s.reason}" for s in stale) + f" ({NO_EXIT_WHEN_STALE})",
        Severity.WARNING,
    )


@dg.asset(partitions_def=session_partitions, group_name="portfolio", compute_kind="pandas")
def position_marks(
    context: dg.AssetExecutionContext,
    positions: list[Position],
    option_chains: pd.DataFrame,
    ledger: LedgerResource,
    notifier: NotifierResource,
    trading_config: TradingConfigResource,
) -> BookMarks:
    """Mark every open position at mid from the session's chain and record the marks.

    A position with a leg the chain does not quote is stale: its last good mark stands, the tick is
    recorded as stale with the reason, and the other positions are marked (and exited) as usual.
    """
    now = decision_time_of(context, trading_config.load())
    book = mark_book(positions, option_chains, now)
    store, session = ledger.ledger(), session_of_partition(context)
    store.record_marks(session, list(book.marks))
    warn_stale(notifier.notifier(), store.record_stale_marks(session, list(book.stale)), now)
    last_good = store.latest_marks(as_of=now) if book.stale else []
    context.add_output_metadata(
        {
            "positions": len(positions),
            "marked_positions": len(book.marks),
            "stale_positions": len(book.stale),
            "unrealized_pnl": float(sum((m.unrealized_pnl for m in book.marks), Decimal(0))),
            "marks": table_preview(marks_table(list(book.marks))),
            "stale": table_preview(stale_table(book.stale, positions, last_good)),
        }
    )
    return book


def exit_rules(config: PipelineConfig, strategy: str) -> ExitRules:
    """The exit policy of a position's strategy, from its configured plug-in (disabled ones still exit)."""
    return strategy_named(config.strategies.build(), strategy).exit_rules()


def record_exit(ledger: Ledger, plan: ExitPlan, position: Position, now: datetime) -> str | None:
    """Record an exit (or roll) decision and intent as one writer, or say why this position must not be
    closed or rolled now.

    A position is closed only while it is exactly as it was at the decision time (a rerun of an old
    session never closes what a later tick closed or reduced) and while no other close of it is on its
    way; a close recorded by an earlier tick but never claimed is superseded (cancelled) by this one.
    """
    with ledger.exclusive() as locked:
        current = {p.position_id: p.quantity for p in locked.positions(open_only=True)}
        if current.get(position.position_id) != position.quantity:
            return f"changed since {now.isoformat()}: now {current.get(position.position_id, 0)} open"
        closes = [
            (intent, status)
            for intent, status in locked.intents(unfinished_only=True)
            if intent.position_id == position.position_id
            and intent.client_order_id != plan.intent.client_order_id
        ]
        if any(status.on_its_way for _, status in closes):
            return "another close of this position is on its way"
        message = f"superseded by the exit decided at {now.isoformat()}"
        for intent, _ in [(i, st) for i, st in closes if st is OrderStatus.NEW]:
            if not locked.cancel_unclaimed(intent.client_order_id, now, message):
                return "another close of this position is on its way"  # claimed since it was read
        locked.record_decision(plan.decision)
        locked.record_intent(plan.intent)
    return None


@dg.asset(partitions_def=session_partitions, group_name="portfolio", compute_kind="broker")
def exit_orders(
    context: dg.AssetExecutionContext,
    positions: list[Position],
    position_marks: BookMarks,
    option_chains: pd.DataFrame,
    ledger: LedgerResource,
    broker: BrokerResource,
    notifier: NotifierResource,
    execution_guard: ExecutionGuardResource,
    trading_config: TradingConfigResource,
) -> list[SubmissionResult]:
    """Close positions whose exit rule fires (hard stops, protection, profit target, greeks, a time stop
    before the close or the DTE exit: core/exits.py), else roll those whose strategy calls for it (a tested
    strangle, when enabled), at most once per decision, through the same record-then-send path.

    Only a position still exactly as it was at the decision time is closed: a rerun of an old session
    never exits a position that a later tick already closed or reduced. A stale position (a leg without
    a quote) gets no exit decision this tick; the metadata names it.
    """
    config = trading_config.load()
    session, now = session_of_partition(context), decision_time_of(context, config)
    store, client = ledger.ledger(), broker.broker()
    marks = {m.position_id: m for m in position_marks.marks}
    stale = {s.position_id: f"{s.reason}; {NO_EXIT_WHEN_STALE}" for s in position_marks.stale}
    plans, skipped, built = [], {}, config.strategies.build()
    for position in positions:
        if position.position_id in stale:
            continue
        strategy = strategy_named(built, position.strategy)
        fraction = config.execution.limit_fraction_of_half_spread
        quotes = leg_quotes(leg_rows(option_chains, position.legs))
        plan = plan_exit(
            position, marks[position.position_id], quotes, strategy.exit_rules(), fraction, session, now
        ) or strategy.adjustment(position, option_chains, fraction, session, now)
        if plan is None:
            continue
        why_not = record_exit(store, plan, position, now)
        if why_not:
            skipped[position.position_id] = why_not
        else:
            plans.append(plan)
    results = send_intents(
        [plan.intent for plan in plans], store, client, now, context.run.run_id, execution_guard
    )
    reasons = {plan.intent.position_id: plan.decision.reasons[0] for plan in plans}
    notify_submissions(notifier.notifier(), "exit order", results)
    context.add_output_metadata(
        {
            "exits": len(results),
            **action_counts(results),
            "not_exited": dg.MetadataValue.json(skipped),
            "stale_positions": len(stale),
            "stale": dg.MetadataValue.json(stale),
            "reasons": dg.MetadataValue.json(reasons),
            "orders": table_preview(submissions_table(results)),
        }
    )
    return results


@dg.asset(partitions_def=session_partitions, group_name="portfolio", compute_kind="pandas")
def portfolio_risk(context: dg.AssetExecutionContext, position_marks: BookMarks) -> dict[str, float]:
    """Portfolio greeks in dollars per unit move (delta and gamma in shares), summed over the positions
    marked this tick; unknown greeks are left out and counted, stale positions are counted."""
    totals, unknown = book_greeks(position_marks.marks)
    context.add_output_metadata(
        {
            **{f"portfolio_{g}": v for g, v in totals.items()},
            "positions_with_unknown_greeks": unknown,
            "stale_positions_not_in_greeks": len(position_marks.stale),
        }
    )
    return totals


@dg.asset(partitions_def=session_partitions, group_name="portfolio", compute_kind="ledger")
def portfolio_pnl(
    context: dg.AssetExecutionContext,
    exit_orders: list[SubmissionResult],
    ledger: LedgerResource,
    trading_config: TradingConfigResource,
) -> dict[str, float]:
    """Realized (net of fees) and unrealized P&L and account equity as of the tick, after its exits."""
    del exit_orders  # ordering only: P&L is read after exits are recorded
    config = trading_config.load()
    now = decision_time_of(context, config)
    store = ledger.ledger()
    every = store.positions(open_only=False, as_of=now)
    pnl = account_pnl(every, store.latest_marks(as_of=now), config.account.starting_equity)
    result = {
        "realized_pnl": float(pnl.realized),
        "unrealized_pnl": float(pnl.unrealized),
        "equity": float(pnl.equity),
        "open_positions": float(sum(p.quantity > 0 for p in every)),
        "closed_positions": float(sum(p.quantity == 0 for p in every)),
    }
    context.add_output_metadata(result)
    return result


def spots_of(chain: pd.DataFrame) -> dict[str, float]:
    """The underlying's price each underlying's chain rows were quoted against."""
    firsts = chain.groupby("underlying", sort=False)["underlying_price"].first()
    return {str(u): float(p) for u, p in firsts.items()}


def risks_table(risks: list[EarlyAssignmentRisk]) -> pd.DataFrame:
    columns = ["position_id", "contract", "short", "strike", "spot", "extrinsic", "dividend", "ex_date"]
    return pd.DataFrame(
        [
            {
                "position_id": r.position_id,
                "contract": r.occ_symbol.replace(" ", ""),
                "short": r.short_contracts,
                "strike": float(r.strike),
                "spot": float(r.spot),
                "extrinsic": None if r.extrinsic is None else float(r.extrinsic),
                "dividend": float(r.dividend),
                "ex_date": r.ex_date.isoformat(),
            }
            for r in risks
        ],
        columns=columns,
    )


@dg.asset(partitions_def=session_partitions, group_name="portfolio", compute_kind="pandas")
def early_assignment_risk(
    context: dg.AssetExecutionContext,
    positions: list[Position],
    option_chains: pd.DataFrame,
    market_data: MarketDataResource,
    notifier: NotifierResource,
    trading_config: TradingConfigResource,
) -> list[EarlyAssignmentRisk]:
    """Short in-the-money calls likely to be assigned before their ex-dividend date (extrinsic value below
    the dividend, the ex-date the next session): flagged and warned, for the operator to roll or close."""
    now = decision_time_of(context, trading_config.load())
    today = now.astimezone(ET).date()
    market = market_data.client()
    underlyings = sorted({p.underlying for p in positions})
    if isinstance(market, DividendCalendar):
        ex_dividends = {u: market.dividends(u, today, today + DIVIDEND_LOOKAHEAD) for u in underlyings}
        source = market.name
    else:
        ex_dividends = {u: pd.Series(dtype=float) for u in underlyings}
        source = f"none: {market.name} has no dividend calendar"
    risks = early_assignment_risks(positions, spots_of(option_chains), option_chains, ex_dividends, today)
    if risks:
        notifier.notifier().notify(
            f"{len(risks)} short call(s) at risk of early assignment",
            "; ".join(r.reason for r in risks),
            Severity.WARNING,
        )
    context.add_output_metadata(
        {
            "at_risk": len(risks),
            "dividend_source": source,
            "risks": table_preview(risks_table(risks)),
        }
    )
    return risks
