"""Expiry times by root: AM-settled SPX monthlies, PM-settled series, SPX options trading to 16:15."""

from __future__ import annotations

from datetime import date, time

import pytest

from trading_pipeline.core.calendar import (
    SECONDS_PER_YEAR,
    at_et,
    expiration_datetime,
    is_am_settled,
    last_trading_datetime,
    option_trading_close,
    years_to_expiry,
)

THIRD_FRIDAY = date(2025, 3, 21)
BLACK_FRIDAY = date(2025, 11, 28)  # half-day: stocks close at 13:00


def test_expiration_of_am_settled_spx_is_the_open_of_its_friday() -> None:
    # Arrange / Act
    am, pm = expiration_datetime(THIRD_FRIDAY, root="SPX"), expiration_datetime(THIRD_FRIDAY, root="SPXW")

    # Assert
    assert am == at_et(THIRD_FRIDAY, time(9, 30))
    assert pm == at_et(THIRD_FRIDAY, time(16, 0)) == expiration_datetime(THIRD_FRIDAY)


def test_am_settled_spx_trades_last_on_thursday_until_16_15() -> None:
    # Arrange / Act
    last = last_trading_datetime(THIRD_FRIDAY, root="SPX")

    # Assert
    assert last == at_et(date(2025, 3, 20), time(16, 15))
    assert last_trading_datetime(THIRD_FRIDAY, root="SPY") == at_et(THIRD_FRIDAY, time(16, 0))


def test_spx_options_trade_fifteen_minutes_past_the_stock_close_and_etf_options_do_not() -> None:
    # Arrange / Act
    closes = {
        (day, root): option_trading_close(day, root)
        for day in (THIRD_FRIDAY, BLACK_FRIDAY)
        for root in ("SPXW", "SPY")
    }

    # Assert
    assert closes[(THIRD_FRIDAY, "SPXW")] == at_et(THIRD_FRIDAY, time(16, 15))
    assert closes[(BLACK_FRIDAY, "SPXW")] == at_et(BLACK_FRIDAY, time(13, 15))
    assert closes[(BLACK_FRIDAY, "SPY")] == at_et(BLACK_FRIDAY, time(13, 0))


def test_years_to_expiry_of_an_am_root_stops_at_the_open() -> None:
    # Arrange
    thursday_noon = at_et(date(2025, 3, 20), time(12, 0))

    # Act
    am, pm = years_to_expiry(thursday_noon, THIRD_FRIDAY, "SPX"), years_to_expiry(thursday_noon, THIRD_FRIDAY)

    # Assert
    assert am * SECONDS_PER_YEAR == pytest.approx(21.5 * 3600)
    assert (pm - am) * SECONDS_PER_YEAR == pytest.approx(6.5 * 3600)


def test_is_am_settled_knows_index_monthly_roots_only() -> None:
    # Arrange / Act / Assert
    assert [is_am_settled(r) for r in ("SPX", "spx ", "SPXW", "SPY", None)] == [
        True,
        True,
        False,
        False,
        False,
    ]
