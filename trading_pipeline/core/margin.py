"""Buying-power requirements (Reg-T style) for option structures, per structure unit in dollars."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from trading_pipeline.core.instruments import Leg, Right, to_money

NAKED_BASE_PCT = Decimal("0.20")
#: Broad-based index options (CBOE rule 12.3): 15% of the index value instead of 20%.
BROAD_INDEX_BASE_PCT = Decimal("0.15")
NAKED_MIN_PCT = Decimal("0.10")
BROAD_BASED_INDEX_ROOTS = frozenset({"SPX", "SPXW", "XSP", "NDX", "NDXP", "RUT", "RUTW", "DJX"})


def naked_base_pct(root: str) -> Decimal:
    """The share of the underlying a naked short option on `root` must cover (15% broad index, else 20%)."""
    return BROAD_INDEX_BASE_PCT if root.strip().upper() in BROAD_BASED_INDEX_ROOTS else NAKED_BASE_PCT


def naked_option_requirement(
    right: Right,
    strike: Decimal,
    spot: Decimal,
    premium: Decimal,
    multiplier: int,
    base_pct: Decimal = NAKED_BASE_PCT,
) -> Decimal:
    """Reg-T requirement of one short naked option: the larger of `base_pct` (20%, 15% for broad-based
    indexes) of the underlying less the out-of-the-money amount, and 10% of the strike (puts) or the
    underlying (calls), plus the premium."""
    otm = max(Decimal(0), strike - spot) if right is Right.CALL else max(Decimal(0), spot - strike)
    base = base_pct * spot - otm
    floor = NAKED_MIN_PCT * (spot if right is Right.CALL else strike)
    return to_money((max(base, floor) + premium) * multiplier)


def uncovered_requirement(
    shorts: Sequence[tuple[Right, Decimal, Decimal]],
    spot: Decimal,
    multiplier: int,
    base_pct: Decimal = NAKED_BASE_PCT,
) -> Decimal:
    """Requirement of short options on one underlying, each (right, strike, premium): the largest naked
    requirement plus the premium of every other short (a strangle's or straddle's rule)."""
    if not shorts:
        return Decimal("0.00")
    requirements = [naked_option_requirement(r, k, spot, p, multiplier, base_pct) for r, k, p in shorts]
    largest = max(range(len(shorts)), key=lambda i: requirements[i])
    others = sum((p for i, (_, _, p) in enumerate(shorts) if i != largest), Decimal(0))
    return to_money(requirements[largest] + others * multiplier)


def short_strangle_requirement(
    put_strike: Decimal,
    call_strike: Decimal,
    spot: Decimal,
    put_premium: Decimal,
    call_premium: Decimal,
    multiplier: int,
    base_pct: Decimal = NAKED_BASE_PCT,
) -> Decimal:
    """Requirement of a short strangle: the larger side's naked requirement plus the other premium."""
    shorts = [(Right.PUT, put_strike, put_premium), (Right.CALL, call_strike, call_premium)]
    return uncovered_requirement(shorts, spot, multiplier, base_pct)


def defined_risk_requirement(widths: tuple[Decimal, ...], credit: Decimal, multiplier: int) -> Decimal:
    """Requirement of a credit vertical or an iron condor: the widest side's strike width less the credit
    (only one side of a condor can finish in the money), per structure unit; this is also its max loss."""
    return to_money((max(widths) - credit) * multiplier)


def worst_expiry_payoff(legs: Sequence[Leg]) -> Decimal | None:
    """The lowest value one structure unit can have at expiration (points, before premium), or None when
    it is unbounded below (an uncovered call). Payoffs are piecewise linear in the underlying: checking zero,
    every strike and the slope beyond the highest strike is exact."""
    calls = sum(leg.side.sign * leg.ratio for leg in legs if leg.contract.right is Right.CALL)
    if calls < 0:
        return None
    points = [Decimal(0), *(leg.contract.strike for leg in legs)]
    return min(_payoff(legs, spot) for spot in points)


def _payoff(legs: Sequence[Leg], spot: Decimal) -> Decimal:
    total = Decimal(0)
    for leg in legs:
        above = spot - leg.contract.strike
        intrinsic = max(above if leg.contract.right is Right.CALL else -above, Decimal(0))
        total += leg.side.sign * leg.ratio * intrinsic
    return total
