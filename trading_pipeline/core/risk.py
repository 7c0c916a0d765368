"""Pre-trade risk: every candidate is sized, then approved or rejected with every reason that applies.

Each rule is pure and names its limit. A limit on the portfolio (allocation, concentration, greeks,
stress) rejects a candidate that would leave the book beyond it, unless the candidate makes that figure
no worse (a risk-reducing trade is never refused by the limit it helps). Every reason starts with the
rule's name and a colon, so rejections can be counted by rule.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.exposure import DEFAULT_SCENARIOS, Exposure, StressScenario
from trading_pipeline.core.trading_state import TradingState


class RiskLimits(BaseModel):
    """Hard limits the risk engine enforces, with bounds; percentages are of net liquidation value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kill_switch: bool = False
    max_allocation_pct: float = Field(50.0, gt=0.0, le=100.0)
    max_underlying_allocation_pct: float = Field(50.0, gt=0.0, le=100.0)
    max_contracts_per_order: int = Field(10, ge=1, le=1000)
    max_open_positions: int = Field(20, ge=0, le=10000)
    max_open_positions_per_strategy: int = Field(3, ge=0, le=1000)
    max_entries_per_session_per_strategy: int = Field(1, ge=0, le=100)
    #: Sizing: a trade's risk (max loss; the worst stress loss for undefined risk) at most this % of equity.
    risk_per_trade_pct: float = Field(5.0, gt=0.0, le=100.0)
    #: Trips HALTED by itself when the session's loss exceeds this % of its opening equity.
    daily_loss_limit_pct: float = Field(2.0, gt=0.0, le=100.0)
    #: Trips HALTED when the broker rejects this many orders within `rejection_window_minutes`.
    rejection_burst: int = Field(3, ge=1, le=1000)
    rejection_window_minutes: int = Field(30, ge=1, le=24 * 60)
    #: Trips HALTED when even the newest quote of the chain is older than this.
    stale_data_halt_minutes: int = Field(30, ge=1, le=24 * 60)
    #: Portfolio greek budgets, each as % of equity: |dollar delta|, |dollar gamma per 1% move|,
    #: |vega per vol point|.
    max_delta_dollars_pct: float = Field(50.0, gt=0.0, le=1000.0)
    max_gamma_dollars_pct: float = Field(30.0, gt=0.0, le=1000.0)
    max_vega_per_point_pct: float = Field(1.0, gt=0.0, le=100.0)
    #: The book's loss in its worst stress scenario at most this % of equity.
    max_stress_loss_pct: float = Field(25.0, gt=0.0, le=100.0)
    stress_scenarios: tuple[StressScenario, ...] = Field(DEFAULT_SCENARIOS, min_length=1)
    #: Liquidity floor of every leg of an entry.
    min_open_interest: int = Field(10, ge=0)
    max_spread_pct: float = Field(25.0, gt=0.0, le=200.0)
    #: In REDUCING, entries keep this share of their size (rounded down) and must be defined-risk.
    reducing_size_fraction: float = Field(0.5, gt=0.0, le=1.0)


@dataclass(frozen=True)
class PortfolioState:
    """What the risk engine needs to know about the account at decision time."""

    equity: Decimal
    buying_power_used: Decimal
    open_positions: Counter[str] = field(default_factory=Counter)
    entries_this_session: Counter[str] = field(default_factory=Counter)
    #: Why no new entry may be approved at all (e.g. an unexplained broker/ledger difference), or None.
    entries_blocked: str | None = None
    trading_state: TradingState = TradingState.ACTIVE
    trading_state_cause: str = ""
    buying_power_by_underlying: Counter[str] = field(default_factory=Counter)
    exposure: Exposure = field(default_factory=Exposure)
    #: Open positions whose exposure could not be computed (a leg the chain does not quote).
    unpriced_positions: int = 0
    #: Structure keys of the open positions and of entries on their way.
    open_structures: frozenset[str] = frozenset()

    @property
    def open_total(self) -> int:
        return sum(self.open_positions.values())

    def with_entry(self, candidate: TradeCandidate) -> PortfolioState:
        """The state after `candidate` is approved (so later candidates see it)."""
        needed = candidate.buying_power * candidate.quantity
        added = candidate.exposure.scaled(candidate.quantity) if candidate.exposure else Exposure()
        return replace(
            self,
            buying_power_used=self.buying_power_used + needed,
            buying_power_by_underlying=self.buying_power_by_underlying
            + Counter({candidate.underlying: needed}),
            open_positions=self.open_positions + Counter({candidate.strategy: 1}),
            entries_this_session=self.entries_this_session + Counter({candidate.strategy: 1}),
            exposure=self.exposure + added,
            open_structures=self.open_structures | {candidate.key},
        )


