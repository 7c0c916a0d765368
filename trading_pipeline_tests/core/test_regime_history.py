"""The stable regime of every session: Schmitt-triggered VIX levels, confirmation, real 2005-2022 history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.regime import RegimeError, RegimeName, RegimeParams
from trading_pipeline.core.regime_history import (
    confirmed,
    flips_per_year,
    lifted_to_volatile,
    regime_after,
    regime_history,
    vol_levels,
)
from trading_pipeline.core.strategies.names import DEFAULT_PERMISSIONS
from trading_pipeline_tests.real_market_data import cboe_closes, daily_bars, daily_closes, needs_market_data

PARAMS = RegimeParams(permissions=DEFAULT_PERMISSIONS)
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


def test_a_more_stressed_regime_is_confirmed_sooner_than_a_calmer_one() -> None:
    # Arrange: calm, two volatile sessions, then calm for three
    raw = [CALM, VOLATILE, VOLATILE, CALM, CALM, CALM]

    # Act
    regimes, held = confirmed(raw, confirm_sessions=3, escalate_sessions=2)

    # Assert: risk off after two sessions, risk on again only after three
    assert regimes == [CALM, CALM, VOLATILE, VOLATILE, VOLATILE, CALM]
    assert held == [1, 2, 1, 2, 3, 1]


def test_a_regime_ends_after_enough_differing_closes_even_when_they_alternate() -> None:
    # Arrange: a crisis followed by closes that wobble between three calmer regimes, none three in a row
    bear = RegimeName.BEAR_VOLATILE
    raw = [CRISIS, VOLATILE, bear, CALM, VOLATILE, bear, VOLATILE]

    # Act
    regimes, held = confirmed(raw, confirm_sessions=6)

    # Assert: six closes that are not a crisis end it, into the most frequent of them (VOLATILE, 3 of 6)
    assert regimes == [CRISIS] * 6 + [VOLATILE]
    assert held == [1, 2, 3, 4, 5, 6, 1]


def test_a_tie_among_the_differing_closes_goes_to_the_latest_regime() -> None:
    # Arrange
    bear = RegimeName.BEAR_VOLATILE
    raw = [CALM, VOLATILE, bear, VOLATILE, bear]

    # Act
    regimes, _ = confirmed(raw, confirm_sessions=4)

    # Assert: two each; bear volatile came last
    assert regimes == [CALM] * 4 + [bear]


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
    history = regime_history(closes, vix, PARAMS)

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
        regime_history(closes, closes.abs(), PARAMS)


@pytest.fixture(scope="module")
def spy_history() -> pd.DataFrame:
    spy = daily_bars("SPY")
    return regime_history(
        spy["Close"], daily_closes("VIX"), PARAMS, cboe_closes("VIX3M"), spy["High"], spy["Low"]
    )


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


def test_regime_after_is_the_confirmed_regime_of_the_last_close_with_its_raw_one_and_age() -> None:
    # Arrange: 260 calm rising sessions, then the VIX jumps to 28 on the last close
    sessions = pd.bdate_range("2024-01-01", periods=260)
    closes = pd.Series(np.linspace(100.0, 130.0, len(sessions)), index=sessions)
    vix = pd.Series(13.0, index=sessions)
    vix.iloc[-1:] = 28.0

    # Act
    regime = regime_after(closes, vix, PARAMS, iv_rank=64.0, by_underlying={"QQQ": RegimeName.BULL_CALM})

    # Assert: not yet confirmed (1 of the 2 sessions a move to volatile needs): still bull_calm
    assert (regime.name, regime.raw_name) == (RegimeName.BULL_CALM, RegimeName.BULL_VOLATILE)
    assert regime.regime_sessions == 260 - PARAMS.slow_window + 1
    assert regime.closed_session == sessions[-1].date() and regime.vix == 28.0
    assert regime.permissions == PARAMS.permissions[RegimeName.BULL_CALM] and regime.size_multiplier == 1.0
    assert regime.iv_rank == 64.0 and regime.by_underlying == {"QQQ": RegimeName.BULL_CALM}


def test_stress_makes_a_calm_level_volatile_and_leaves_the_rest() -> None:
    # Arrange: LOW, NORMAL, NORMAL, HIGH, EXTREME and whether each session shows stress
    levels = np.array([0, 1, 1, 2, 3])
    stressed = np.array([True, True, False, True, False])

    # Act
    lifted = lifted_to_volatile(levels, stressed)

    # Assert: only the stressed calm sessions become HIGH
    assert lifted.tolist() == [2, 2, 1, 2, 3]


def test_a_vix_at_the_top_of_its_year_makes_the_regime_volatile_and_a_weak_trend_is_not_up() -> None:
    # Arrange: a rising market; the VIX drifts down from 14 to 11, then jumps to 14.5 (its year's top)
    sessions = pd.bdate_range("2024-01-01", periods=300)
    closes = pd.Series(np.linspace(100.0, 130.0, len(sessions)), index=sessions)
    vix = pd.Series(np.linspace(14.0, 11.0, len(sessions)), index=sessions)
    vix.iloc[-10:] = 14.5
    flat = pd.Series(1.0, index=sessions)

    demanding = PARAMS.model_copy(update={"adx_trend_min": 101.0})  # no ADX reaches it

    # Act
    strong = regime_history(closes, vix, PARAMS, high=closes + flat, low=closes - flat).iloc[-1]
    weak = regime_history(closes, vix, demanding, high=closes + flat, low=closes - flat).iloc[-1]
    unknown = regime_history(closes, vix, demanding).iloc[-1]

    # Assert: the VIX tops its year; ADX decides UP, and an unknown ADX (no highs and lows) does not
    assert strong["vix_rank"] == 100.0 and strong["vol_level"] == "HIGH"
    assert (strong["trend"], strong["regime"], strong["adx"] > 15) == ("UP", "bull_volatile", True)
    assert weak["trend"] == "SIDEWAYS"
    assert np.isnan(unknown["adx"]) and unknown["trend"] == "UP"


def test_regime_history_reads_the_term_structure_and_the_slow_slope_as_numbers() -> None:
    # Arrange: a rising market with a calm VIX of 18, inverted against a VIX3M of 17 on the last 10 closes
    sessions = pd.bdate_range("2024-01-01", periods=260)
    closes = pd.Series(np.linspace(100.0, 130.0, len(sessions)), index=sessions)
    vix = pd.Series(18.0, index=sessions)
    vix3m = pd.Series(20.0, index=sessions)
    vix3m.iloc[-10:] = 17.0

    # Act
    history = regime_history(closes, vix, PARAMS, vix3m)

    # Assert: volatile once the inversion has held the confirmation sessions
    last = history.iloc[-1]
    assert last["term_ratio"] == pytest.approx(18.0 / 17.0)
    assert last["slow_slope_pct"] > 0
    assert (last["raw_regime"], last["regime"]) == ("bull_volatile", "bull_volatile")
    assert history["regime"].iloc[-11] == "bull_calm"
