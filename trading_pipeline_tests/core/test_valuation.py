"""Chain valuation: IV and greeks per contract, American or European, NaN with a reason where unsolved."""

from __future__ import annotations

import numpy as np
import pytest

from trading_pipeline.core.american import american_price, american_sensitivities
from trading_pipeline.core.instruments import is_american
from trading_pipeline.core.pricing import bsm_greeks, bsm_price
from trading_pipeline.core.valuation import (
    ABOVE_UPPER_BOUND,
    BELOW_INTRINSIC,
    EXPIRED,
    INVALID_INPUTS,
    NO_QUOTE,
    SOLVED,
    VOL_ABOVE_RANGE,
    VOL_BELOW_RANGE,
    value_chain,
)

SPOT, RATE, DIV = 100.0, 0.04, 0.01


@pytest.mark.parametrize("root", ["SPY", "QQQ", "IWM", "AAPL", " spy "])
def test_is_american_when_equity_or_etf_root_is_true(root: str) -> None:
    assert is_american(root)


@pytest.mark.parametrize("root", ["SPX", "SPXW", "XSP", "NDX", "NDXP", "RUT", "RUTW", "VIX", "VIXW", "spxw"])
def test_is_american_when_index_or_vix_root_is_false(root: str) -> None:
    assert not is_american(root)


def test_value_chain_when_european_solves_iv_and_bsm_greeks_at_it() -> None:
    # Arrange
    strikes = np.array([90.0, 100.0, 110.0])
    prices = bsm_price(SPOT, strikes, 0.5, RATE, DIV, 0.25, False)

    # Act
    valuation = value_chain(prices, SPOT, strikes, 0.5, RATE, DIV, False, False)

    # Assert
    np.testing.assert_allclose(valuation.iv, 0.25, rtol=1e-8)
    expected = bsm_greeks(SPOT, strikes, 0.5, RATE, DIV, 0.25, False)
    for name in ("delta", "gamma", "vega", "theta"):
        np.testing.assert_allclose(getattr(valuation, name), getattr(expected, name), rtol=1e-6)
    assert (valuation.reason == SOLVED).all()


def test_value_chain_when_american_solves_with_the_american_model() -> None:
    # Arrange: in-the-money American puts priced at 25% vol.
    strikes = np.array([110.0, 120.0])
    prices = american_price(SPOT, strikes, 1.0, 0.05, 0.0, 0.25, False)

    # Act
    valuation = value_chain(prices, SPOT, strikes, 1.0, 0.05, 0.0, False, True)

    # Assert: as the exactly solved model, within the chain path's boundary interpolation in vol.
    np.testing.assert_allclose(valuation.iv, 0.25, rtol=1e-5)
    _, delta, gamma, theta, vega = american_sensitivities(SPOT, strikes, 1.0, 0.05, 0.0, 0.25, False)
    for name, exact in (("delta", delta), ("gamma", gamma), ("theta", theta), ("vega", vega)):
        np.testing.assert_allclose(getattr(valuation, name), exact, rtol=1e-4, err_msg=name)


def test_value_chain_picks_the_exercise_style_per_contract() -> None:
    # Arrange: the same American put price, valued once as American and once as European.
    price = float(american_price(SPOT, 120.0, 1.0, 0.05, 0.0, 0.25, False))

    # Act
    valuation = value_chain(price, SPOT, 120.0, 1.0, 0.05, 0.0, False, np.array([True, False]))

    # Assert: read as European, the early-exercise premium inflates the vol.
    assert valuation.iv[0] == pytest.approx(0.25, rel=1e-6)
    assert valuation.iv[1] > 0.26


@pytest.mark.parametrize("american", [False, True])
def test_value_chain_when_iv_cannot_be_solved_gives_nan_greeks_and_a_reason(american: bool) -> None:
    # Arrange: no quote, below intrinsic, above the upper bound, and zero price.
    prices = np.array([np.nan, 4.0, 150.0, 0.0])
    strikes = np.array([100.0, 95.0, 100.0, 100.0])

    # Act
    valuation = value_chain(prices, SPOT, strikes, 0.5, RATE, DIV, True, american)

    # Assert
    assert list(valuation.reason) == [NO_QUOTE, BELOW_INTRINSIC, ABOVE_UPPER_BOUND, NO_QUOTE]
    for name in ("iv", "delta", "gamma", "vega", "theta"):
        assert np.isnan(getattr(valuation, name)).all(), name


@pytest.mark.parametrize("american", [False, True])
def test_value_chain_when_expired_gives_payoff_delta_and_expired_reason(american: bool) -> None:
    # Arrange: a call in, at and out of the money at expiry.
    strikes = np.array([90.0, 100.0, 110.0])

    # Act
    valuation = value_chain(np.array([10.0, 0.05, 0.05]), SPOT, strikes, 0.0, RATE, DIV, True, american)

    # Assert
    assert (valuation.reason == EXPIRED).all()
    assert np.isnan(valuation.iv).all()
    np.testing.assert_array_equal(valuation.delta, [1.0, 0.0, 0.0])
    for name in ("gamma", "vega", "theta"):
        np.testing.assert_array_equal(getattr(valuation, name), 0.0)


def test_value_chain_when_vol_is_outside_the_range_says_which_side() -> None:
    # Arrange: a price needing more than MAX_VOL, and one with a time value below MIN_VOL's.
    too_high = float(bsm_price(SPOT, 100.0, 1.0, 0.0, 0.0, 6.0, True))
    too_low = float(bsm_price(SPOT, 100.0, 1.0, 0.0, 0.0, 5e-5, True))

    # Act
    valuation = value_chain(np.array([too_high, too_low]), SPOT, 100.0, 1.0, 0.0, 0.0, True, False)

    # Assert
    assert list(valuation.reason) == [VOL_ABOVE_RANGE, VOL_BELOW_RANGE]
    assert np.isnan(valuation.delta).all()


def test_value_chain_when_spot_is_missing_says_inputs_are_unusable() -> None:
    valuation = value_chain(5.0, np.nan, 100.0, 0.5, RATE, DIV, True, False)

    assert valuation.reason[()] == INVALID_INPUTS
    assert np.isnan(valuation.delta)


def test_value_chain_keeps_the_broadcast_shape() -> None:
    strikes = np.array([[90.0, 100.0, 110.0]])
    times = np.array([[0.25], [1.0]])
    prices = bsm_price(SPOT, strikes, times, RATE, DIV, 0.3, True)

    valuation = value_chain(prices, SPOT, strikes, times, RATE, DIV, True, np.array([[False, True, False]]))

    assert valuation.iv.shape == valuation.reason.shape == valuation.theta.shape == (2, 3)
