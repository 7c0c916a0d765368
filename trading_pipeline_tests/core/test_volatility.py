from datetime import date, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.calendar import at_et, years_to_expiry
from trading_pipeline.core.volatility import (
    InsufficientHistoryError,
    VolatilityError,
    atm_iv_by_expiry,
    constant_maturity_atm_iv,
    iv_percentile,
    iv_rank,
    near_the_money,
    realized_vol,
)
from trading_pipeline_tests.real_market_data import MARKET_DATA, daily_closes, needs_market_data

#: Vendor placeholder IV on expired or untradeable contracts (they also carry zero greeks).
PLACEHOLDER_IV = 0.113826
GREEKS = ["delta", "gamma", "rho", "theta", "vega"]
#: SPY close on the quote date of the recorded chain (SOURCES.md).
SPY_CLOSE_2015_01_05 = 201.72


def _chain(spot: float, iv_by_days: dict[int, float], strikes=(90.0, 100.0, 110.0)) -> pd.DataFrame:
    """A chain with a flat smile per expiry: every call and put of `days` carries the same IV."""
    rows = [
        {
            "expiration": pd.Timestamp("2024-01-02") + pd.Timedelta(days=days),
            "strike": strike,
            "right": right,
            "iv": iv,
            "t_years": days / 365,
            "underlying_price": spot,
        }
        for days, iv in iv_by_days.items()
        for strike in strikes
        for right in ("C", "P")
    ]
    return pd.DataFrame(rows)


def _smile(rows: list[tuple[float, str, float]], spot: float = 100.0) -> pd.DataFrame:
    """One 30-day expiration with explicit (strike, right, iv) rows."""
    return pd.DataFrame(
        {
            "expiration": pd.Timestamp("2024-02-01"),
            "strike": [r[0] for r in rows],
            "right": [r[1] for r in rows],
            "iv": [r[2] for r in rows],
            "t_years": 30 / 365,
            "underlying_price": spot,
        }
    )


def _load_recorded_chain(path: Path, quote_day: date, spot: float) -> pd.DataFrame:
    """Standard contracts with real IVs, expiring on or after the quote day, in the core layout.

    Saturday-dated monthlies stop trading on the Friday before, which is used as the expiration.
    """
    raw = pd.read_csv(path, skipinitialspace=True)
    placeholder = (raw["implied vol"] == PLACEHOLDER_IV) & (raw[GREEKS] == 0).all(axis=1)
    standard = raw.loc[(raw["nonstd"] == 0) & ~placeholder]
    listed = pd.to_datetime(standard["expiration"])
    last_trading = listed - pd.to_timedelta((listed.dt.day_of_week == 5).astype(int), unit="D")
    keep = last_trading >= pd.Timestamp(quote_day)
    quote_time = at_et(quote_day, time(16, 0))
    expirations = last_trading[keep]
    return pd.DataFrame(
        {
            "expiration": expirations,
            "strike": standard.loc[keep, "strike"].astype(float),
            "right": standard.loc[keep, "put/call"],
            "iv": standard.loc[keep, "implied vol"].astype(float),
            "t_years": [years_to_expiry(quote_time, d.date()) for d in expirations],
            "underlying_price": spot,
        }
    )


def test_atm_iv_interpolates_linearly_between_the_strikes_around_spot():
    # Arrange
    chain = _smile([(100.0, "C", 0.20), (105.0, "C", 0.25)], spot=101.0)

    # Act
    result = atm_iv_by_expiry(chain)

    # Assert
    assert result["atm_iv"].tolist() == pytest.approx([0.21], abs=1e-12)
    assert result["t_years"].tolist() == pytest.approx([30 / 365])
    assert list(result.columns) == ["expiration", "t_years", "atm_iv"]


def test_near_the_money_keeps_the_strikes_an_atm_iv_needs():
    # Arrange: strikes from 80 to 120 around a 101 spot.
    chain = _smile(
        [(k, "C", 0.2 + (k - 100.0) / 1000) for k in (80.0, 95.0, 100.0, 105.0, 106.1, 120.0)], spot=101.0
    )

    # Act
    near = near_the_money(chain, band=0.05)

    # Assert: 95.96-106.05 is within 5% of 101; the ATM IV is the same from the near rows alone.
    assert near["strike"].tolist() == [100.0, 105.0]
    assert atm_iv_by_expiry(near)["atm_iv"].tolist() == pytest.approx(
        atm_iv_by_expiry(chain)["atm_iv"].tolist()
    )


