"""One tick's decisions, purely: scan every enabled strategy, keep the best candidates, judge them against
the risk limits and build the order intents, with the exits the open positions' rules call for.

The Dagster assets call these stage by stage (trade_candidates: `scan`; risk_approved_orders: the review
under the ledger's lock; exit_orders: `plan_exit`); a backtest loop or a benchmark calls `decide_tick`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from trading_pipeline.core.candidates import StrategyOutcome, TradeCandidate, assess
from trading_pipeline.core.chain import MissingLegError, leg_quotes, leg_rows
from trading_pipeline.core.exposure import StressScenario
from trading_pipeline.core.intents import ExitPlan, entry_decision_id, entry_intent, plan_exit
from trading_pipeline.core.orders import OrderIntent
from trading_pipeline.core.positions import Position, PositionMark
from trading_pipeline.core.risk import PortfolioState, RiskDecision, RiskLimits, review_candidates
from trading_pipeline.core.strategies.base import Strategy, StrategyContext


@dataclass(frozen=True)
class Scan:
    """Every enabled strategy's outcome, the top candidates kept (best score first, assessed against the
    chain) and each candidate the scanner cut, with why."""

    outcomes: tuple[StrategyOutcome, ...]
    kept: tuple[TradeCandidate, ...]
    cut: tuple[tuple[TradeCandidate, str], ...]


def scan(
    strategies: Sequence[Strategy],
    context: StrategyContext,
    scenarios: Sequence[StressScenario],
    top_n: int,
) -> Scan:
    """Rank every enabled strategy's candidates across the universe by score and keep the best `top_n`.

    Each strategy sees the chain of its own underlying only (split once), so no strategy filters the whole
    universe's chain again."""
    by_underlying = dict(tuple(context.chains.groupby("underlying", sort=False)))
    empty = context.chains.iloc[0:0]

    def own(strategy: Strategy) -> StrategyContext:
        underlying = getattr(getattr(strategy, "params", None), "underlying", None)
        if underlying is None:
            return context
        return replace(context, chains=by_underlying.get(underlying, empty))

    enabled = [s for s in strategies if s.enabled]
    shared = {name for name, count in Counter(s.name for s in enabled).items() if count > 1}

    def propose(strategy: Strategy) -> StrategyOutcome:
        outcome = strategy.propose(own(strategy))
        if strategy.name not in shared:
            return outcome
        # One strategy on several underlyings: each reason says which one it is about.
        underlying = strategy.params.underlying  # type: ignore[attr-defined]
        return replace(outcome, skipped=tuple(f"{underlying}: {why}" for why in outcome.skipped))

    outcomes = tuple(propose(s) for s in enabled)
    ranked = sorted((c for o in outcomes for c in o.candidates), key=lambda c: c.score, reverse=True)
    cut = tuple(
        (c, f"scanner: ranked {rank} of {len(ranked)} by score {c.score:.4f}; the top {top_n} are kept")
        for rank, c in enumerate(ranked[top_n:], start=top_n + 1)
    )
    # Only the kept ones go on to risk: they alone are assessed (exposure, stress, liquidity, odds).
    kept = tuple(
        assess(c, by_underlying.get(c.underlying, context.chains), tuple(scenarios)) for c in ranked[:top_n]
    )
    return Scan(outcomes, kept, cut)


@dataclass(frozen=True)
class TickDecisions:
    """What one tick decides: the scan, the risk verdicts on the kept candidates, the entry intents of the
    approved ones, and the exits the open positions' rules call for."""

    scan: Scan
    verdicts: tuple[RiskDecision, ...]
    entries: tuple[OrderIntent, ...]
    exits: tuple[ExitPlan, ...]


def plan_exits(
    positions: Sequence[Position],
    marks: Mapping[str, PositionMark],
    chain: pd.DataFrame,
    strategies: Mapping[str, Strategy],
    limit_fraction: Decimal,
    session: date,
    now: datetime,
) -> list[ExitPlan]:
    """The closing orders of the open positions whose strategy's exit rule fires, else the roll its strategy
    calls for; a position without a mark or a quote for every leg is left for a later tick (stale)."""
    plans = []
    for position in positions:
        if position.quantity <= 0 or position.position_id not in marks:
            continue
        try:
            quotes = leg_quotes(leg_rows(chain, position.legs))
        except MissingLegError:
            continue
        strategy = strategies[position.strategy]
        mark = marks[position.position_id]
        plan = plan_exit(position, mark, quotes, strategy.exit_rules(), limit_fraction, session, now)
        plan = plan or strategy.adjustment(position, chain, limit_fraction, session, now)
        if plan is not None:
            plans.append(plan)
    return plans


def decide_tick(
    strategies: Sequence[Strategy],
    context: StrategyContext,
    state: PortfolioState,
    limits: RiskLimits,
    top_n: int,
    session: date,
    positions: Sequence[Position] = (),
    marks: Mapping[str, PositionMark] | None = None,
) -> TickDecisions:
    """Chains, portfolio and configuration in; candidates, verdicts, entry intents and exits out."""
    found = scan(strategies, context, limits.stress_scenarios, top_n)
    verdicts = tuple(review_candidates(list(found.kept), state, limits))
    entries = tuple(
        entry_intent(v.candidate, session, context.now, entry_decision_id(v.candidate, session))
        for v in verdicts
        if v.approved
    )
    by_name = {s.name: s for s in strategies}
    exits = plan_exits(
        positions, marks or {}, context.chains, by_name, context.limit_fraction, session, context.now
    )
    return TickDecisions(found, verdicts, entries, tuple(exits))
