"""Odds at expiry under the pricing model: probability of profit, of touch, and expected value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from scipy.special import ndtr

from trading_pipeline.core.economics import expiry_pnl, structure_odds
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.pricing import bsm_price

EXPIRY = date(2025, 12, 19)
SPOT, T, RATE, DIV, VOL = 600.0, 45 / 365, 0.04, 0.0, 0.2


def _leg(strike: float, right: Right, side: Side) -> Leg:
    return Leg(OptionContract("SPY", EXPIRY, Decimal(str(strike)), right), side)


def _beyond_put(strike: float) -> float:
    drift = (RATE - DIV - 0.5 * VOL * VOL) * T
    return float(ndtr((np.log(strike / SPOT) - drift) / (VOL * np.sqrt(T))))


def test_a_short_put_profits_unless_the_price_ends_below_its_breakeven() -> None:
    credit = Decimal("3.00")
    odds = structure_odds((_leg(560, Right.PUT, Side.SELL),), -credit, 100, SPOT, T, RATE, DIV, VOL)

    assert odds.probability_of_profit == pytest.approx(1 - _beyond_put(557.0), abs=2e-3)
    assert odds.probability_of_touch == pytest.approx(2 * _beyond_put(560.0), abs=1e-9)


def test_at_the_model_price_the_expected_value_is_near_zero_and_worse_for_a_worse_fill() -> None:
    fair = Decimal(str(round(float(bsm_price(SPOT, 560, T, RATE, DIV, VOL, False)) * np.exp(RATE * T), 4)))
    legs = (_leg(560, Right.PUT, Side.SELL),)

    at_fair = structure_odds(legs, -fair, 100, SPOT, T, RATE, DIV, VOL).expected_value
    worse = structure_odds(legs, -(fair - Decimal("0.50")), 100, SPOT, T, RATE, DIV, VOL).expected_value

    assert at_fair == pytest.approx(0.0, abs=1.0)
    assert worse == pytest.approx(at_fair - 50.0, abs=0.5)


def test_a_credit_spread_loses_at_most_width_less_credit_and_keeps_the_credit_above_the_short() -> None:
    legs = (_leg(560, Right.PUT, Side.SELL), _leg(555, Right.PUT, Side.BUY))
    pnl = expiry_pnl(legs, Decimal("-1.20"), 100, np.array([500.0, 557.5, 600.0]))

    assert pnl.tolist() == pytest.approx([-380.0, -130.0, 120.0])


def test_odds_refuse_a_missing_volatility_naming_it() -> None:
    with pytest.raises(ValueError, match="vol=0"):
        structure_odds((_leg(560, Right.PUT, Side.SELL),), Decimal("-1"), 100, SPOT, T, RATE, DIV, 0.0)
