import math

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.indicators import (
    adx,
    atr,
    bollinger_bands,
    ema,
    macd,
    rsi,
    sma,
    true_range,
    wilder_average,
)
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data


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


def test_wilder_average_is_seeded_with_the_mean_then_moves_one_window_th_of_the_way():
    # Arrange
    values = pd.Series([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0])

    # Act
    result = wilder_average(values, 3)

    # Assert: seed at row 3 = mean(1, 2, 3) = 2; then 2 + (4 - 2) / 3 = 8/3; 8/3 + (5 - 8/3) / 3 = 31/9
    assert result.iloc[:3].isna().all()
    assert result.iloc[3:].tolist() == pytest.approx([2.0, 8 / 3, 31 / 9], abs=1e-12)


def test_rsi_uses_wilder_averages_of_gains_and_losses():
    # Arrange: changes +1, -0.5, +1, -0.5
    closes = pd.Series([10.0, 11.0, 10.5, 11.5, 11.0])

    # Act
    result = rsi(closes, 2)

    # Assert: row 2 gain 0.5, loss 0.25 -> 100 * 0.5 / 0.75
    #         row 3 gain 0.5 + (1 - 0.5)/2 = 0.75, loss 0.25 + (0 - 0.25)/2 = 0.125 -> 100 * 0.75 / 0.875
    #         row 4 gain 0.75 + (0 - 0.75)/2 = 0.375, loss 0.125 + (0.5 - 0.125)/2 = 0.3125
    #               -> 100 * 0.375 / 0.6875
    assert result.iloc[:2].isna().all()
    assert result.iloc[2:].tolist() == pytest.approx([200 / 3, 600 / 7, 600 / 11], abs=1e-9)


def test_rsi_of_a_rising_series_is_100_and_of_a_flat_series_is_neutral_50():
    # Arrange
    rising = pd.Series(np.arange(1.0, 21.0))
    flat = pd.Series([5.0] * 20)

    # Act / Assert
    assert (rsi(rising, 14).dropna() == 100.0).all()
    assert (rsi(flat, 14).dropna() == 50.0).all()


def test_macd_is_fast_minus_slow_ema_with_signal_and_histogram():
    # Arrange: fast span 1 is the close itself; slow span 3 (alpha 1/2) gives 1, 1.5, 2.25, 3.125
    closes = pd.Series([1.0, 2.0, 3.0, 4.0])

    # Act
    result = macd(closes, fast=1, slow=3, signal=2)

    # Assert: line = 3 - 2.25 = 0.75, 4 - 3.125 = 0.875; signal (alpha 2/3) = 0.75 + 2/3 · 0.125 = 5/6
    assert result["macd"].iloc[2:].tolist() == pytest.approx([0.75, 0.875], abs=1e-12)
    assert result["signal"].iloc[:3].isna().all()
    assert result["signal"].iloc[3] == pytest.approx(5 / 6, abs=1e-12)
    assert result["histogram"].iloc[3] == pytest.approx(0.875 - 5 / 6, abs=1e-12)


def test_bollinger_bands_use_population_std_and_report_percent_b_and_bandwidth():
    # Arrange: mean of 1, 2, 3 is 2, population std sqrt(2/3)
    closes = pd.Series([1.0, 2.0, 3.0])
    half_width = 2 * math.sqrt(2 / 3)

    # Act
    result = bollinger_bands(closes, window=3, num_std=2.0).iloc[-1]

    # Assert: %b = (3 - lower) / (upper - lower); bandwidth = (upper - lower) / middle
    assert result["middle"] == pytest.approx(2.0)
    assert result["upper"] == pytest.approx(2.0 + half_width)
    assert result["lower"] == pytest.approx(2.0 - half_width)
    assert result["percent_b"] == pytest.approx((1.0 + half_width) / (2 * half_width))
    assert result["bandwidth"] == pytest.approx(half_width)


def test_bollinger_percent_b_is_nan_when_the_bands_have_no_width():
    # Arrange
    closes = pd.Series([4.0, 4.0, 4.0])

    # Act
    result = bollinger_bands(closes, window=3).iloc[-1]

    # Assert
    assert result["upper"] == result["lower"] == 4.0
    assert math.isnan(result["percent_b"])


def test_true_range_counts_the_gap_from_the_previous_close_and_atr_is_its_wilder_average():
    # Arrange: bar 1 gaps up from 9.5 (TR 11 - 9.5 = 1.5); bar 2 gaps down from 10.5 (TR 10.5 - 8 = 2.5);
    #          bar 3 is inside the previous close (TR = high - low = 1)
    high = pd.Series([10.0, 11.0, 9.0, 9.5])
    low = pd.Series([9.0, 10.0, 8.0, 8.5])
    close = pd.Series([9.5, 10.5, 8.5, 9.0])

    # Act
    ranges = true_range(high, low, close)
    average = atr(high, low, close, 2)

    # Assert: ATR seed at row 2 = mean(1.5, 2.5) = 2; row 3 = 2 + (1 - 2) / 2 = 1.5
    assert math.isnan(ranges.iloc[0])
    assert ranges.iloc[1:].tolist() == [1.5, 2.5, 1.0]
    assert average.iloc[:2].isna().all()
    assert average.iloc[2:].tolist() == pytest.approx([2.0, 1.5])


