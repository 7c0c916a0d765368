"""Trade candidates: a priced structure a strategy proposes, before the risk engine sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from trading_pipeline.core.instruments import Leg, contract_multiplier


@dataclass(frozen=True)
class TradeCandidate:
    """A proposed entry. Values are signed per structure unit (+ debit, - credit), like intents.

    `max_loss` is None for undefined-risk structures (a naked strangle); `buying_power` is always
    finite and is what the risk engine allocates against.
    """

    strategy: str
    underlying: str
    expiration: date
    legs: tuple[Leg, ...]
    quantity: int
    mid_value: Decimal
    natural_value: Decimal
    limit_price: Decimal
    buying_power: Decimal
    max_loss: Decimal | None
    breakevens: tuple[float, ...]
    delta: float
    theta: float
    vega: float
    score: float
    rationale: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def multiplier(self) -> int:
        return contract_multiplier(self.underlying)

    @property
    def key(self) -> str:
        """Identity of the structure (legs), used for decision and client order ids."""
        return "|".join(f"{leg.side.value}:{leg.ratio}:{leg.contract.occ_symbol}" for leg in self.legs)

    @property
    def credit(self) -> Decimal:
        """Premium received per share at mid (negative for a debit)."""
        return -self.mid_value


@dataclass(frozen=True)
class StrategyOutcome:
    """What a strategy produced for one decision: candidates, or the reasons it stood aside."""

    strategy: str
    candidates: tuple[TradeCandidate, ...] = ()
    skipped: tuple[str, ...] = ()
