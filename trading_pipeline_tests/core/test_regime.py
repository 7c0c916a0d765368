from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from trading_pipeline.core.regime import (
    RegimeError,
    RegimeName,
    RegimeParams,
    Trend,
    VolLevel,
    trend_of,
)
from trading_pipeline.core.regime_history import LEVELS, classify_regime, vol_levels
from trading_pipeline.core.strategies.names import DEFAULT_PERMISSIONS, STRATEGY_NAMES
from trading_pipeline_tests.real_market_data import daily_closes, needs_market_data

PARAMS = RegimeParams(permissions=DEFAULT_PERMISSIONS)


def _closes(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2023-01-02", periods=len(values)))


def _classify_real_session(day: str):
    spy, vix = daily_closes("SPY"), daily_closes("VIX")
    return classify_regime(spy.loc[:day], float(vix.loc[day]), None, PARAMS)


def test_default_params_are_the_documented_ones():
    # Act
    params = RegimeParams()

    # Assert
    assert (params.fast_window, params.slow_window, params.trend_band) == (50, 200, 0.01)
    assert (params.vix_low, params.vix_high, params.vix_extreme) == (15.0, 25.0, 35.0)


def test_params_with_fast_window_not_below_slow_window_are_rejected_naming_both():
    # Act / Assert
    with pytest.raises(ValidationError, match=r"fast_window \(200\).*slow_window \(50\)"):
        RegimeParams(fast_window=200, slow_window=50)


def test_params_with_vix_thresholds_out_of_order_are_rejected_naming_them():
    # Act / Assert
    with pytest.raises(ValidationError, match=r"vix_high \(40.0\) < vix_extreme \(35.0\)"):
        RegimeParams(vix_high=40.0)


def test_params_out_of_bounds_are_rejected_naming_the_field():
    # Act / Assert
    with pytest.raises(ValidationError, match="trend_band"):
        RegimeParams(trend_band=-0.01)


def test_params_are_frozen():
    # Arrange
    params = RegimeParams()

    # Act / Assert
    with pytest.raises(ValidationError):
        params.fast_window = 20


@pytest.mark.parametrize(
    ("vix", "expected"),
    [
        (14.99, VolLevel.LOW),
        (15.0, VolLevel.NORMAL),
        (24.99, VolLevel.NORMAL),
        (25.0, VolLevel.HIGH),
        (35.0, VolLevel.EXTREME),
        (82.69, VolLevel.EXTREME),
    ],
)
def test_vix_thresholds_bucket_vol_level_with_lower_bounds_inclusive(vix, expected):
    # Act: the Schmitt trigger of regime_history without a margin is the plain bucketing
    level = LEVELS[int(vol_levels(np.array([vix]), PARAMS, margin=0.0)[0])]

    # Assert
    assert level is expected


@pytest.mark.parametrize(
    ("close", "sma_fast", "sma_slow", "expected"),
    [
        (102.0, 100.0, 95.0, Trend.UP),
        (100.5, 100.0, 95.0, Trend.SIDEWAYS),  # close inside the band around the fast average
        (102.0, 100.0, 99.5, Trend.SIDEWAYS),  # averages not separated by the band
        (102.0, 100.0, 105.0, Trend.SIDEWAYS),  # above the fast average, but fast below slow
        (90.0, 100.0, 105.0, Trend.DOWN),
        (90.0, 100.0, 95.0, Trend.DOWN),  # crash through both averages before they cross
        (96.0, 100.0, 95.0, Trend.SIDEWAYS),  # below the fast average, above the slow one
        (99.5, 100.0, 99.0, Trend.SIDEWAYS),
    ],
)
def test_trend_compares_close_with_both_averages_beyond_the_band(close, sma_fast, sma_slow, expected):
    # Act
    trend = trend_of(close, sma_fast, sma_slow, band=0.01)

    # Assert
    assert trend is expected


def test_rising_market_with_low_vix_is_bull_calm_and_allows_short_strangles():
    # Arrange
    closes = _closes(np.linspace(100.0, 150.0, 260))

    # Act
    regime = classify_regime(closes, vix=12.0, iv_rank=35.0, params=PARAMS)

    # Assert
    assert (regime.trend, regime.vol_level, regime.name) == (Trend.UP, VolLevel.LOW, "bull_calm")
    assert regime.allows("short_strangle")
    assert not regime.allows("iron_condor")


def test_regime_carries_the_inputs_it_was_classified_from():
    # Arrange
    closes = _closes(np.linspace(100.0, 150.0, 260))

    # Act
    regime = classify_regime(closes, vix=12.0, iv_rank=35.0, params=PARAMS)

    # Assert
    assert regime.close == pytest.approx(150.0)
    assert regime.sma_fast == pytest.approx(closes.iloc[-50:].mean())
    assert regime.sma_slow == pytest.approx(closes.iloc[-200:].mean())
    assert (regime.vix, regime.iv_rank) == (12.0, 35.0)
    assert regime.permissions == DEFAULT_PERMISSIONS[RegimeName.BULL_CALM]


def test_falling_market_with_high_vix_is_bear_volatile_and_forbids_short_strangles():
    # Arrange
    closes = _closes(np.linspace(150.0, 100.0, 260))

    # Act
    regime = classify_regime(closes, vix=28.0, iv_rank=None, params=PARAMS)

    # Assert
    assert (regime.trend, regime.vol_level, regime.name) == (Trend.DOWN, VolLevel.HIGH, "bear_volatile")
    assert not regime.allows("short_strangle")


def test_flat_market_is_a_range_regime_that_allows_iron_condors():
    # Arrange
    closes = _closes(np.full(250, 100.0))

    # Act
    regime = classify_regime(closes, vix=18.0, iv_rank=None, params=PARAMS)

    # Assert
    assert (regime.trend, regime.name) == (Trend.SIDEWAYS, "range_calm")
    assert regime.allows("iron_condor")


def test_extreme_vix_is_a_crisis_that_permits_nothing_whatever_the_trend():
    # Arrange
    closes = _closes(np.linspace(100.0, 150.0, 260))

    # Act
    regime = classify_regime(closes, vix=40.0, iv_rank=None, params=PARAMS)

    # Assert
    assert (regime.trend, regime.vol_level, regime.name) == (Trend.UP, VolLevel.EXTREME, "crisis")
    assert regime.permissions == frozenset()


def test_short_strangle_is_permitted_only_in_bull_and_range_regimes():
    # Act
    allowed = {name for name, strategies in DEFAULT_PERMISSIONS.items() if "short_strangle" in strategies}

    # Assert
    assert allowed == {"bull_calm", "bull_volatile", "range_calm", "range_volatile"}


def test_iron_condor_is_permitted_only_in_range_regimes():
    # Act
    allowed = {name for name, strategies in DEFAULT_PERMISSIONS.items() if "iron_condor" in strategies}

    # Assert
    assert allowed == {"range_calm", "range_volatile"}


def test_permissions_table_covers_every_regime_with_known_strategy_names():
    # Act
    named = set().union(*DEFAULT_PERMISSIONS.values())

    # Assert
    assert set(DEFAULT_PERMISSIONS) == set(RegimeName)
    assert named <= STRATEGY_NAMES


def test_a_regime_the_permissions_leave_out_permits_nothing():
    # Arrange: permissions for the calm bull only
    params = RegimeParams(permissions={RegimeName.BULL_CALM: frozenset({"short_strangle"})})

    # Act
    regime = classify_regime(_closes(np.full(200, 100.0)), vix=18.0, iv_rank=None, params=params)

    # Assert
    assert regime.name is RegimeName.RANGE_CALM
    assert regime.permissions == frozenset() and not regime.allows("short_strangle")


def test_fewer_closes_than_the_slow_window_raises_naming_the_count():
    # Arrange
    closes = _closes(np.full(199, 100.0))

    # Act / Assert
    with pytest.raises(RegimeError, match="slow_window=200 daily closes, got 199"):
        classify_regime(closes, vix=18.0, iv_rank=None, params=PARAMS)


def test_missing_close_inside_the_slow_window_raises_naming_the_date():
    # Arrange
    closes = _closes(np.full(220, 100.0))
    closes.iloc[-3] = np.nan

    # Act / Assert
    with pytest.raises(RegimeError, match=f"got nan at {closes.index[-3]}"):
        classify_regime(closes, vix=18.0, iv_rank=None, params=PARAMS)


@pytest.mark.parametrize(("vix", "iv_rank"), [(float("nan"), None), (0.0, None), (18.0, 101.0)])
def test_invalid_vix_or_iv_rank_raises(vix, iv_rank):
    # Arrange
    closes = _closes(np.full(200, 100.0))

    # Act / Assert
    with pytest.raises(RegimeError, match="must be"):
        classify_regime(closes, vix=vix, iv_rank=iv_rank, params=PARAMS)


@needs_market_data
def test_covid_crash_2020_03_16_is_a_crisis_with_a_down_trend():
    # Act
    regime = _classify_real_session("2020-03-16")

    # Assert
    assert (regime.name, regime.trend, regime.vol_level) == ("crisis", Trend.DOWN, VolLevel.EXTREME)
    assert regime.vix == pytest.approx(82.69)
    assert not regime.allows("short_strangle")


@needs_market_data
def test_financial_crisis_2008_11_20_has_extreme_vol():
    # Act
    regime = _classify_real_session("2008-11-20")

    # Assert
    assert (regime.name, regime.trend, regime.vol_level) == ("crisis", Trend.DOWN, VolLevel.EXTREME)


@needs_market_data
def test_mid_2017_is_bull_calm():
    # Act
    regime = _classify_real_session("2017-07-14")

    # Assert
    assert (regime.name, regime.trend, regime.vol_level) == ("bull_calm", Trend.UP, VolLevel.LOW)
    assert regime.allows("short_strangle")


def test_size_multipliers_must_list_every_regime_within_bounds() -> None:
    without_crisis = {n: m for n, m in PARAMS.size_multipliers.items() if n is not RegimeName.CRISIS}
    with pytest.raises(
        ValidationError, match=r"size_multipliers must list every regime; missing \['crisis'\]"
    ):
        RegimeParams(size_multipliers=without_crisis)
    too_big = {**PARAMS.size_multipliers, RegimeName.RANGE_CALM: 3.0}
    with pytest.raises(ValidationError, match=r"size_multipliers.range_calm must lie in \[0, 2.0\], got 3.0"):
        RegimeParams(size_multipliers=too_big)


@pytest.mark.parametrize(
    ("multiplier", "contracts", "sized"), [(1.0, 3, 3), (0.5, 3, 2), (0.5, 1, 1), (0.0, 5, 0)]
)
def test_a_regime_scales_size_rounding_half_up_and_keeps_one_contract_unless_its_multiplier_is_zero(
    multiplier: float, contracts: int, sized: int
) -> None:
    # Arrange
    regime = classify_regime(_closes(np.linspace(100.0, 130.0, 260)), vix=12.0, iv_rank=None, params=PARAMS)

    # Act / Assert
    assert replace(regime, size_multiplier=multiplier).sized(contracts) == sized


def test_the_regime_takes_its_permissions_and_size_from_the_configuration() -> None:
    # Arrange: a rising market with a VIX of 28 is bull_volatile
    params = PARAMS.model_copy(
        update={
            "permissions": {**PARAMS.permissions, RegimeName.BULL_VOLATILE: frozenset({"iron_condor"})},
            "size_multipliers": {**PARAMS.size_multipliers, RegimeName.BULL_VOLATILE: 0.25},
        }
    )

    # Act
    regime = classify_regime(_closes(np.linspace(100.0, 130.0, 260)), vix=28.0, iv_rank=None, params=params)

    # Assert
    assert regime.name is RegimeName.BULL_VOLATILE
    assert regime.permissions == {"iron_condor"} and regime.size_multiplier == 0.25


def test_a_falling_slow_average_holds_an_up_trend_back_and_an_unknown_slope_does_not() -> None:
    # Arrange: the bullish stack close > fast > slow, clear of the band
    stack = (110.0, 105.0, 100.0, 0.01)

    # Act / Assert
    assert trend_of(*stack, slow_slope_pct=-0.5) is Trend.SIDEWAYS
    assert trend_of(*stack, slow_slope_pct=0.5) is Trend.UP
    assert trend_of(*stack) is Trend.UP
