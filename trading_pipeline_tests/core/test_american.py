"""American prices, greeks and implied vol, checked against closed forms, finite differences and QuantLib."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from trading_pipeline.core.american import (
    american_chain,
    american_greeks,
    american_implied_vol,
    american_price,
    american_sensitivities,
)
from trading_pipeline.core.pricing import bsm_greeks, bsm_price, implied_vol


def _random_options(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    spot = rng.uniform(20.0, 600.0, n)
    strike = spot * np.exp(rng.uniform(-0.5, 0.5, n))
    t = np.exp(rng.uniform(np.log(2.0 / 365), np.log(2.0), n))
    rate = rng.uniform(0.0, 0.06, n)
    div = rng.uniform(0.0, 0.04, n)
    vol = rng.uniform(0.08, 0.9, n)
    is_call = rng.random(n) < 0.5
    return spot, strike, t, rate, div, vol, is_call


def test_american_call_without_dividends_equals_the_european_call() -> None:
    # Arrange: early exercise of a call never pays without a dividend yield.
    spot, strike, t, rate, _, vol, _ = _random_options(500, 1)

    # Act
    american = american_price(spot, strike, t, rate, 0.0, vol, True)

    # Assert
    np.testing.assert_allclose(
        american, bsm_price(spot, strike, t, rate, 0.0, vol, True), rtol=1e-12, atol=1e-12
    )


def test_american_put_at_zero_rate_equals_the_european_put() -> None:
    spot, strike, t, _, div, vol, _ = _random_options(500, 2)

    american = american_price(spot, strike, t, 0.0, div, vol, False)

    np.testing.assert_allclose(
        american, bsm_price(spot, strike, t, 0.0, div, vol, False), rtol=1e-12, atol=1e-12
    )


def test_american_price_is_at_least_the_european_price_and_the_exercise_value() -> None:
    # Arrange
    spot, strike, t, rate, div, vol, is_call = _random_options(2000, 3)

    # Act
    american = american_price(spot, strike, t, rate, div, vol, is_call)

    # Assert
    european = bsm_price(spot, strike, t, rate, div, vol, is_call)
    exercise = np.maximum(np.where(is_call, spot - strike, strike - spot), 0.0)
    assert (american >= european - 1e-9 * spot).all()
    assert (american >= exercise).all()
    assert (american > european + 1e-3).any()  # the grid does hold options worth exercising early


@pytest.mark.parametrize("t", [0.0, -0.01])
def test_american_at_expiry_is_the_payoff_with_payoff_delta(t: float) -> None:
    # Arrange
    strikes = np.array([90.0, 100.0, 110.0])

    # Act
    puts = american_greeks(100.0, strikes, t, 0.05, 0.01, 0.3, False)
    put_prices = american_price(100.0, strikes, t, 0.05, 0.01, 0.3, False)

    # Assert
    np.testing.assert_array_equal(put_prices, [0.0, 0.0, 10.0])
    np.testing.assert_array_equal(puts.delta, [0.0, 0.0, -1.0])
    for value in (puts.gamma, puts.vega, puts.theta, puts.rho):
        np.testing.assert_array_equal(value, 0.0)


def test_american_put_deep_in_the_money_is_exercised_now() -> None:
    # Arrange: spot far below the exercise boundary (r = 5%, 1 year).
    spot, strike = 50.0, 100.0

    # Act
    price = american_price(spot, strike, 1.0, 0.05, 0.0, 0.2, False)
    greeks = american_greeks(spot, strike, 1.0, 0.05, 0.0, 0.2, False)

    # Assert
    assert float(price) == 50.0
    assert float(greeks.delta) == -1.0
    assert float(greeks.gamma) == 0.0
    assert float(greeks.theta) == 0.0


def test_american_greeks_match_finite_differences_of_the_price() -> None:
    # Arrange
    spot, strike, t, rate, div, vol, is_call = _random_options(300, 4)
    h_s, h_v, h_t = 1e-4 * spot, 1e-4, 1e-6

    # Act
    greeks = american_greeks(spot, strike, t, rate, div, vol, is_call)

    # Assert
    def price(
        s: np.ndarray = spot, tt: np.ndarray = t, v: np.ndarray = vol, r: np.ndarray = rate
    ) -> np.ndarray:
        return american_price(s, strike, tt, r, div, v, is_call)

    base = price()
    np.testing.assert_allclose(
        greeks.delta, (price(s=spot + h_s) - price(s=spot - h_s)) / (2 * h_s), atol=2e-5
    )
    fd_gamma = (price(s=spot + h_s) - 2 * base + price(s=spot - h_s)) / h_s**2
    np.testing.assert_allclose(greeks.gamma, fd_gamma, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(
        greeks.vega, (price(v=vol + h_v) - price(v=vol - h_v)) / (2 * h_v), rtol=1e-4, atol=1e-4
    )
    fd_theta = -(price(tt=t + h_t) - price(tt=t - h_t)) / (2 * h_t)
    np.testing.assert_allclose(greeks.theta, fd_theta, rtol=1e-3, atol=1e-3)
    fd_rho = (price(r=rate + 1e-4) - price(r=rate - 1e-4)) / 2e-4
    smooth = np.abs(rate - div) > 2e-4  # the boundary's start K min(1, r / q) has a kink at r = q
    np.testing.assert_allclose(greeks.rho[smooth], fd_rho[smooth], rtol=1e-3, atol=1e-3)


def test_american_implied_vol_reprices_to_relative_precision() -> None:
    # Arrange
    spot, strike, t, rate, div, vol, is_call = _random_options(1000, 5)
    price = american_price(spot, strike, t, rate, div, vol, is_call)
    exercise = np.maximum(np.where(is_call, spot - strike, strike - spot), 0.0)
    identifiable = price - exercise > 1e-6 * price

    # Act
    solved = american_implied_vol(price, spot, strike, t, rate, div, is_call)

    # Assert
    assert identifiable.sum() > 800
    assert np.isfinite(solved[identifiable]).all()
    ok = np.isfinite(solved)
    repriced = american_price(spot, strike, t, rate, div, solved, is_call)
    assert np.max(np.abs(repriced - price)[ok] / price[ok]) <= 1e-9


@pytest.mark.parametrize(
    ("price", "strike", "is_call"),
    [
        (10.0, 110.0, False),  # exactly the exercise value of a put
        (9.0, 110.0, False),  # below it
        (110.0, 110.0, False),  # a put at its strike (upper bound)
        (100.0, 90.0, True),  # a call at the spot (upper bound)
        (float("nan"), 100.0, True),
        (0.0, 100.0, True),
    ],
)
def test_american_implied_vol_outside_the_bounds_is_nan(price: float, strike: float, is_call: bool) -> None:
    assert np.isnan(american_implied_vol(price, 100.0, strike, 0.5, 0.05, 0.01, is_call))


def test_american_kernels_keep_the_broadcast_shape() -> None:
    strikes = np.array([[90.0, 100.0, 110.0]])
    times = np.array([[0.25], [1.0]])

    prices = american_price(100.0, strikes, times, 0.05, 0.01, 0.3, False)
    solved = american_implied_vol(prices, 100.0, strikes, times, 0.05, 0.01, False)
    sensitivities = american_sensitivities(100.0, strikes, times, 0.05, 0.01, 0.3, False)

    assert prices.shape == solved.shape == (2, 3)
    assert all(s.shape == (2, 3) for s in sensitivities)
    np.testing.assert_allclose(solved, 0.3, rtol=1e-7)


# --- against QuantLib's finite-difference engine (dev dependency) ---

_SPOTS = (50.0, 400.0)
_MONEYNESS = (0.8, 1.0, 1.25, 1.6)  # strike / spot: puts deep in the money at 1.6
_DAYS = (30, 365, 730)
_VOLS = (0.15, 0.5)
_CARRY = ((0.05, 0.0), (0.05, 0.03), (0.01, 0.04))  # (rate, dividend yield)


def _acceptance_grid() -> list[tuple[float, float, int, float, float, float, bool]]:
    """Every 2-year deep in-the-money put, plus a seeded sample of the rest of the grid."""
    full = [
        (s, s * m, d, r, q, v, c)
        for s, m, d, v, (r, q), c in itertools.product(
            _SPOTS, _MONEYNESS, _DAYS, _VOLS, _CARRY, (False, True)
        )
    ]
    deep_puts = [case for case in full if case[1] == 1.6 * case[0] and case[2] == 730 and not case[6]]
    rest = [case for case in full if case not in deep_puts]
    picks = np.random.default_rng(20261121).choice(len(rest), 24, replace=False)
    return deep_puts + [rest[i] for i in sorted(picks)]


@pytest.mark.slow
def test_american_price_within_1e_3_per_share_of_quantlib_fd_incl_deep_itm_puts() -> None:
    # Arrange
    pytest.importorskip("QuantLib")
    from trading_pipeline_tests.quantlib_reference import fd_american

    grid = _acceptance_grid()
    reference = np.array([fd_american(*case).price for case in grid])
    s, k, days, r, q, v, c = (np.array(column) for column in zip(*grid, strict=True))

    # Act
    ours = american_price(s, k, days / 365.0, r, q, v, c)

    # Assert
    assert np.max(np.abs(ours - reference)) <= 1e-3


@pytest.mark.slow
def test_american_model_on_an_american_chain_removes_the_european_iv_and_delta_bias() -> None:
    # Arrange: QQQ-like in-the-money puts priced by QuantLib's American FD engine at a flat 22% vol.
    pytest.importorskip("QuantLib")
    from trading_pipeline_tests.quantlib_reference import fd_american

    spot, rate, div, vol = 350.0, 0.05, 0.006, 0.22
    cases = [(360.0, 30), (380.0, 30), (380.0, 91), (400.0, 91), (380.0, 365), (400.0, 365), (430.0, 365)]
    refs = [fd_american(spot, k, d, rate, div, vol, False) for k, d in cases]
    strike = np.array([k for k, _ in cases])
    t = np.array([d for _, d in cases]) / 365.0
    price = np.array([ref.price for ref in refs])
    ref_delta = np.array([ref.fine_delta for ref in refs])
    assert (price - (strike - spot) >= 0.01).all()  # quoted time value: the IV is identifiable

    # Act
    eu_iv = implied_vol(price, spot, strike, t, rate, div, False)
    eu_delta = bsm_greeks(spot, strike, t, rate, div, eu_iv, False).delta
    am_iv = american_implied_vol(price, spot, strike, t, rate, div, False)
    am_delta = american_sensitivities(spot, strike, t, rate, div, am_iv, False)[1]

    # Assert: the European model is off by vol points and tenths of delta; the American one is not.
    assert np.max(np.abs(eu_iv - vol)) > 0.03
    assert np.max(np.abs(eu_delta - ref_delta)) > 0.09
    assert np.max(np.abs(am_iv - vol)) < 1e-4
    assert np.max(np.abs(am_delta - ref_delta)) < 1e-3


def _chain_like(seed: int) -> tuple[np.ndarray, ...]:
    """An ETF-like chain at spot 400: eight expirations sharing one carry, strikes from -40% to +30%."""
    rng = np.random.default_rng(seed)
    n = 600
    t = rng.choice(np.array([2, 9, 30, 45, 60, 120, 365, 700]) / 365.0, n)
    strike = 400.0 * np.exp(rng.uniform(-0.4, 0.3, n))
    vol = rng.uniform(0.1, 0.8, n)
    is_call = rng.random(n) < 0.5
    return strike, t, vol, is_call


def test_american_chain_agrees_with_the_exact_solve_per_contract() -> None:
    # Arrange: American prices of a chain at known vols (4% rate, 1.5% dividend yield).
    strike, t, vol, is_call = _chain_like(3)
    price = american_price(400.0, strike, t, 0.04, 0.015, vol, is_call)
    time_value = price - np.maximum(np.where(is_call, 400.0 - strike, strike - 400.0), 0.0)

    # Act
    iv, delta, gamma, theta, vega = american_chain(price, 400.0, strike, t, 0.04, 0.015, is_call)

    # Assert: the exact model at the chain's vol reprices within the table's error (1e-4 per share) plus
    # the premium a contract kept European may carry (1e-4 of its time value, at most 5e-4); greeks agree.
    exact_iv = american_implied_vol(price, 400.0, strike, t, 0.04, 0.015, is_call)
    np.testing.assert_array_equal(np.isnan(iv), np.isnan(exact_iv))
    solved = np.isfinite(iv)
    assert solved.sum() > 500
    repriced = american_price(400.0, strike, t, 0.04, 0.015, iv, is_call)
    assert np.all(np.abs(repriced - price)[solved] <= 1e-4 + np.minimum(1e-4 * time_value[solved], 5e-4))
    _, exact_delta, exact_gamma, _, exact_vega = american_sensitivities(
        400.0, strike, t, 0.04, 0.015, exact_iv, is_call
    )
    assert np.max(np.abs(delta - exact_delta)[solved]) < 1e-3
    np.testing.assert_allclose(gamma[solved], exact_gamma[solved], rtol=0.02, atol=1e-6)
    np.testing.assert_allclose(vega[solved], exact_vega[solved], rtol=0.02, atol=1e-3)
    assert np.isfinite(theta[solved]).all()


def test_american_chain_keeps_european_values_where_early_exercise_is_worth_nothing() -> None:
    # Arrange: calls without a dividend are never exercised early.
    strike, t, vol, _ = _chain_like(4)
    price = bsm_price(400.0, strike, t, 0.04, 0.0, vol, True)

    # Act
    iv, delta, gamma, theta, vega = american_chain(price, 400.0, strike, t, 0.04, 0.0, True)

    # Assert: the European solve and its greeks (deep in-the-money 2-day calls reprice equally at other vols).
    european_iv = implied_vol(price, 400.0, strike, t, 0.04, 0.0, True)
    solved = np.isfinite(european_iv)
    assert solved.sum() > 550
    repriced = bsm_price(400.0, strike, t, 0.04, 0.0, iv, True)
    np.testing.assert_allclose(repriced[solved], price[solved], rtol=1e-9)
    european = bsm_greeks(400.0, strike, t, 0.04, 0.0, iv, True)
    for name, value in (("delta", delta), ("gamma", gamma), ("theta", theta), ("vega", vega)):
        np.testing.assert_allclose(value[solved], getattr(european, name)[solved], rtol=1e-12, err_msg=name)
