import math

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.realized import (
    TermStructureShape,
    close_to_close_vol,
    garman_klass_vol,
    iv_rv_ratio,
    parkinson_vol,
    term_structure_shape,
    vix_term_structure,
    yang_zhang_vol,
)
from trading_pipeline.core.volatility import VolatilityError, realized_vol
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

LN2 = math.log(2.0)


def _random_ohlc(rows: int, seed: int) -> pd.DataFrame:
    """Small synthetic OHLC bars with overnight gaps and highs/lows that contain open and close."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    open_ = close * np.exp(rng.normal(0, 0.005, rows))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.006, rows)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.006, rows)))
    index = pd.bdate_range("2024-01-02", periods=rows)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close}, index=index)


def _gbm_bars(sigma: float, days: int, steps: int, overnight_share: float, seed: int) -> pd.DataFrame:
    """Daily bars of a constant-vol GBM: `steps` samples a session, `overnight_share` of variance at night."""
    rng = np.random.default_rng(seed)
    night_var = sigma**2 / 252 * overnight_share
    step_var = sigma**2 / 252 * (1 - overnight_share) / steps
    night = rng.normal(-0.5 * night_var, math.sqrt(night_var), days)
    intraday = rng.normal(-0.5 * step_var, math.sqrt(step_var), (days, steps))
    log_open = np.cumsum(night) + np.concatenate([[0.0], np.cumsum(intraday.sum(axis=1))[:-1]])
    path = log_open[:, None] + np.concatenate([np.zeros((days, 1)), np.cumsum(intraday, axis=1)], axis=1)
    prices = 100 * np.exp(np.column_stack([path[:, 0], path.max(axis=1), path.min(axis=1), path[:, -1]]))
    index = pd.bdate_range("2010-01-04", periods=days)
    return pd.DataFrame(prices, columns=["open", "high", "low", "close"], index=index)


def _loop_estimates(bars: pd.DataFrame, window: int, periods_per_year: int) -> dict[str, list[float]]:
    """Parkinson, Garman-Klass and Yang-Zhang written out bar by bar, window by window, from the papers."""
    o, h, lo, c = (bars[column].tolist() for column in ("open", "high", "low", "close"))
    out: dict[str, list[float]] = {"parkinson": [], "garman_klass": [], "yang_zhang": []}
    for end in range(len(c)):
        if end + 1 < window:
            out["parkinson"].append(math.nan)
            out["garman_klass"].append(math.nan)
        else:
            bars_in = range(end + 1 - window, end + 1)
            park = sum(math.log(h[i] / lo[i]) ** 2 for i in bars_in) / (4 * LN2 * window)
            gk = (
                sum(
                    0.5 * math.log(h[i] / lo[i]) ** 2 - (2 * LN2 - 1) * math.log(c[i] / o[i]) ** 2
                    for i in bars_in
                )
                / window
            )
            out["parkinson"].append(math.sqrt(park * periods_per_year))
            out["garman_klass"].append(math.sqrt(gk * periods_per_year))
        if end < window:
            out["yang_zhang"].append(math.nan)
            continue
        bars_in = range(end + 1 - window, end + 1)
        overnight = [math.log(o[i] / c[i - 1]) for i in bars_in]
        body = [math.log(c[i] / o[i]) for i in bars_in]
        rs = [
            math.log(h[i] / c[i]) * math.log(h[i] / o[i]) + math.log(lo[i] / c[i]) * math.log(lo[i] / o[i])
            for i in bars_in
        ]
        mean_o, mean_c = sum(overnight) / window, sum(body) / window
        var_o = sum((x - mean_o) ** 2 for x in overnight) / (window - 1)
        var_c = sum((x - mean_c) ** 2 for x in body) / (window - 1)
        k = 0.34 / (1.34 + (window + 1) / (window - 1))
        out["yang_zhang"].append(
            math.sqrt((var_o + k * var_c + (1 - k) * sum(rs) / window) * periods_per_year)
        )
    return out


def test_parkinson_is_mean_squared_log_range_over_four_ln_2():
    # Arrange: log ranges 0.1 and 0.2
    high = pd.Series([math.exp(0.1), math.exp(0.2)])
    low = pd.Series([1.0, 1.0])

    # Act
    result = parkinson_vol(high, low, window=2, periods_per_year=1)

    # Assert: (0.01 + 0.04) / 2 / (4 ln 2) = 0.025 / 2.7726 = 0.0090168 -> sqrt = 0.094957
    assert math.isnan(result.iloc[0])
    assert result.iloc[1] == pytest.approx(math.sqrt(0.025 / (4 * LN2)), rel=1e-12)
    assert result.iloc[1] == pytest.approx(0.094957, abs=1e-6)


def test_garman_klass_weights_the_range_by_half_and_the_body_by_2ln2_minus_1():
    # Arrange: one bar with ln(H/L) = 0.1 and ln(C/O) = 0.05
    open_, high, low, close = (pd.Series([v]) for v in (1.0, math.exp(0.1), 1.0, math.exp(0.05)))

    # Act
    result = garman_klass_vol(open_, high, low, close, window=1, periods_per_year=1)

    # Assert: 0.5 · 0.01 - 0.386294 · 0.0025 = 0.005 - 0.000966 = 0.0040343 -> sqrt = 0.063516
    assert result.iloc[0] == pytest.approx(0.063516, abs=1e-6)


def test_yang_zhang_combines_overnight_body_and_rogers_satchell_with_k():
    # Arrange: two bars after a first close of 1; no high/low beyond open/close, so Rogers-Satchell is 0.
    #          overnight log returns 0.01, -0.01; bodies 0.02, 0.0
    close = pd.Series([1.0, math.exp(0.03), math.exp(0.02)])
    open_ = pd.Series([1.0, math.exp(0.01), math.exp(0.02)])
    high, low = np.maximum(open_, close), np.minimum(open_, close)

    # Act
    result = yang_zhang_vol(open_, high, low, close, window=2, periods_per_year=1)

    # Assert: var_o = (0.01² + 0.01²) / 1 = 0.0002; var_c = (0.01² + 0.01²) / 1 = 0.0002;
    #         k = 0.34 / (1.34 + 3/1) = 0.078341 -> 0.0002 + 0.078341 · 0.0002 = 0.00021567 -> sqrt = 0.014686
    assert result.iloc[:2].isna().all()
    assert result.iloc[2] == pytest.approx(0.014686, abs=1e-6)


def test_estimators_match_a_bar_by_bar_loop_on_a_small_synthetic_frame():
    # Arrange
    bars = _random_ohlc(30, seed=7)
    expected = _loop_estimates(bars, window=5, periods_per_year=252)
    o, h, lo, c = bars["open"], bars["high"], bars["low"], bars["close"]

    # Act
    results = {
        "parkinson": parkinson_vol(h, lo, 5),
        "garman_klass": garman_klass_vol(o, h, lo, c, 5),
        "yang_zhang": yang_zhang_vol(o, h, lo, c, 5),
    }

    # Assert
    for name, result in results.items():
        np.testing.assert_allclose(result.to_numpy(), expected[name], rtol=1e-10, err_msg=name)


def test_close_to_close_vol_is_the_one_realized_vol_formula():
    # Arrange: log returns +0.01, -0.01 -> sample std sqrt(0.0002)
    closes = pd.Series([100.0, 100 * math.exp(0.01), 100.0])

    # Act
    result = close_to_close_vol(closes, window=2, periods_per_year=252)

    # Assert
    assert result.iloc[-1] == pytest.approx(math.sqrt(0.0002 * 252), rel=1e-12)
    pd.testing.assert_series_equal(result, realized_vol(closes, 2, 252))


def test_constant_vol_gbm_gives_back_its_sigma_for_close_to_close_and_yang_zhang():
    # Arrange: sigma 20%, a quarter of the variance overnight, 2000 steps a session (discrete highs and
    #          lows read slightly low, ~2%)
    bars = _gbm_bars(sigma=0.2, days=1000, steps=2000, overnight_share=0.25, seed=3)
    window = len(bars) - 1

    # Act
    c2c = close_to_close_vol(bars["close"], window).iloc[-1]
    yz = yang_zhang_vol(bars["open"], bars["high"], bars["low"], bars["close"], window).iloc[-1]
    park = parkinson_vol(bars["high"], bars["low"], window).iloc[-1]

    # Assert: Parkinson sees only the intraday share, sqrt(0.75) · 20% = 17.3%
    assert c2c == pytest.approx(0.2, rel=0.05)
    assert yz == pytest.approx(0.2, rel=0.05)
    assert park == pytest.approx(0.2 * math.sqrt(0.75), rel=0.05)


@needs_market_data
def test_range_estimators_agree_with_close_to_close_on_real_spy_20_day_vol():
    # Arrange
    bars = pd.read_csv(MARKET_DATA / "daily" / "SPY.csv", parse_dates=["Date"], index_col="Date").loc[
        "2005":"2022"
    ]
    o, h, lo, c = bars["Open"], bars["High"], bars["Low"], bars["Close"]

    # Act
    c2c = close_to_close_vol(c, 20)
    ratios = {
        "parkinson": (parkinson_vol(h, lo, 20) / c2c).dropna(),
        "garman_klass": (garman_klass_vol(o, h, lo, c, 20) / c2c).dropna(),
        "yang_zhang": (yang_zhang_vol(o, h, lo, c, 20) / c2c).dropna(),
    }

    # Assert: every day within a factor 2; Yang-Zhang centred on close-to-close, Parkinson and
    #         Garman-Klass lower (they miss overnight gaps)
    for name, ratio in ratios.items():
        assert len(ratio) > 4000, name
        assert ratio.between(0.5, 2.0).all(), name
    assert 0.9 < ratios["yang_zhang"].median() < 1.15
    assert 0.7 < ratios["parkinson"].median() < 1.0
    assert 0.7 < ratios["garman_klass"].median() < 1.0


@pytest.mark.parametrize(
    "call",
    [
        lambda s: parkinson_vol(s, s, 0),
        lambda s: garman_klass_vol(s, s, s, s, 0),
        lambda s: yang_zhang_vol(s, s, s, s, 1),
    ],
)
def test_estimator_with_too_short_a_window_raises_naming_window_and_value(call):
    # Arrange
    series = pd.Series([1.0, 2.0, 3.0])

    # Act / Assert
    with pytest.raises(VolatilityError, match=r"window must be >= \d, got [01]"):
        call(series)


def test_estimator_with_a_non_positive_price_raises_naming_the_price_and_date():
    # Arrange
    index = pd.bdate_range("2024-01-02", periods=3)
    high = pd.Series([2.0, 2.0, 2.0], index=index)
    low = pd.Series([1.0, 0.0, 1.0], index=index)

    # Act / Assert
    with pytest.raises(VolatilityError, match=r"low must be positive, got 0\.0 at 2024-01-03"):
        parkinson_vol(high, low, 2)


def test_iv_rv_ratio_aligns_by_date_and_is_nan_where_rv_is_not_positive():
    # Arrange
    index = pd.bdate_range("2024-01-02", periods=3)
    iv = pd.Series([0.20, 0.30, 0.25], index=index)
    rv = pd.Series([0.15, 0.0], index=index[1:][::-1])  # 0.15 on the 3rd, 0.0 on the 2nd day

    # Act
    result = iv_rv_ratio(iv, rv)

    # Assert: no RV on the 1st day, zero RV on the 2nd, 0.25 / 0.15 on the 3rd
    assert result.index.equals(index)
    assert result.iloc[:2].isna().all()
    assert result.iloc[2] == pytest.approx(0.25 / 0.15)


def test_term_structure_shape_uses_a_flat_band_around_parity():
    # Arrange: near/far = 0.97, 0.99, 1.0, 1.01, 1.03 and an unknown far level
    near = pd.Series([97.0, 99.0, 100.0, 101.0, 103.0, 100.0])
    far = pd.Series([100.0, 100.0, 100.0, 100.0, 100.0, np.nan])

    # Act
    result = term_structure_shape(near, far, band=0.02)

    # Assert
    assert result.iloc[:5].tolist() == ["contango", "flat", "flat", "flat", "backwardation"]
    assert pd.isna(result.iloc[5])


def test_vix_term_structure_reports_both_ratios_and_the_shape_from_vix_over_vix3m():
    # Arrange
    vix9d = pd.Series([11.0, 40.0])
    vix = pd.Series([12.0, 32.0])
    vix3m = pd.Series([15.0, 0.0])  # a zero level is a data error, read as unknown

    # Act
    result = vix_term_structure(vix9d, vix, vix3m)

    # Assert
    assert result["vix9d_vix"].tolist() == pytest.approx([11 / 12, 40 / 32])
    assert result["vix_vix3m"].iloc[0] == pytest.approx(0.8)
    assert math.isnan(result["vix_vix3m"].iloc[1])
    assert result["shape"].iloc[0] == TermStructureShape.CONTANGO
    assert pd.isna(result["shape"].iloc[1])


def test_term_structure_band_outside_zero_to_one_raises_naming_the_value():
    with pytest.raises(ValueError, match=r"band must be in \[0, 1\), got 1\.5"):
        term_structure_shape(pd.Series([1.0]), pd.Series([1.0]), band=1.5)


def _cboe_closes(name: str) -> pd.Series:
    frame = pd.read_csv(MARKET_DATA / "cboe" / name, encoding="utf-8-sig")
    return pd.Series(frame["CLOSE"].to_numpy(), index=pd.to_datetime(frame["DATE"], format="%m/%d/%Y"))


@needs_market_data
def test_real_vix_curve_is_in_backwardation_on_2020_03_16_and_mostly_in_contango_in_2017():
    # Arrange
    vix = pd.read_csv(MARKET_DATA / "daily" / "VIX.csv", parse_dates=["Date"], index_col="Date")["Close"]
    vix9d, vix3m = _cboe_closes("VIX9D_History.csv"), _cboe_closes("VIX3M_History.csv")

    # Act
    curve = vix_term_structure(vix9d, vix, vix3m).loc["2011":"2022"]

    # Assert
    crash = curve.loc["2020-03-16"]
    assert crash["shape"] == TermStructureShape.BACKWARDATION
    assert crash["vix9d_vix"] > 1.0
    calm = curve.loc["2017", "shape"].dropna()
    assert len(calm) > 240
    assert (calm == TermStructureShape.CONTANGO).mean() > 0.9
