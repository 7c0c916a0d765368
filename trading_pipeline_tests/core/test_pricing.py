"""Vectorized BSM prices, greeks and implied vol, checked against vollib's reference implementation."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr
from vollib.black_scholes_merton import black_scholes_merton
from vollib.black_scholes_merton.greeks import analytical as ref_greeks

from trading_pipeline.core.pricing import MAX_VOL, MIN_VOL, bsm_greeks, bsm_price, implied_vol

SPOT = 100.0
STRIKES = (40.0, 80.0, 95.0, 100.0, 105.0, 125.0, 250.0)  # deep ITM/OTM both ways
TIMES = (1.0 / (365 * 24), 1.0 / 365, 30.0 / 365, 1.0, 5.0)
VOLS = (0.05, 0.25, 1.2)
RATES_DIVS = ((0.0, 0.0), (0.05, 0.0), (0.04, 0.03))
GRID = list(itertools.product(STRIKES, TIMES, VOLS, RATES_DIVS, (True, False)))


def _close(ours: float, ref: float, tol: float = 1e-8) -> bool:
    return abs(ours - ref) <= tol * max(1.0, abs(ref))


@pytest.mark.parametrize(("strike", "t", "vol", "rate_div", "is_call"), GRID)
def test_price_matches_vollib(
    strike: float, t: float, vol: float, rate_div: tuple[float, float], is_call: bool
) -> None:
    # Arrange
    rate, div = rate_div
    flag = "c" if is_call else "p"

    # Act
    ours = float(bsm_price(SPOT, strike, t, rate, div, vol, is_call))

    # Assert
    assert _close(ours, black_scholes_merton(flag, SPOT, strike, t, rate, vol, div))


@pytest.mark.parametrize(("strike", "t", "vol", "rate_div", "is_call"), GRID)
def test_greeks_match_vollib_analytical_after_unit_conversion(
    strike: float, t: float, vol: float, rate_div: tuple[float, float], is_call: bool
) -> None:
    # Arrange: vollib quotes vega and rho per 1 point (x0.01) and theta per day (/365).
    rate, div = rate_div
    args = ("c" if is_call else "p", SPOT, strike, t, rate, vol, div)

    # Act
    g = bsm_greeks(SPOT, strike, t, rate, div, vol, is_call)

    # Assert
    assert _close(float(g.delta), ref_greeks.delta(*args))
    assert _close(float(g.gamma), ref_greeks.gamma(*args))
    assert _close(float(g.vega) * 0.01, ref_greeks.vega(*args))
    assert _close(float(g.theta) / 365.0, ref_greeks.theta(*args))
    assert _close(float(g.rho) * 0.01, ref_greeks.rho(*args))


def test_put_call_parity_holds_across_the_grid() -> None:
    # Arrange
    k, t, v, r, q = np.meshgrid(STRIKES, TIMES, VOLS, (0.0, 0.05), (0.0, 0.03), indexing="ij")

    # Act
    call = bsm_price(SPOT, k, t, r, q, v, True)
    put = bsm_price(SPOT, k, t, r, q, v, False)

    # Assert
    forward_value = SPOT * np.exp(-q * t) - k * np.exp(-r * t)
    np.testing.assert_allclose(call - put, forward_value, atol=1e-10, rtol=1e-12)


@pytest.mark.parametrize("t", [0.0, -0.01])
def test_expired_option_prices_at_intrinsic(t: float) -> None:
    # Arrange
    strikes = np.array([90.0, 100.0, 110.0])

    # Act
    calls = bsm_price(SPOT, strikes, t, 0.05, 0.01, 0.3, True)
    puts = bsm_price(SPOT, strikes, t, 0.05, 0.01, 0.3, False)

    # Assert
    np.testing.assert_array_equal(calls, [10.0, 0.0, 0.0])
    np.testing.assert_array_equal(puts, [0.0, 0.0, 10.0])


@pytest.mark.parametrize("t", [0.0, -0.01])
@pytest.mark.parametrize("vol", [0.3, float("nan")])
def test_greeks_at_expiry_when_in_the_money_give_delta_one_else_zero(t: float, vol: float) -> None:
    # Arrange: strikes in, at and out of the money for calls; the reverse for puts.
    strikes = np.array([90.0, 100.0, 110.0])

    # Act
    calls = bsm_greeks(SPOT, strikes, t, 0.05, 0.01, vol, True)
    puts = bsm_greeks(SPOT, strikes, t, 0.05, 0.01, vol, False)

    # Assert
    np.testing.assert_array_equal(calls.delta, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(puts.delta, [0.0, 0.0, -1.0])
    for greeks in (calls, puts):
        for value in (greeks.gamma, greeks.vega, greeks.theta, greeks.rho):
            np.testing.assert_array_equal(value, 0.0)


@pytest.mark.parametrize("vol", [float("nan"), 0.0, -0.2])
def test_greeks_of_a_live_option_when_vol_is_unusable_are_nan_not_zero(vol: float) -> None:
    greeks = bsm_greeks(SPOT, 110.0, 0.5, 0.05, 0.01, vol, False)

    for value in (greeks.delta, greeks.gamma, greeks.vega, greeks.theta, greeks.rho):
        assert np.isnan(value)


def test_price_and_greeks_broadcast_a_chain_against_scalars() -> None:
    # Arrange: 2 expiries x 5 strikes, calls in the first column only.
    strikes = np.linspace(80.0, 120.0, 5)[None, :]
    times = np.array([[0.1], [0.5]])
    is_call = np.array([True, False, False, False, False])

    # Act
    prices = bsm_price(SPOT, strikes, times, 0.03, 0.0, 0.2, is_call)
    greeks = bsm_greeks(SPOT, strikes, times, 0.03, 0.0, 0.2, is_call)

    # Assert
    assert prices.shape == (2, 5)
    assert greeks.delta.shape == (2, 5)
    assert greeks.delta[0, 0] > 0 > greeks.delta[0, 1]
    assert prices[0, 2] == pytest.approx(float(bsm_price(SPOT, 100.0, 0.1, 0.03, 0.0, 0.2, False)))


def _round_trip_grid() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    n = 20_000
    strike = SPOT * np.exp(rng.uniform(-1.2, 1.2, n))
    t = np.exp(rng.uniform(np.log(1.0 / (365 * 24)), np.log(5.0), n))
    vol = rng.uniform(0.01, 4.5, n)
    rate = rng.uniform(0.0, 0.08, n)
    div = rng.uniform(0.0, 0.05, n)
    is_call = rng.random(n) < 0.5
    return strike, t, vol, rate, div, is_call


def test_implied_vol_round_trips_in_price_space_on_a_broad_grid() -> None:
    # Arrange
    strike, t, vol, rate, div, is_call = _round_trip_grid()
    price = bsm_price(SPOT, strike, t, rate, div, vol, is_call)
    lower = np.where(
        is_call,
        np.maximum(SPOT * np.exp(-div * t) - strike * np.exp(-rate * t), 0.0),
        np.maximum(strike * np.exp(-rate * t) - SPOT * np.exp(-div * t), 0.0),
    )
    identifiable = price - lower > 1e-9  # below that the time value is lost to rounding

    # Act
    solved = implied_vol(price, SPOT, strike, t, rate, div, is_call)

    # Assert
    assert np.isfinite(solved[identifiable]).all()
    assert identifiable.sum() > 12_000
    solved_ok = np.isfinite(solved)
    repriced = bsm_price(SPOT, strike, t, rate, div, solved, is_call)
    assert np.max(np.abs(repriced - price)[solved_ok] / price[solved_ok]) <= 1e-8
    assert ((solved[solved_ok] >= MIN_VOL) & (solved[solved_ok] <= MAX_VOL)).all()


@settings(max_examples=300, deadline=None)
@given(
    moneyness=st.floats(-1.0, 1.0),
    t=st.floats(1.0 / 365, 3.0),
    vol=st.floats(0.03, 3.0),
    rate=st.floats(0.0, 0.1),
    div=st.floats(0.0, 0.05),
    is_call=st.booleans(),
)
def test_implied_vol_reprices_any_identifiable_option(
    moneyness: float, t: float, vol: float, rate: float, div: float, is_call: bool
) -> None:
    # Arrange
    strike = SPOT * np.exp(moneyness)
    price = float(bsm_price(SPOT, strike, t, rate, div, vol, is_call))
    forward_value = SPOT * np.exp(-div * t) - strike * np.exp(-rate * t)
    time_value = price - max(forward_value if is_call else -forward_value, 0.0)

    # Act
    solved = float(implied_vol(price, SPOT, strike, t, rate, div, is_call))

    # Assert
    if time_value > 1e-9:
        repriced = float(bsm_price(SPOT, strike, t, rate, div, solved, is_call))
        assert abs(repriced - price) <= 1e-9 * price


def test_implied_vol_recovers_vol_where_well_conditioned() -> None:
    solved = implied_vol(np.array([2.5, 8.0, 15.0]), SPOT, 100.0, 0.5, 0.02, 0.01, True)

    repriced = bsm_price(SPOT, 100.0, 0.5, 0.02, 0.01, solved, True)
    np.testing.assert_allclose(repriced, [2.5, 8.0, 15.0], atol=1e-10)
    np.testing.assert_allclose(implied_vol(repriced, SPOT, 100.0, 0.5, 0.02, 0.01, True), solved, rtol=1e-9)


@pytest.mark.parametrize(
    ("price", "strike", "is_call"),
    [
        (4.0, 95.0, True),  # below discounted intrinsic (5.0)
        (5.0, 95.0, True),  # exactly intrinsic: no positive vol fits
        (9.0, 110.0, False),  # put below intrinsic (10.0)
        (100.0, 95.0, True),  # call at the discounted spot (upper bound)
        (96.0, 95.0, False),  # put above the discounted strike
        (-1.0, 100.0, True),
        (0.0, 100.0, True),
        (float("nan"), 100.0, True),
        (float("inf"), 100.0, True),
    ],
)
def test_price_outside_no_arbitrage_bounds_gives_nan(price: float, strike: float, is_call: bool) -> None:
    solved = float(implied_vol(price, SPOT, strike, 0.5, 0.0, 0.0, is_call))

    assert np.isnan(solved)


def test_implied_vol_of_expired_option_is_nan() -> None:
    assert np.isnan(implied_vol(5.0, SPOT, 100.0, 0.0, 0.0, 0.0, True))


def test_implied_vol_outside_the_vol_range_is_nan_not_clipped() -> None:
    # Arrange: prices generated with vols just outside [MIN_VOL, MAX_VOL].
    too_high = bsm_price(SPOT, 100.0, 1.0, 0.0, 0.0, MAX_VOL * 1.2, True)
    too_low = bsm_price(SPOT, 100.0, 1.0, 0.0, 0.0, MIN_VOL / 2, True)

    # Act
    solved = implied_vol(np.array([too_high, too_low]), SPOT, 100.0, 1.0, 0.0, 0.0, True)

    # Assert
    assert np.isnan(solved).all()


def test_implied_vol_broadcasts_and_keeps_the_input_shape() -> None:
    strikes = np.array([[90.0, 100.0, 110.0]])
    times = np.array([[0.25], [1.0]])
    prices = bsm_price(SPOT, strikes, times, 0.01, 0.0, 0.3, False)

    solved = implied_vol(prices, SPOT, strikes, times, 0.01, 0.0, False)

    assert solved.shape == (2, 3)
    np.testing.assert_allclose(solved, 0.3, rtol=1e-8)


def test_implied_vol_emits_no_runtime_warnings() -> None:
    strike, t, vol, rate, div, is_call = _round_trip_grid()
    price = bsm_price(SPOT, strike, t, rate, div, vol, is_call)

    with np.errstate(all="raise"):
        implied_vol(price, SPOT, strike, t, rate, div, is_call)


def test_implied_vol_of_cheap_index_wings_reprices_to_relative_precision() -> None:
    # Arrange: SPX-sized far out-of-the-money calls worth 2.4e-4, 6e-7 and 6e-10 per share.
    strikes = np.array([5200.0, 5400.0, 5600.0])
    prices = bsm_price(4500.0, strikes, 10 / 365, 0.05, 0.015, 0.2, True)

    # Act
    solved = implied_vol(prices, 4500.0, strikes, 10 / 365, 0.05, 0.015, True)

    # Assert: an absolute tolerance would accept errors of whole percents on the cheapest wing.
    repriced = bsm_price(4500.0, strikes, 10 / 365, 0.05, 0.015, solved, True)
    np.testing.assert_array_less(np.abs(repriced - prices) / prices, 1e-9)


def test_implied_vol_when_underlying_is_an_index_solves_as_for_a_20_dollar_stock() -> None:
    # Arrange: the same chain at spot 20 and at spot 4500 (every price scales with the spot).
    strike, t, vol, rate, div, is_call = _round_trip_grid()
    small = bsm_price(20.0, strike * 0.2, t, rate, div, vol, is_call)
    large = small * 225.0
    forward_intrinsic = np.maximum(
        np.where(is_call, 20.0 * np.exp(-div * t) - 0.2 * strike * np.exp(-rate * t), 0.0),
        np.where(is_call, 0.0, 0.2 * strike * np.exp(-rate * t) - 20.0 * np.exp(-div * t)),
    )
    identifiable = small - forward_intrinsic > 1e-9 * small  # time value not lost to rounding

    # Act
    at_20 = implied_vol(small, 20.0, strike * 0.2, t, rate, div, is_call)
    at_4500 = implied_vol(large, 4500.0, strike * 45.0, t, rate, div, is_call)

    # Assert
    assert identifiable.sum() > 12_000
    assert np.isfinite(at_20[identifiable]).all()
    assert np.isfinite(at_4500[identifiable]).all()
    repriced = bsm_price(4500.0, strike * 45.0, t, rate, div, at_4500, is_call)
    assert np.max(np.abs(repriced - large)[identifiable] / large[identifiable]) <= 1e-8


def _extreme_grid() -> tuple[np.ndarray, ...]:
    """|ln F/K| up to 5, 1 minute to 5 years, vols 1e-3 to 4, spots 0.5 and 5000, calls and puts."""
    grid = np.array(
        list(
            itertools.product(
                np.linspace(-5.0, 5.0, 41),
                (1 / 525_600, 1 / 8_760, 1 / 365, 30 / 365, 1.0, 5.0),
                (1e-3, 0.01, 0.05, 0.2, 0.8, 2.0, 4.0),
                (0.5, 5_000.0),
                (0.0, 0.05),
                (1.0, 0.0),
            )
        )
    )
    log_moneyness, t, vol, spot, rate, is_call = grid.T
    div = np.full_like(t, 0.02)
    strike = spot * np.exp(-log_moneyness + (rate - div) * t)
    return spot, strike, t, rate, div, vol, is_call.astype(bool)


def _quoted_chain(n: int, seed: int) -> tuple[np.ndarray, ...]:
    """Chain-like options: strikes within 30% of spot, 1 day to 2 years, vols 8%-90%."""
    rng = np.random.default_rng(seed)
    spot = rng.uniform(20.0, 600.0, n)
    strike = np.round(spot * rng.uniform(0.7, 1.3, n), 1)
    t = np.exp(rng.uniform(np.log(1.0 / 365.0), np.log(2.0), n))
    rate, div, vol = rng.uniform(0.0, 0.06, n), rng.uniform(0.0, 0.03, n), rng.uniform(0.08, 0.9, n)
    return spot, strike, t, rate, div, vol, rng.random(n) < 0.5


def _identifiable(
    price: np.ndarray,
    spot: np.ndarray,
    strike: np.ndarray,
    t: np.ndarray,
    rate: np.ndarray,
    div: np.ndarray,
    is_call: np.ndarray,
) -> np.ndarray:
    """Time value above 1e-9 of the price (below that it is lost to rounding)."""
    disc_s, disc_k = spot * np.exp(-div * t), strike * np.exp(-rate * t)
    intrinsic = np.maximum(np.where(is_call, disc_s - disc_k, disc_k - disc_s), 0.0)
    return (price > 0.0) & (price - intrinsic > 1e-9 * price)


def _repricing_slack(
    spot: np.ndarray,
    strike: np.ndarray,
    t: np.ndarray,
    rate: np.ndarray,
    div: np.ndarray,
    vol: np.ndarray,
    is_call: np.ndarray,
) -> np.ndarray:
    """bsm_price's own rounding: d carries ~|d| ulps, which the normal tail turns into ~d^2 ulps of each
    of the two terms whose difference is the price (the far wings' cancellation)."""
    sign = np.where(is_call, 1.0, -1.0)
    sig_sqrt_t = vol * np.sqrt(t)
    d1 = (np.log(spot / strike) + (rate - div) * t) / sig_sqrt_t + 0.5 * sig_sqrt_t
    d2 = d1 - sig_sqrt_t
    terms = spot * np.exp(-div * t) * ndtr(sign * d1) + strike * np.exp(-rate * t) * ndtr(sign * d2)
    return 4e-16 * (1.0 + np.maximum(d1 * d1, d2 * d2)) * terms


def test_implied_vol_of_a_quoted_chain_mostly_takes_a_single_step() -> None:
    # Arrange: the start table puts chain-like options within ~1e-6 of their vol.
    spot, strike, t, rate, div, vol, is_call = _quoted_chain(20_000, 3)
    price = bsm_price(spot, strike, t, rate, div, vol, is_call)
    known = _identifiable(price, spot, strike, t, rate, div, is_call)

    # Act
    one_step = implied_vol(price, spot, strike, t, rate, div, is_call, max_iter=1)

    # Assert: one Halley step (accepted by its cubic convergence) solves 99% of them to 1e-10.
    solved = np.isfinite(one_step)
    assert (solved & known).sum() >= 0.99 * known.sum()
    repriced = bsm_price(spot, strike, t, rate, div, one_step, is_call)
    slack = _repricing_slack(spot, strike, t, rate, div, one_step, is_call)
    assert (np.abs(repriced - price)[solved] <= (1e-10 * price + slack)[solved]).all()


@pytest.mark.parametrize("tol", [1e-8, 1e-10])
def test_implied_vol_accepted_after_one_step_reprices_within_tolerance_on_extreme_inputs(tol: float) -> None:
    # Arrange: one step at most, so every answer was accepted at the start or by the cubic rule.
    spot, strike, t, rate, div, vol, is_call = _extreme_grid()
    price = bsm_price(spot, strike, t, rate, div, vol, is_call)

    # Act
    solved = implied_vol(price, spot, strike, t, rate, div, is_call, tol=tol, max_iter=1)

    # Assert
    ok = np.isfinite(solved) & (price > 0.0)
    assert ok.sum() > 3_000
    repriced = bsm_price(spot, strike, t, rate, div, solved, is_call)
    slack = _repricing_slack(spot, strike, t, rate, div, solved, is_call)
    assert (np.abs(repriced - price)[ok] <= (tol * price + slack)[ok]).all()


def test_implied_vol_solves_every_identifiable_extreme_option_within_eight_steps() -> None:
    # Arrange: far wings (|ln F/K| up to 5), 1 minute to 5 years, vols 1e-3 to 4, spots 0.5 and 5000.
    spot, strike, t, rate, div, vol, is_call = _extreme_grid()
    price = bsm_price(spot, strike, t, rate, div, vol, is_call)
    known = _identifiable(price, spot, strike, t, rate, div, is_call)

    # Act
    solved = implied_vol(price, spot, strike, t, rate, div, is_call, max_iter=8)

    # Assert
    assert known.sum() > 4_000
    assert np.isfinite(solved[known]).all()
    repriced = bsm_price(spot, strike, t, rate, div, solved, is_call)
    slack = _repricing_slack(spot, strike, t, rate, div, solved, is_call)
    assert (np.abs(repriced - price)[known] <= (1e-10 * price + slack)[known]).all()


def test_implied_vol_per_option_agrees_with_the_array_solver() -> None:
    # Arrange: core/american.py solves one option at a time with the same kernel.
    from trading_pipeline.core.iv_kernel import implied_vol_one

    spot, strike, t, rate, div, vol, is_call = _quoted_chain(500, 5)
    price = bsm_price(spot, strike, t, rate, div, vol, is_call)

    # Act
    one_by_one = [
        implied_vol_one(*option, 1e-10)
        for option in zip(price, spot, strike, t, rate, div, is_call, strict=True)
    ]

    # Assert
    np.testing.assert_array_equal(one_by_one, implied_vol(price, spot, strike, t, rate, div, is_call))


def test_implied_vol_of_no_options_is_an_empty_array() -> None:
    solved = implied_vol(np.empty((0, 3)), SPOT, 100.0, 0.5, 0.0, 0.0, True)

    assert solved.shape == (0, 3)


def test_importing_pricing_when_no_implied_vol_is_solved_does_not_load_numba() -> None:
    # Arrange: a fresh interpreter, as a Dagster step process would be.
    code = "import sys, trading_pipeline.core.valuation; print('numba' in sys.modules)"

    # Act
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    # Assert
    assert result.stdout.strip() == "False"
