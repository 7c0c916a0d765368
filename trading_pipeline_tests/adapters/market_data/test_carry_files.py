"""Per-date carry from the real DTB3 and dividend files: no look-ahead, holidays skipped, bad lines named."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.carry_files import FileCarry, load_dividends, load_tbill_rates
from trading_pipeline.core.carry import continuous_rate_from_discount
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data


def _at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T15:00:00").replace(tzinfo=UTC)


@needs_market_data
def test_rates_skip_fred_empty_holiday_values_instead_of_reading_zero() -> None:
    # Act
    rates = load_tbill_rates(MARKET_DATA / "rates" / "DTB3.csv")

    # Assert: 2000-01-17 (MLK day) is empty in the file and absent here; 6804 rows minus 283 empty
    assert len(rates) == 6804 - 283
    assert "2000-01-17" not in rates.index.strftime("%Y-%m-%d")
    assert rates.min() < 0  # the real negative bills of 2015 and 2020 stay negative


@needs_market_data
def test_carry_uses_the_rate_published_before_the_day_never_the_days_own() -> None:
    # Arrange: 2020-03-26 discount -0.05; 2020-03-25 -0.04 (SOURCES.md)
    carry = FileCarry(MARKET_DATA)

    # Act
    rate = carry.rate(_at("2020-03-26"))

    # Assert
    assert rate == pytest.approx(continuous_rate_from_discount(-0.04))


@needs_market_data
def test_carry_after_a_holiday_uses_the_last_published_rate() -> None:
    # Arrange: 2000-01-17 is empty; on 2000-01-18 the last rate is 2000-01-14's
    rates = load_tbill_rates(MARKET_DATA / "rates" / "DTB3.csv")

    # Act
    rate = FileCarry(MARKET_DATA).rate(_at("2000-01-18"))

    # Assert
    assert rate == pytest.approx(rates.loc["2000-01-14"])


@needs_market_data
def test_spy_yield_in_2019_is_the_years_cash_over_spot() -> None:
    # Arrange: SPY paid 5.619 in 2019; on 2019-12-31 with spot 321.86 the trailing yield is about 1.7%
    carry = FileCarry(MARKET_DATA).carry("SPY", _at("2019-12-31"), 321.86)

    # Assert
    assert carry.dividend_yield == pytest.approx(0.01731, abs=2e-4)
    assert 0.014 < carry.rate < 0.016


@needs_market_data
def test_spx_carry_uses_spy_dividends_scaled_to_the_index() -> None:
    carry = FileCarry(MARKET_DATA)
    spy = carry.carry("SPY", _at("2019-12-31"), 321.86)
    spx = carry.carry("SPX", _at("2019-12-31"), 3218.6)
    assert spx.dividend_yield == pytest.approx(spy.dividend_yield)


@needs_market_data
def test_a_date_before_the_rates_is_refused_with_the_files_coverage() -> None:
    with pytest.raises(MarketDataError, match="starts 2000-01-03"):
        FileCarry(MARKET_DATA).rate(_at("1999-06-01"))


@needs_market_data
def test_a_date_long_after_the_last_rate_is_refused() -> None:
    with pytest.raises(MarketDataError, match="ends 2026-01-29"):
        FileCarry(MARKET_DATA).rate(_at("2026-06-01"))


def test_a_malformed_rate_names_the_file_line_and_value(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "DTB3.csv"
    path.write_text("date,rate_pct\n2020-01-02,1.5\n2020-01-03,one\n")

    # Act / Assert
    with pytest.raises(MarketDataError, match=r"DTB3.csv line 3: field 'rate_pct' has 'one'"):
        load_tbill_rates(path)


def test_an_empty_dividend_amount_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "SPY.csv"
    path.write_text("ex_date,amount\n2020-03-20,1.406\n2020-06-19,\n")
    with pytest.raises(MarketDataError, match="line 3: field 'amount' is empty"):
        load_dividends(path)


def test_a_file_with_other_columns_is_refused_naming_them(tmp_path: Path) -> None:
    path = tmp_path / "DTB3.csv"
    path.write_text("observation_date,DTB3\n2020-01-02,1.5\n")
    with pytest.raises(MarketDataError, match="observation_date"):
        load_tbill_rates(path)