def test_adx_of_a_steady_uptrend_reads_plus_di_50_minus_di_0_and_adx_100():
    # Arrange: every bar moves up 1 with a range of 2, so +DM = 1 = TR / 2 and -DM = 0 on every bar
    steps = np.arange(12.0)
    high, low, close = pd.Series(steps + 2), pd.Series(steps), pd.Series(steps + 1)

    # Act
    result = adx(high, low, close, 3)

    # Assert: DIs from row 3 (window), ADX from row 5 (2 · window - 1)
    assert result.iloc[:3].isna().all().all()
    assert result["plus_di"].iloc[3:].tolist() == pytest.approx([50.0] * 9)
    assert result["minus_di"].iloc[3:].tolist() == pytest.approx([0.0] * 9)
    assert result["adx"].iloc[:5].isna().all()
    assert result["adx"].iloc[5:].tolist() == pytest.approx([100.0] * 7)


@pytest.mark.parametrize(
    "call",
    [
        lambda s: rsi(s, 0),
        lambda s: atr(s, s, s, 0),
        lambda s: adx(s, s, s, 0),
        lambda s: bollinger_bands(s, 0),
        lambda s: wilder_average(s, 0),
    ],
)
def test_indicator_with_a_non_positive_window_raises_naming_window_and_value(call):
    # Arrange
    series = pd.Series([1.0, 2.0, 3.0])

    # Act / Assert
    with pytest.raises(ValueError, match="window must be >= 1, got 0"):
        call(series)


def test_macd_with_fast_not_shorter_than_slow_raises_naming_both():
    with pytest.raises(ValueError, match="fast=26, slow=12"):
        macd(pd.Series([1.0, 2.0]), fast=26, slow=12)


def test_bollinger_with_non_positive_num_std_raises_naming_the_value():
    with pytest.raises(ValueError, match="num_std must be > 0, got 0"):
        bollinger_bands(pd.Series([1.0, 2.0]), 2, num_std=0)


@pytest.fixture(scope="module")
def spy_bars() -> pd.DataFrame:
    """Real SPY daily bars 2005-2022 (Yahoo, split-adjusted), read in place."""
    frame = pd.read_csv(MARKET_DATA / "daily" / "SPY.csv", parse_dates=["Date"], index_col="Date")
    return frame.loc["2005":"2022"]


def _assert_matches(ours: pd.Series, reference: np.ndarray, rel: float, skip: int = 0) -> None:
    reference = pd.Series(reference, index=ours.index)
    assert ours.isna().iloc[skip:].equals(reference.isna().iloc[skip:])
    np.testing.assert_allclose(ours.iloc[skip:].dropna(), reference.iloc[skip:].dropna(), rtol=rel, atol=1e-9)


@needs_market_data
def test_rsi_atr_adx_and_bollinger_match_ta_lib_on_real_spy_history_from_the_first_value(spy_bars):
    # Arrange
    talib = pytest.importorskip("talib")
    high, low, close = spy_bars["High"], spy_bars["Low"], spy_bars["Close"]

    # Act
    directional = adx(high, low, close, 14)
    bands = bollinger_bands(close, 20, 2.0)
    upper, middle, lower = talib.BBANDS(close, 20, 2.0, 2.0, 0)

    # Assert: same Wilder seeding as TA-Lib, so the NaN warm-up and every value agree
    _assert_matches(rsi(close, 14), talib.RSI(close, 14), rel=1e-10)
    _assert_matches(atr(high, low, close, 14), talib.ATR(high, low, close, 14), rel=1e-10)
    _assert_matches(directional["plus_di"], talib.PLUS_DI(high, low, close, 14), rel=1e-10)
    _assert_matches(directional["minus_di"], talib.MINUS_DI(high, low, close, 14), rel=1e-10)
    _assert_matches(directional["adx"], talib.ADX(high, low, close, 14), rel=1e-10)
    _assert_matches(bands["upper"], upper, rel=1e-10)
    _assert_matches(bands["middle"], middle, rel=1e-10)
    _assert_matches(bands["lower"], lower, rel=1e-10)


@needs_market_data
def test_macd_matches_ta_lib_on_real_spy_history_once_the_ema_warm_up_has_decayed(spy_bars):
    # Arrange: TA-Lib seeds its EMAs with a mean, `ema` with the first close; 250 bars decay the difference
    talib = pytest.importorskip("talib")
    close = spy_bars["Close"]
    warm_up = 250

    # Act
    result = macd(close, 12, 26, 9)
    line, signal, histogram = talib.MACD(close, 12, 26, 9)

    # Assert: agreement to a millionth of a dollar
    for ours, reference in (
        (result["macd"], line),
        (result["signal"], signal),
        (result["histogram"], histogram),
    ):
        np.testing.assert_allclose(ours.iloc[warm_up:], reference[warm_up:], rtol=0, atol=1e-6)
