"""The decisions and order intents of a tick, built purely: entries from approved candidates, exits from
positions whose exit rule fires, and the portfolio state the risk rules judge against.

The Dagster assets read the ledger, call these and record what they return; a backtest loop calls them
directly. Ids are deterministic, so the same tick always builds the same decisions and intents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd

from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.candidates import TradeCandidate, is_defined_risk, structure_key
from trading_pipeline.core.chain import MissingLegError, leg_rows
from trading_pipeline.core.decisions import Decision, DecisionKind, make_decision_id
from trading_pipeline.core.exits import ExitRules, exit_reason
from trading_pipeline.core.exposure import DEFAULT_SCENARIOS, Exposure, StressScenario, legs_exposure
from trading_pipeline.core.fills import LegQuote, limit_price
from trading_pipeline.core.instruments import Leg, contract_multiplier
from trading_pipeline.core.margin import naked_base_pct, uncovered_requirement
from trading_pipeline.core.orders import OrderIntent, OrderStatus, PositionEffect, make_client_order_id
from trading_pipeline.core.positions import Position, PositionMark
from trading_pipeline.core.risk import PortfolioState, RiskDecision
from trading_pipeline.core.trading_state import TradingState

#: The intent tag carrying the buying power one structure unit needs (what risk allocates against).
BUYING_POWER_TAG = "buying_power_per_unit"
_NEVER_TRADED = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED})


def buying_power_of(intent: OrderIntent) -> Decimal:
    """Buying power per structure unit recorded on an intent (0 for one without the tag)."""
    return Decimal(intent.tags.get(BUYING_POWER_TAG, "0"))


def entry_decision_id(candidate: TradeCandidate, session: date) -> str:
    """The deterministic id of the entry decision on `candidate` in `session`."""
    return make_decision_id(candidate.strategy, session, DecisionKind.ENTRY, candidate.key)


def entry_intent(candidate: TradeCandidate, session: date, now: datetime, decision_id: str) -> OrderIntent:
    """The opening order intent of an approved candidate, its client order id derived from the structure."""
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


def entry_decision(
    verdict: RiskDecision, session: date, now: datetime, decision_id: str, client_id: str
) -> Decision:
    """The recorded verdict on one candidate: approved with its intent's id, or rejected with reasons."""
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
            "quantity": candidate.quantity,
            **({"resized_from": verdict.resized_from} if verdict.resized_from is not None else {}),
            **candidate.details,
        },
    )


@dataclass(frozen=True)
class ExitPlan:
    """A position to close now, why, and the closing intent."""

    decision: Decision
    intent: OrderIntent


def plan_exit(
    position: Position,
    mark: PositionMark,
    quotes: Sequence[LegQuote],
    rules: ExitRules,
    limit_fraction: Decimal,
    session: date,
    now: datetime,
) -> ExitPlan | None:
    """The closing order for a position whose exit rule fires (quotes: its legs' quotes in leg order),
    else None; the rules read the mark's value and greeks and the position's size and opening time."""
    reason = exit_reason(position, mark, rules, session, now)
    if reason is None:
        return None
    closing = tuple(leg.closing() for leg in position.legs)
    # One exit decision per tick: a tick whose exit did not fill leaves the next tick free to decide again
    # at its own price (no close on its way); a rerun of the same tick replays the same id.
    details = {"mark_value": str(mark.mark_value), "entry_value": str(position.entry_value)}
    limit = limit_price(closing, tuple(quotes), limit_fraction)
    return position_order_plan(position, closing, limit, DecisionKind.EXIT, reason, details, session, now)


#: The order effect of each kind of decision about an open position.
_EFFECT_OF = {DecisionKind.EXIT: PositionEffect.CLOSE, DecisionKind.ROLL: PositionEffect.ROLL}


def position_order_plan(
    position: Position,
    legs: tuple[Leg, ...],
    limit: Decimal,
    kind: DecisionKind,
    reason: str,
    details: dict[str, object],
    session: date,
    now: datetime,
) -> ExitPlan:
    """The decision and the one intent of an order on an open position (an exit, a roll): ids derived
    from the position, the kind and the tick, so a rerun of the tick replays them."""
    key = f"{kind.value.lower()}:{position.position_id}:{now.isoformat()}"
    decision_id = make_decision_id(position.strategy, session, kind, key)
    effect = _EFFECT_OF[kind]
    intent = OrderIntent(
        client_order_id=make_client_order_id(position.strategy, session, key, legs, effect),
        strategy=position.strategy,
        session=session,
        decision_time=now,
        underlying=position.underlying,
        legs=legs,
        quantity=position.quantity,
        limit_price=limit,
        effect=effect,
        position_id=position.position_id,
        reason=reason,
        tags={"decision_id": decision_id},
    )
    decision = Decision(
        decision_id=decision_id,
        session=session,
        decided_at=now,
        strategy=position.strategy,
        underlying=position.underlying,
        kind=kind,
        approved=True,
        reasons=(reason,),
        client_order_id=intent.client_order_id,
        details=details,
    )
    return ExitPlan(decision, intent)


