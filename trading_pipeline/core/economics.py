"""Odds of a structure held to expiry under the pricing model: probability of profit, probability of
touching a sold strike, and expected value, per structure unit in dollars.

The terminal price is lognormal with the carry's drift and one volatility (the sold legs' mean implied
vol: skew is ignored); the P&L is the exact expiry payoff less the price paid (the limit: + debit,
- credit), integrated on a fine grid of the terminal price. Touch uses the reflection principle: the
chance to touch a strike before expiry is about twice the chance to finish beyond it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from scipy.special import ndtr

from trading_pipeline.core.instruments import Leg, Right

#: Grid of the terminal price: this many standard deviations each side, this many points.
_SIGMAS, _POINTS = 8.0, 2001


@dataclass(frozen=True)
class Odds:
    """Probability of profit at expiry, of touching a sold strike before it, and the expected P&L."""

    probability_of_profit: float
    probability_of_touch: float
    expected_value: float


def expiry_pnl(legs: Sequence[Leg], price_paid: Decimal, multiplier: int, terminal: np.ndarray) -> np.ndarray:
    """P&L of one structure unit held to expiry, per terminal price (dollars)."""
    payoff = np.zeros_like(terminal)
    for leg in legs:
        strike = float(leg.contract.strike)
        intrinsic = (
            np.maximum(terminal - strike, 0.0)
            if leg.contract.right is Right.CALL
            else np.maximum(strike - terminal, 0.0)
        )
        payoff += leg.signed_ratio * intrinsic
    return (payoff - float(price_paid)) * multiplier


def structure_odds(
    legs: Sequence[Leg],
    price_paid: Decimal,
    multiplier: int,
    spot: float,
    years: float,
    rate: float,
    div_yield: float,
    vol: float,
) -> Odds:
    """The odds of `legs` bought at `price_paid` (signed: + debit, - credit), held to expiry."""
    if not (spot > 0 and years > 0 and vol > 0):
        raise ValueError(f"odds need spot, years and vol > 0, got spot={spot}, years={years}, vol={vol}")
    sd = vol * np.sqrt(years)
    drift = (rate - div_yield - 0.5 * vol * vol) * years
    z = np.linspace(-_SIGMAS, _SIGMAS, _POINTS)
    weights = np.exp(-0.5 * z * z)
    weights /= weights.sum()
    pnl = expiry_pnl(legs, price_paid, multiplier, spot * np.exp(drift + sd * z))
    touch = 0.0
    for leg in legs:
        if leg.side.sign > 0:
            continue
        d = (np.log(float(leg.contract.strike) / spot) - drift) / sd
        beyond = 1.0 - float(ndtr(d)) if leg.contract.right is Right.CALL else float(ndtr(d))
        touch += min(1.0, 2.0 * beyond)
    return Odds(
        probability_of_profit=float(weights[pnl > 0].sum()),
        probability_of_touch=min(1.0, touch),
        expected_value=float(np.dot(weights, pnl)),
    )
