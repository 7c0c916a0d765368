"""Trade candidates: a priced structure a strategy proposes, before the risk engine sees it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from trading_pipeline.core.chain import leg_rows
from trading_pipeline.core.economics import Odds, structure_odds
from trading_pipeline.core.exposure import Exposure, StressScenario, legs_exposure
from trading_pipeline.core.instruments import Leg, OccSymbolError, OptionContract, contract_multiplier
from trading_pipeline.core.selection import spread_pct_array


class Premium(StrEnum):
    """Whether a structure is opened for a credit (premium received) or a debit (premium paid)."""

    CREDIT = "credit"
    DEBIT = "debit"


def structure_key(legs: tuple[Leg, ...]) -> str:
    """Identity of a structure by its legs (side, ratio, contract), whatever its quantity."""
    return "|".join(f"{leg.side.value}:{leg.ratio}:{leg.contract.occ_symbol}" for leg in legs)


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
    #: What the strategy opens it for; None infers it from the legs (all sold: credit, all bought: debit).
    premium: Premium | None = None
    #: Per structure unit, in trader units with stress P&L (None until assessed against the chain).
    exposure: Exposure | None = None
    #: The least open interest of any leg, and the widest bid-ask spread (% of mid) of a sold leg (None until
    #: assessed).
    min_open_interest: int | None = None
    max_spread_pct: float | None = None
    #: Held to expiry under the pricing model, per unit (None until assessed; core/economics.py).
    odds: Odds | None = None

    @property
    def multiplier(self) -> int:
        return contract_multiplier(self.underlying)

    @property
    def key(self) -> str:
        """Identity of the structure (legs), used for decision and client order ids."""
        return structure_key(self.legs)

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


def expected_premium(candidate: TradeCandidate) -> Premium | None:
    """The declared premium, else the one the legs imply; None for a mixed structure that declares none."""
    if candidate.premium is not None:
        return candidate.premium
    signs = {leg.side.sign for leg in candidate.legs}
    if signs == {-1}:
        return Premium.CREDIT
    if signs == {1}:
        return Premium.DEBIT
    return None


def is_defined_risk(legs: tuple[Leg, ...]) -> bool:
    """Every short contract is covered by a long one of the same right and expiration (verticals, condors)."""
    short, long = Counter(), Counter()
    for leg in legs:
        bucket = (leg.contract.right, leg.contract.expiration)
        (short if leg.side.sign < 0 else long)[bucket] += leg.ratio
    return all(long[bucket] >= count for bucket, count in short.items())


def candidate_problems(candidate: TradeCandidate) -> list[str]:
    """Everything wrong with one candidate by its structure's own rules (empty when it is well formed):
    OCC legs, the credit or debit sign, limit between mid and natural, positive buying power, and a stated
    positive max loss for every defined-risk structure."""
    problems = []
    for leg in candidate.legs:
        try:
            if OptionContract.from_occ(leg.contract.occ_symbol) != leg.contract:
                problems.append(f"{leg.contract.occ_symbol}: OCC round trip changes the contract")
        except OccSymbolError as exc:
            problems.append(str(exc))
    premium = expected_premium(candidate)
    if premium is None:
        problems.append("a structure of bought and sold legs must declare whether it is a credit or a debit")
    elif premium is Premium.CREDIT and not candidate.mid_value < 0:
        problems.append(f"credit structure must have a negative mid value, got {candidate.mid_value}")
    elif premium is Premium.DEBIT and not candidate.mid_value > 0:
        problems.append(f"debit structure must have a positive mid value, got {candidate.mid_value}")
    if not candidate.natural_value >= candidate.limit_price >= candidate.mid_value:
        problems.append(
            f"limit {candidate.limit_price} must lie between mid {candidate.mid_value} "
            f"and natural {candidate.natural_value}"
        )
    if not candidate.buying_power > 0:
        problems.append(f"buying power {candidate.buying_power} must be positive and finite")
    if candidate.max_loss is not None and not candidate.max_loss > 0:
        problems.append(f"max loss {candidate.max_loss} must be positive and finite")
    if candidate.max_loss is None and is_defined_risk(candidate.legs):
        problems.append("a defined-risk structure must state its max loss")
    return problems


def assess(
    candidate: TradeCandidate, chain: pd.DataFrame, scenarios: tuple[StressScenario, ...]
) -> TradeCandidate:
    """The candidate with its per-unit exposure (greeks in trader units, stress P&L) and its thinnest
    leg's liquidity, from the chain it was built on; every strategy's candidates get the same treatment."""
    rows = leg_rows(chain, candidate.legs)
    # The spread cap judges the sold legs, whose fills carry the premium: a bought wing quoted at pennies
    # has a wide spread in % and costs little either way.
    sold = np.array([leg.side.sign < 0 for leg in candidate.legs])
    sold = sold if sold.any() else ~sold
    spreads = spread_pct_array(rows)[sold]
    sold_ivs = rows["iv"].to_numpy(dtype=float)[sold]
    vol = float(np.nanmean(sold_ivs)) if np.isfinite(sold_ivs).any() else float("nan")
    first = rows.iloc[0]
    odds = (
        structure_odds(
            candidate.legs,
            candidate.limit_price,
            candidate.multiplier,
            float(first["underlying_price"]),
            float(first["t_years"]),
            float(first["rate"]),
            float(first["div_yield"]),
            vol,
        )
        if vol > 0 and float(first["t_years"]) > 0
        else None
    )
    return replace(
        candidate,
        odds=odds,
        exposure=legs_exposure(candidate.legs, 1, candidate.multiplier, rows, scenarios),
        min_open_interest=int(rows["open_interest"].min()),
        max_spread_pct=float(spreads.max()) if np.isfinite(spreads).all() else float("inf"),
    )