def current_requirement(legs: tuple[Leg, ...], multiplier: int, rows: pd.DataFrame) -> Decimal | None:
    """Buying power per unit of an undefined-risk structure from current marks (spot and leg mids), or
    None for a defined-risk one, whose requirement (width less credit) does not move with the market."""
    if is_defined_risk(legs):
        return None
    spot = Decimal(str(float(rows["underlying_price"].iloc[0])))
    shorts = [
        (leg.contract.right, leg.contract.strike, Decimal(str(float(mid))) * leg.ratio)
        for leg, mid in zip(legs, rows["mid"], strict=True)
        if leg.side.sign < 0
    ]
    return uncovered_requirement(shorts, spot, multiplier, naked_base_pct(legs[0].contract.root))


@dataclass(frozen=True)
class BookRisk:
    """The open book priced from the tick's chain: its exposure, current requirements per position and
    unit (only for undefined-risk positions), and how many structures the chain could not price."""

    exposure: Exposure
    requirements: dict[str, Decimal]
    unpriced: int


def book_risk(
    positions: Sequence[Position],
    pending: Sequence[OrderIntent],
    chain: pd.DataFrame | None,
    scenarios: Sequence[StressScenario],
) -> BookRisk:
    """Exposure of the open positions and of the entries on their way, and the current requirements of the
    undefined-risk positions; without a chain every structure is unpriced."""
    structures = [(p.legs, p.quantity, p.multiplier, p.position_id) for p in positions] + [
        (i.legs, i.quantity, contract_multiplier(i.underlying), None) for i in pending
    ]
    if chain is None:
        return BookRisk(Exposure(), {}, len(structures))
    exposure, requirements, unpriced = Exposure(), {}, 0
    for legs, quantity, multiplier, position_id in structures:
        try:
            rows = leg_rows(chain, legs)
        except MissingLegError:
            unpriced += 1
            continue
        exposure = exposure + legs_exposure(legs, quantity, multiplier, rows, scenarios)
        if position_id is not None and (requirement := current_requirement(legs, multiplier, rows)):
            requirements[position_id] = requirement
    return BookRisk(exposure, requirements, unpriced)


def portfolio_state(
    positions: Sequence[Position],
    marks: Iterable[PositionMark],
    recorded: Sequence[tuple[OrderIntent, OrderStatus]],
    ever_held: frozenset[str],
    starting_equity: Decimal,
    session: date,
    now: datetime,
    entries_blocked: str | None = None,
    *,
    chain: pd.DataFrame | None = None,
    scenarios: Sequence[StressScenario] = DEFAULT_SCENARIOS,
    trading: tuple[TradingState, str] = (TradingState.ACTIVE, ""),
) -> PortfolioState:
    """Equity, buying power, exposure and position counts as of `now`, counting entries on their way.

    `positions` and `marks` are as they stood at `now`; `recorded` is every intent with its status and
    `ever_held` the ids of every position ever opened (later ones included). An opening order claimed or
    working but not yet filled counts as an open position, and so does one recorded but not yet claimed in
    this session, so a crash or a concurrent tick cannot slip an entry past a limit. Buying power of an
    undefined-risk position comes from `chain` (current marks) when it quotes its legs, else from its
    entry; an entry on its way adds its recorded requirement. Without `chain`, nothing is priced.
    """
    open_positions = [p for p in positions if p.quantity > 0]
    pnl = account_pnl(positions, marks, starting_equity)
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
    book = book_risk(open_positions, pending, chain, scenarios)
    by_underlying: Counter[str] = Counter()
    for p in open_positions:
        stamped = buying_power_of(intents[p.position_id]) if p.position_id in intents else Decimal(0)
        by_underlying[p.underlying] += book.requirements.get(p.position_id, stamped) * p.quantity
    for intent in pending:
        by_underlying[intent.underlying] += buying_power_of(intent) * intent.quantity
    entries = Counter(
        intent.strategy
        for intent, status in recorded
        if intent.session == session
        and intent.effect is PositionEffect.OPEN
        and (status not in _NEVER_TRADED or intent.client_order_id in ever_held)
    )
    return PortfolioState(
        equity=pnl.equity,
        buying_power_used=sum(by_underlying.values(), Decimal(0)),
        open_positions=Counter(p.strategy for p in open_positions) + Counter(i.strategy for i in pending),
        entries_this_session=entries,
        entries_blocked=entries_blocked,
        trading_state=trading[0],
        trading_state_cause=trading[1],
        buying_power_by_underlying=by_underlying,
        exposure=book.exposure,
        unpriced_positions=book.unpriced,
        open_structures=frozenset(
            {structure_key(p.legs) for p in open_positions} | {structure_key(i.legs) for i in pending}
        ),
    )
