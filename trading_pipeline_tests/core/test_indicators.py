import math

import pandas as pd
import pytest

from trading_pipeline.core.indicators import ema, sma


def test_sma_is_mean_of_last_window_values_and_nan_during_warm_up():
    # Arrange
    series = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])

    # Act
    result = sma(series, 3)

    # Assert
    assert result.iloc[:2].isna().all()
    assert result.iloc[2:].tolist() == [2.0, 3.0, 4.0]


def test_sma_keeps_the_series_index():
    # Arrange
    index = pd.date_range("2024-01-02", periods=4, freq="B")
    series = pd.Series([10.0, 20.0, 30.0, 40.0], index=index)

    # Act
    result = sma(series, 2)

    # Assert
    assert result.index.equals(index)
    assert result.loc[index[-1]] == 35.0


def test_ema_follows_the_recursive_form_with_alpha_two_over_span_plus_one():
    # Arrange
    series = pd.Series([10.0, 11.0, 12.0, 13.0])
    alpha = 2 / (3 + 1)
    expected = [10.0]
    for value in series.iloc[1:]:
        expected.append(alpha * value + (1 - alpha) * expected[-1])

    # Act
    result = ema(series, 3)

    # Assert
    assert result.iloc[:2].isna().all()
    assert result.iloc[2:].tolist() == pytest.approx(expected[2:], abs=1e-12)


def test_ema_of_a_constant_series_is_that_constant():
    # Arrange
    series = pd.Series([7.5] * 30)

    # Act
    result = ema(series, 10)

    # Assert
    assert math.isclose(result.iloc[-1], 7.5)


@pytest.mark.parametrize("indicator", [sma, ema])
def test_non_positive_window_raises_naming_the_value(indicator):
    # Arrange
    series = pd.Series([1.0, 2.0])

    # Act / Assert
    with pytest.raises(ValueError, match="got 0"):
        indicator(series, 0)
