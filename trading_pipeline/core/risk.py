"""Pre-trade risk: every candidate is approved or rejected with every reason that applies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from trading_pipeline.core.candidates import TradeCandidate


class RiskLimits(BaseModel):
    """Hard limits the risk engine enforces, with bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kill_switch: bool = False
    max_allocation_pct: float = Field(50.0, gt=0.0, le=100.0)
    max_contracts_per_order: int = Field(10, ge=1, le=1000)
    max_open_positions_per_strategy: int = Field(3, ge=0, le=1000)
    max_entries_per_session_per_strategy: int = Field(1, ge=0, le=100)


@dataclass(frozen=True)
class PortfolioState:
    """What the risk engine needs to know about the account at decision time."""

    equity: Decimal
    buying_power_used: Decimal
    open_positions: Counter[str] = field(default_factory=Counter)
    entries_this_session: Counter[str] = field(default_factory=Counter)
    #: Why no new entry may be approved at all (e.g. an unexplained broker/ledger difference), or None.
    entries_blocked: str | None = None

    def with_entry(self, candidate: TradeCandidate) -> PortfolioState:
        """The state after `candidate` is approved (so later candidates see it)."""
        return replace(
            self,
            buying_power_used=self.buying_power_used + candidate.buying_power * candidate.quantity,
            open_positions=self.open_positions + Counter({candidate.strategy: 1}),
            entries_this_session=self.entries_this_session + Counter({candidate.strategy: 1}),
        )


@dataclass(frozen=True)
class RiskDecision:
    """The verdict on one candidate; `reasons` is empty exactly when it is approved."""

    candidate: TradeCandidate
    reasons: tuple[str, ...]

    @property
    def approved(self) -> bool:
        return not self.reasons


def rejection_reasons(candidate: TradeCandidate, state: PortfolioState, limits: RiskLimits) -> list[str]:
    """Every limit `candidate` would break given `state`, each as a readable reason."""
    reasons: list[str] = []
    if limits.kill_switch:
        reasons.append("kill switch is on: no new entries")
    if state.entries_blocked:
        reasons.append(f"entries blocked: {state.entries_blocked}")
    if candidate.quantity > limits.max_contracts_per_order:
        reasons.append(
            f"contracts: {candidate.quantity} exceeds max {limits.max_contracts_per_order} per order"
        )
    if state.equity <= 0:
        reasons.append(f"allocation: account equity {state.equity} is not positive")
    else:
        needed = state.buying_power_used + candidate.buying_power * candidate.quantity
        usage_pct = float(needed / state.equity * 100)
        if usage_pct > limits.max_allocation_pct:
            reasons.append(
                f"allocation: buying power in use would reach {usage_pct:.1f}% of equity "
                f"{state.equity} (limit {limits.max_allocation_pct:.1f}%)"
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
    if candidate.buying_power <= 0:
        reasons.append(f"buying power: requirement {candidate.buying_power} must be positive")
    return reasons


def review_candidates(
    candidates: list[TradeCandidate], state: PortfolioState, limits: RiskLimits
) -> list[RiskDecision]:
    """Review candidates best score first; each approval consumes room for the ones after it."""
    decisions = []
    for candidate in sorted(candidates, key=lambda c: c.score, reverse=True):
        reasons = tuple(rejection_reasons(candidate, state, limits))
        decisions.append(RiskDecision(candidate, reasons))
        if not reasons:
            state = state.with_entry(candidate)
    return decisions