@dataclass(frozen=True)
class RiskDecision:
    """The verdict on one candidate (as sized); `reasons` is empty exactly when it is approved."""

    candidate: TradeCandidate
    reasons: tuple[str, ...]
    #: The quantity the strategy asked for, when sizing changed it.
    resized_from: int | None = None

    @property
    def approved(self) -> bool:
        return not self.reasons


def rule_of(reason: str) -> str:
    """The rule a reason comes from (the text before its first colon)."""
    return reason.split(":", 1)[0].strip()


def risk_per_unit(candidate: TradeCandidate) -> Decimal | None:
    """What one unit can lose: its max loss, else its worst stress loss; None when neither is known."""
    if candidate.max_loss is not None:
        return candidate.max_loss
    if candidate.exposure is None or not candidate.exposure.stress_pnl:
        return None
    return Decimal(str(round(max(0.0, -min(candidate.exposure.stress_pnl)), 2)))


def sized(
    candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits
) -> tuple[TradeCandidate, str | None]:
    """The candidate at the size risk allows (never larger than asked), or the reason it gets no size."""
    quantity = candidate.quantity
    unit_risk = risk_per_unit(candidate)
    if unit_risk is not None and unit_risk > 0 and state.equity > 0:
        budget = state.equity * Decimal(str(limits.risk_per_trade_pct)) / 100
        allowed = int(budget // unit_risk)
        if allowed < 1:
            return candidate, (
                f"sizing: one unit risks {unit_risk:.2f}, more than {limits.risk_per_trade_pct:g}% "
                f"of equity ({budget:.2f})"
            )
        quantity = min(quantity, allowed)
    if state.trading_state is TradingState.REDUCING and candidate.max_loss is not None:
        quantity = math.floor(quantity * limits.reducing_size_fraction)
        if quantity < 1:
            return candidate, (
                f"trading state: REDUCING keeps {limits.reducing_size_fraction:g} of "
                f"{candidate.quantity} contracts, less than one ({state.trading_state_cause})"
            )
    return (candidate if quantity == candidate.quantity else replace(candidate, quantity=quantity)), None


def _state_rules(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    reasons = []
    if limits.kill_switch:
        reasons.append("kill switch: on in configuration, no new entries")
    if state.trading_state is TradingState.HALTED:
        reasons.append(f"trading state: HALTED ({state.trading_state_cause}); exits only")
    if state.trading_state is TradingState.REDUCING and candidate.max_loss is None:
        reasons.append(
            f"trading state: REDUCING allows defined-risk entries only ({state.trading_state_cause})"
        )
    if state.entries_blocked:
        reasons.append(f"entries blocked: {state.entries_blocked}")
    return reasons


def _count_rules(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    reasons = []
    if candidate.quantity > limits.max_contracts_per_order:
        reasons.append(
            f"contracts: {candidate.quantity} exceeds max {limits.max_contracts_per_order} per order"
        )
    if state.open_total >= limits.max_open_positions:
        reasons.append(
            f"positions: {state.open_total} open positions in all (max {limits.max_open_positions})"
        )
    open_count = state.open_positions[candidate.strategy]
    if open_count >= limits.max_open_positions_per_strategy:
        reasons.append(
            f"positions: {open_count} open {candidate.strategy} positions "
            f"(max {limits.max_open_positions_per_strategy})"
        )
    entries = state.entries_this_session[candidate.strategy]
    if entries >= limits.max_entries_per_session_per_strategy:
        reasons.append(
            f"entries: {entries} {candidate.strategy} entries already this session "
            f"(max {limits.max_entries_per_session_per_strategy})"
        )
    if candidate.key in state.open_structures:
        reasons.append("duplicate: the same structure is already open or on its way")
    return reasons


def _allocation_rules(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    if candidate.buying_power <= 0:
        return [f"buying power: requirement {candidate.buying_power} must be positive"]
    if state.equity <= 0:
        return [f"allocation: account equity {state.equity} is not positive"]
    reasons = []
    needed = candidate.buying_power * candidate.quantity
    usage_pct = float((state.buying_power_used + needed) / state.equity * 100)
    if usage_pct > limits.max_allocation_pct:
        reasons.append(
            f"allocation: buying power in use would reach {usage_pct:.1f}% of equity "
            f"{state.equity} (limit {limits.max_allocation_pct:.1f}%)"
        )
    on_underlying = state.buying_power_by_underlying[candidate.underlying] + needed
    concentration = float(on_underlying / state.equity * 100)
    if concentration > limits.max_underlying_allocation_pct:
        reasons.append(
            f"concentration: buying power on {candidate.underlying} would reach {concentration:.1f}% of "
            f"equity (limit {limits.max_underlying_allocation_pct:.1f}%)"
        )
    return reasons


def _breaches(before: float, after: float, limit: float) -> bool:
    """Beyond `limit` in size after the trade, and larger than before it (a reducing trade passes)."""
    return abs(after) > limit and abs(after) > abs(before) + 1e-9


def exposure_reasons(before: Exposure, after: Exposure, equity: float, limits: RiskLimits) -> list[str]:
    """The greek budgets and the stress limit `after` breaks (relative to `equity`) and `before` did not
    make worse; one formula for the review and for the property test."""
    reasons = []
    budgets = (
        ("delta", "dollar delta", before.delta_dollars, after.delta_dollars, limits.max_delta_dollars_pct),
        (
            "gamma",
            "dollar gamma per 1%",
            before.gamma_dollars,
            after.gamma_dollars,
            limits.max_gamma_dollars_pct,
        ),
        (
            "vega",
            "vega per vol point",
            before.vega_per_point,
            after.vega_per_point,
            limits.max_vega_per_point_pct,
        ),
    )
    for rule, label, was, will, pct in budgets:
        limit = equity * pct / 100
        if _breaches(was, will, limit):
            reasons.append(
                f"{rule}: portfolio {label} would be {will:,.0f} (budget +-{limit:,.0f}, {pct:g}% of equity)"
            )
    name, worst = after.worst_stress(limits.stress_scenarios)
    _, worst_before = before.worst_stress(limits.stress_scenarios)
    limit = equity * limits.max_stress_loss_pct / 100
    if worst < -limit and worst < worst_before - 1e-9:
        reasons.append(
            f"stress: the book would lose {-worst:,.0f} in scenario {name!r} "
            f"(max {limit:,.0f}, {limits.max_stress_loss_pct:g}% of equity)"
        )
    return reasons


def _exposure_rules(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    if candidate.exposure is None:
        return ["exposure: the candidate has no greeks or stress figures (not assessed against the chain)"]
    if state.unpriced_positions:
        return [f"exposure: {state.unpriced_positions} open positions cannot be priced from the chain"]
    if state.equity <= 0:
        return []  # budgets are shares of equity: the allocation rule already rejects without equity
    after = state.exposure + candidate.exposure.scaled(candidate.quantity)
    return exposure_reasons(state.exposure, after, float(state.equity), limits)


def _liquidity_rules(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    del state
    reasons = []
    thinnest = candidate.min_open_interest
    if thinnest is not None and thinnest < limits.min_open_interest:
        reasons.append(f"liquidity: a leg has open interest {thinnest} (floor {limits.min_open_interest})")
    if candidate.max_spread_pct is not None and candidate.max_spread_pct > limits.max_spread_pct:
        reasons.append(
            f"liquidity: a sold leg's bid-ask spread is {candidate.max_spread_pct:.1f}% of its mid "
            f"(max {limits.max_spread_pct:g}%)"
        )
    return reasons


Rule = Callable[[TradeCandidate, PortfolioState, RiskLimits], list[str]]
RULES: tuple[Rule, ...] = (_state_rules, _count_rules, _allocation_rules, _exposure_rules, _liquidity_rules)


def rejection_reasons(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    """Every limit `candidate` (at its size) would break given `state`, each as a readable reason."""
    return [reason for rule in RULES for reason in rule(candidate, state, limits)]


def judge(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> RiskDecision:
    """Size one candidate, then check it against every rule."""
    sized_candidate, no_size = sized(candidate, state, limits)
    reasons = rejection_reasons(sized_candidate, state, limits)
    if no_size:
        reasons.insert(0, no_size)
    resized = candidate.quantity if sized_candidate.quantity != candidate.quantity else None
    return RiskDecision(sized_candidate, tuple(reasons), resized)


def review_candidates(
    candidates: list[TradeCandidate], state: PortfolioState, limits: RiskLimits
) -> list[RiskDecision]:
    """Review candidates best score first; each approval consumes room for the ones after it."""
    decisions = []
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True):
        decision = judge(candidate, state, limits)
        decisions.append(decision)
        if decision.approved:
            state = state.with_entry(decision.candidate)
    return decisions