def test_atm_iv_averages_call_and_put_at_each_strike():
    # Arrange
    chain = _smile([(100.0, "C", 0.20), (100.0, "P", 0.22), (110.0, "C", 0.30), (110.0, "P", 0.30)])

    # Act
    result = atm_iv_by_expiry(chain)

    # Assert
    assert result["atm_iv"].iloc[0] == pytest.approx(0.21, abs=1e-12)


def test_atm_iv_ignores_rows_with_nan_iv():
    # Arrange
    chain = _smile([(100.0, "C", np.nan), (100.0, "P", 0.22), (110.0, "C", 0.30)])

    # Act
    result = atm_iv_by_expiry(chain)

    # Assert
    assert result["atm_iv"].iloc[0] == pytest.approx(0.22, abs=1e-12)


def test_atm_iv_leaves_out_an_expiration_whose_strikes_do_not_bracket_spot():
    # Arrange
    chain = _smile([(100.0, "C", 0.20), (105.0, "C", 0.25)], spot=120.0)

    # Act
    result = atm_iv_by_expiry(chain)

    # Assert
    assert result.empty


def test_atm_iv_on_a_chain_missing_columns_raises_naming_them():
    # Arrange
    chain = _smile([(100.0, "C", 0.20)]).drop(columns=["t_years"])

    # Act / Assert
    with pytest.raises(VolatilityError, match="t_years"):
        atm_iv_by_expiry(chain)


def test_flat_20pct_vol_gives_a_30_day_iv_of_exactly_20pct():
    # Arrange
    chain = _chain(spot=100.0, iv_by_days={9: 0.20, 23: 0.20, 44: 0.20, 72: 0.20})

    # Act
    result = constant_maturity_atm_iv(chain, target_days=30)

    # Assert
    assert result == pytest.approx(0.20, abs=1e-12)


def test_30_day_iv_interpolates_total_variance_between_the_bracketing_expiries():
    # Arrange: total variances 0.30² · 20/365 and 0.20² · 50/365; 30 days is a third of the way
    chain = _chain(spot=100.0, iv_by_days={20: 0.30, 50: 0.20})
    variance_times_365 = 0.09 * 20 + (0.04 * 50 - 0.09 * 20) / 3

    # Act
    result = constant_maturity_atm_iv(chain, target_days=30)

    # Assert
    assert result == pytest.approx(np.sqrt(variance_times_365 / 30), abs=1e-12)


def test_target_before_the_first_expiry_uses_that_expiry_atm_iv():
    # Arrange
    chain = _chain(spot=100.0, iv_by_days={45: 0.18, 80: 0.22})

    # Act
    result = constant_maturity_atm_iv(chain, target_days=30)

    # Assert
    assert result == pytest.approx(0.18, abs=1e-12)


def test_target_after_the_last_expiry_uses_that_expiry_atm_iv():
    # Arrange
    chain = _chain(spot=100.0, iv_by_days={7: 0.25, 14: 0.21})

    # Act
    result = constant_maturity_atm_iv(chain, target_days=30)

    # Assert
    assert result == pytest.approx(0.21, abs=1e-12)


def test_expirations_under_two_days_out_are_ignored():
    # Arrange
    chain = _chain(spot=100.0, iv_by_days={1: 0.90, 40: 0.20})

    # Act
    result = constant_maturity_atm_iv(chain, target_days=30)

    # Assert
    assert result == pytest.approx(0.20, abs=1e-12)


def test_chain_without_any_iv_raises_naming_what_is_missing():
    # Arrange
    chain = _chain(spot=100.0, iv_by_days={20: np.nan, 50: np.nan})

    # Act / Assert
    with pytest.raises(VolatilityError, match=r"no usable expiration.*2 expirations, 0 with finite"):
        constant_maturity_atm_iv(chain)


def test_chain_with_only_expiring_options_raises():
    # Arrange
    chain = _chain(spot=100.0, iv_by_days={1: 0.30})

    # Act / Assert
    with pytest.raises(VolatilityError, match="none at least 2 days from expiry"):
        constant_maturity_atm_iv(chain)


def test_iv_rank_and_percentile_of_known_history():
    # Arrange
    history = np.arange(200, dtype=float)  # 0 .. 199

    # Act
    rank = iv_rank(history, 150.0)
    percentile = iv_percentile(history, 150.0)

    # Assert
    assert rank == pytest.approx(150 / 199 * 100)
    assert percentile == pytest.approx(75.0)


def test_iv_rank_counts_current_in_the_range():
    # Arrange
    history = np.linspace(10.0, 30.0, 250)

    # Act
    above = iv_rank(history, 40.0)
    below = iv_rank(history, 5.0)

    # Assert
    assert above == 100.0
    assert below == 0.0


