"""Exposure in trader units: signs a trader expects, stress P&L equal to a direct repricing, additivity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.exposure import DEFAULT_SCENARIOS, Exposure, StressScenario, legs_exposure
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.pricing import bsm_greeks, bsm_price

EXPIRY = date(2025, 12, 19)
SPOT, T, RATE, DIV = 600.0, 45 / 365, 0.04, 0.013


def _rows(strikes: list[float], calls: list[bool], ivs: list[float]) -> pd.DataFrame:
    greeks = bsm_greeks(SPOT, strikes, T, RATE, DIV, ivs, calls)
    return pd.DataFrame(
        {
            "underlying_price": SPOT,
            "t_years": T,
            "rate": RATE,
            "div_yield": DIV,
            "iv": ivs,
            "delta": greeks.delta,
            "gamma": greeks.gamma,
            "vega": greeks.vega,
            "theta": greeks.theta,
        }
    )


def _leg(strike: float, right: Right, side: Side) -> Leg:
    return Leg(OptionContract("SPY", EXPIRY, Decimal(str(strike)), right), side)


def test_a_short_put_is_long_delta_short_vega_short_gamma_and_earns_theta() -> None:
    short_put = (_leg(560, Right.PUT, Side.SELL),)

    exposure = legs_exposure(short_put, 2, 100, _rows([560], [False], [0.18]), DEFAULT_SCENARIOS)

    assert exposure.delta_dollars > 0 and exposure.gamma_dollars < 0
    assert exposure.vega_per_point < 0 and exposure.theta_per_day > 0
    by_name = dict(zip((s.name for s in DEFAULT_SCENARIOS), exposure.stress_pnl, strict=True))
    assert by_name["spot -10%"] < by_name["spot -5%"] < 0 < by_name["spot +3%"]
    assert by_name["vol +10 pts"] < by_name["vol +5 pts"] < 0
    assert exposure.worst_stress(DEFAULT_SCENARIOS)[0] == "2020-03-16"


def test_vega_is_per_vol_point_and_theta_per_day_in_dollars() -> None:
    greeks = bsm_greeks(SPOT, 600.0, T, RATE, DIV, 0.2, True)

    exposure = legs_exposure((_leg(600, Right.CALL, Side.BUY),), 1, 100, _rows([600], [True], [0.2]), ())

    assert exposure.vega_per_point == pytest.approx(float(greeks.vega) * 100 / 100)
    assert exposure.theta_per_day == pytest.approx(float(greeks.theta) * 100 / 365)
    assert exposure.delta_dollars == pytest.approx(float(greeks.delta) * 100 * SPOT)


def test_stress_pnl_equals_repricing_every_leg_at_the_shocked_spot_and_vol() -> None:
    legs = (_leg(560, Right.PUT, Side.SELL), _leg(550, Right.PUT, Side.BUY))
    scenario = StressScenario(name="crash", spot_move_pct=-8.0, vol_points=12.0)

    (pnl,) = legs_exposure(
        legs, 3, 100, _rows([560, 550], [False, False], [0.18, 0.19]), (scenario,)
    ).stress_pnl

    before = bsm_price(SPOT, [560, 550], T, RATE, DIV, [0.18, 0.19], [False, False])
    after = bsm_price(SPOT * 0.92, [560, 550], T, RATE, DIV, [0.30, 0.31], [False, False])
    assert pnl == pytest.approx(float(np.dot([-300, 300], after - before)))


def test_exposures_add_leg_by_leg() -> None:
    put, call = _leg(560, Right.PUT, Side.SELL), _leg(640, Right.CALL, Side.SELL)
    rows = _rows([560, 640], [False, True], [0.18, 0.14])

    together = legs_exposure((put, call), 1, 100, rows, DEFAULT_SCENARIOS)
    apart = legs_exposure((put,), 1, 100, rows.iloc[[0]], DEFAULT_SCENARIOS) + legs_exposure(
        (call,), 1, 100, rows.iloc[[1]], DEFAULT_SCENARIOS
    )

    assert together.delta_dollars == pytest.approx(apart.delta_dollars)
    assert together.stress_pnl == pytest.approx(apart.stress_pnl)
    assert (Exposure() + together).stress_pnl == together.stress_pnl


def test_a_leg_without_implied_vol_is_counted_and_stressed_at_intrinsic_value() -> None:
    deep = (_leg(700, Right.PUT, Side.SELL),)
    rows = _rows([700], [False], [0.2]).assign(iv=np.nan, delta=np.nan)

    exposure = legs_exposure(deep, 1, 100, rows, (StressScenario(name="down", spot_move_pct=-5.0),))

    assert exposure.legs_without_iv == 1
    assert exposure.stress_pnl[0] == pytest.approx(-100 * SPOT * 0.05, rel=0.02)
