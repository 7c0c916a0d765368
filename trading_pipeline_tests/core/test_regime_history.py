"""The stable regime of every session: Schmitt-triggered VIX levels, confirmation, real 2005-2022 history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.regime import RegimeError, RegimeName, RegimeParams
from trading_pipeline.core.regime_history import (
    RegimeStability,
    confirmed,
    flips_per_year,
    regime_history,
    vol_levels,
)
from trading_pipeline_tests.real_market_data import daily_closes, needs_market_data

PARAMS = RegimeParams()
CALM, VOLATILE, CRISIS = RegimeName.RANGE_CALM, RegimeName.RANGE_VOLATILE, RegimeName.CRISIS


def test_vix_level_rises_at_its_threshold_and_falls_only_a_margin_below_it() -> None:
    # Arrange: thresholds 15 / 25 / 35, margin 2.
    vix = np.array([20.0, 25.0, 24.0, 23.5, 22.9, 36.0, 33.5, 32.9, 12.0])

    # Act
    levels = vol_levels(vix, PARAMS, margin=2.0)

    # Assert: 24 and 23.5 stay HIGH (within 2 of 25); 22.9 falls; 33.5 stays EXTREME; 12 falls to LOW at once.
    assert levels.tolist() == [1, 2, 2, 2, 1, 3, 3, 2, 0]


def test_a_new_regime_must_hold_the_confirmation_sessions_in_a_row() -> None:
    # Arrange: two sessions of VOLATILE, back to CALM, then three in a row.
    raw = [CALM, VOLATILE, VOLATILE, CALM, VOLATILE, VOLATILE, VOLATILE, VOLATILE]

    # Act
    regimes, held = confirmed(raw, confirm_sessions=3)

    # Assert
    assert regimes == [CALM] * 6 + [VOLATILE] * 2
    assert held == [1, 2, 3, 4, 5, 6, 1, 2]


def test_a_crisis_starts_at_once_and_ends_only_when_confirmed() -> None:
    # Arrange
    raw = [CALM, CRISIS, VOLATILE, VOLATILE, CRISIS, VOLATILE, VOLATILE, VOLATILE]

    # Act
    regimes, _ = confirmed(raw, confirm_sessions=3)

    # Assert
    assert regimes == [CALM, CRISIS, CRISIS, CRISIS, CRISIS, CRISIS, CRISIS, VOLATILE]


def test_regime_history_keeps_every_input_as_a_number() -> None:
    # Arrange: 260 sessions of a rising market and a calm VIX.
    sessions = pd.bdate_range("2024-01-01", periods=260)
    closes = pd.Series(np.linspace(100.0, 130.0, len(sessions)), index=sessions)
    vix = pd.Series(13.0, index=sessions)

    # Act
    history = regime_history(closes, vix, PARAMS, RegimeStability())

    # Assert
    assert len(history) == 260 - PARAMS.slow_window + 1
    numeric = ["close", "sma_fast", "sma_slow", "vix", "vol_level_index", "regime_sessions"]
    assert all(pd.api.types.is_numeric_dtype(history[c]) for c in numeric)
    assert (history["regime"] == "bull_calm").all()


def test_regime_history_refuses_a_non_positive_close_naming_it() -> None:
    # Arrange
    closes = pd.Series([100.0, -1.0], index=pd.bdate_range("2024-01-01", periods=2))

    # Act / Assert
    with pytest.raises(RegimeError, match=r"close must be positive and finite, got -1\.0"):
        regime_history(closes, closes.abs(), PARAMS, RegimeStability())


@pytest.fixture(scope="module")
def spy_history() -> pd.DataFrame:
    return regime_history(daily_closes("SPY"), daily_closes("VIX"), PARAMS, RegimeStability())


@needs_market_data
@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        ("2008-10-10", {"crisis", "bear_volatile"}),
        ("2008-11-20", {"crisis", "bear_volatile"}),
        ("2020-03-16", {"crisis", "bear_volatile"}),
        ("2011-08-08", {"crisis", "bear_volatile", "range_volatile", "bull_volatile"}),
        ("2015-08-24", {"crisis", "bear_volatile", "range_volatile", "bull_volatile"}),
        ("2018-02-05", {"crisis", "bear_volatile", "range_volatile", "bull_volatile"}),
        ("2017-06-30", {"bull_calm", "range_calm", "bear_calm"}),
    ],
)
def test_spy_regime_on_named_sessions_of_real_history(
    spy_history: pd.DataFrame, day: str, allowed: set[str]
) -> None:
    assert spy_history.loc[pd.Timestamp(day), "regime"] in allowed


@needs_market_data
def test_spy_regime_flips_at_most_20_times_a_year_with_a_median_of_at_most_8(
    spy_history: pd.DataFrame,
) -> None:
    # Act
    flips = flips_per_year(spy_history.loc["2005":"2022", "regime"])

    # Assert
    assert len(flips) == 18
    assert flips.median() <= 8
    assert flips.max() <= 20