def test_iv_rank_of_a_flat_history_is_zero():
    # Arrange
    history = [0.2] * 250

    # Act
    rank = iv_rank(history, 0.2)

    # Assert
    assert rank == 0.0


def test_iv_rank_and_percentile_ignore_nans():
    # Arrange
    clean = pd.Series(np.arange(200, dtype=float))
    with_gaps = pd.concat([clean, pd.Series([np.nan] * 30)], ignore_index=True)

    # Act
    rank, percentile = iv_rank(with_gaps, 120.0), iv_percentile(with_gaps, 120.0)

    # Assert
    assert rank == iv_rank(clean, 120.0)
    assert percentile == iv_percentile(clean, 120.0)


@pytest.mark.parametrize("statistic", [iv_rank, iv_percentile])
def test_insufficient_history_raises_naming_the_count(statistic):
    # Arrange: 250 values, but only 199 of them finite
    history = [0.2 + i / 1000 for i in range(199)] + [np.nan] * 51

    # Act / Assert
    with pytest.raises(InsufficientHistoryError, match="199 finite observations; at least 200"):
        statistic(history, 0.25)


def test_insufficient_history_is_a_volatility_error_and_the_minimum_is_configurable():
    # Arrange
    history = [0.1, 0.2, 0.3]

    # Act
    rank = iv_rank(history, 0.2, min_observations=3)

    # Assert
    assert rank == pytest.approx(50.0)
    assert issubclass(InsufficientHistoryError, VolatilityError)


def test_realized_vol_is_annualized_sample_std_of_log_returns():
    # Arrange: log returns +1%, -1%, +1%, -1%
    closes = pd.Series(100.0 * np.exp(np.cumsum([0.0, 0.01, -0.01, 0.01, -0.01])))

    # Act
    result = realized_vol(closes, window=4, periods_per_year=252)

    # Assert
    assert result.iloc[:4].isna().all()
    assert result.iloc[4] == pytest.approx(np.sqrt(4 * 0.01**2 / 3) * np.sqrt(252), rel=1e-12)


def test_realized_vol_of_constant_vol_gbm_is_close_to_its_sigma():
    # Arrange
    rng = np.random.default_rng(20240102)
    sigma, dt = 0.25, 1 / 252
    log_returns = (0.05 - sigma**2 / 2) * dt + sigma * np.sqrt(dt) * rng.standard_normal(5000)
    closes = pd.Series(100.0 * np.exp(np.concatenate([[0.0], np.cumsum(log_returns)])))

    # Act
    yearly = realized_vol(closes, window=252)

    # Assert
    assert yearly.dropna().mean() == pytest.approx(sigma, rel=0.03)


def test_realized_vol_rejects_a_non_positive_close():
    # Arrange
    closes = pd.Series([100.0, 101.0, 0.0, 102.0])

    # Act / Assert
    with pytest.raises(VolatilityError, match=r"close must be positive, got 0\.0 at 2"):
        realized_vol(closes, window=2)


@needs_market_data
def test_vix_rank_of_vix_on_2020_03_16_is_100_and_in_july_2017_below_10():
    # Arrange
    vix = daily_closes("VIX")

    def rank_on(day: str) -> float:
        position = vix.index.get_loc(pd.Timestamp(day))
        return iv_rank(vix.iloc[position - 252 : position], float(vix.iloc[position]))

    # Act
    covid_crash, calm_2017 = rank_on("2020-03-16"), rank_on("2017-07-14")

    # Assert
    assert covid_crash == 100.0
    assert calm_2017 < 10.0


@needs_market_data
def test_spy_20_day_realized_vol_above_60pct_in_march_2020_and_below_10pct_in_2017():
    # Arrange
    spy = daily_closes("SPY")

    # Act
    rv = realized_vol(spy, window=20)

    # Assert
    assert rv.loc["2020-03-16"] > 0.60
    assert rv.loc["2017-07-14"] < 0.10


@needs_market_data
def test_recorded_spy_chain_30_day_atm_iv_is_near_the_quoted_money_iv():
    # Arrange
    chain = _load_recorded_chain(
        MARKET_DATA / "chains" / "SPY_2015-01-05.csv", date(2015, 1, 5), SPY_CLOSE_2015_01_05
    )

    # Act
    result = constant_maturity_atm_iv(chain, target_days=30)

    # Assert
    assert 0.14 <= result <= 0.20
    assert chain["expiration"].min() >= pd.Timestamp("2015-01-05")
