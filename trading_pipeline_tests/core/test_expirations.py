"""Listing rules: dailies, weeklies, holiday-adjusted monthlies, long-dated months and OCC roots."""

from __future__ import annotations

from datetime import date, timedelta

from trading_pipeline.core.calendar import is_session, sessions_between
from trading_pipeline.core.expirations import (
    listed_expirations,
    monthly_expiration,
    option_root,
    third_friday,
)

MONDAY = date(2025, 6, 9)


def test_listed_expirations_on_a_session_include_zero_dte() -> None:
    # Arrange / Act
    expirations = listed_expirations("SPY", MONDAY, max_dte=30)

    # Assert
    assert expirations[0] == MONDAY


def test_listed_expirations_for_daily_underlyings_cover_every_session_of_two_weeks() -> None:
    # Arrange
    two_weeks = sessions_between(MONDAY, MONDAY + timedelta(days=14))

    # Act
    expirations = listed_expirations("SPX", MONDAY, max_dte=14)

    # Assert
    assert expirations == two_weeks


def test_listed_expirations_are_all_sessions_in_order_within_max_dte() -> None:
    # Arrange
    as_of = date(2025, 12, 22)

    # Act
    expirations = listed_expirations("QQQ", as_of, max_dte=800)

    # Assert
    assert all(is_session(day) for day in expirations)
    assert expirations == sorted(set(expirations))
    assert date(2025, 12, 25) not in expirations
    assert max(expirations) <= as_of + timedelta(days=800)


def test_listed_expirations_for_other_underlyings_are_fridays_without_dailies() -> None:
    # Arrange
    independence_day_weekly = date(2025, 7, 3)

    # Act
    expirations = listed_expirations("AAPL", MONDAY, max_dte=60)

    # Assert
    assert MONDAY not in expirations
    assert independence_day_weekly in expirations
    assert {day.weekday() for day in expirations if day != independence_day_weekly} == {4}
    assert expirations[-1] == date(2025, 8, 8)  # weeklies run eight weeks past the first Friday


def test_weekly_on_good_friday_moves_to_thursday() -> None:
    # Arrange
    as_of = date(2026, 3, 30)

    # Act
    expirations = listed_expirations("AAPL", as_of, max_dte=11)

    # Assert
    assert expirations == [date(2026, 4, 2), date(2026, 4, 10)]


def test_monthly_expiration_on_a_holiday_moves_to_preceding_session() -> None:
    # Arrange: Good Friday 2025 and Juneteenth 2026 are third Fridays
    assert third_friday(2025, 4) == date(2025, 4, 18)
    assert third_friday(2026, 6) == date(2026, 6, 19)

    # Act
    expirations = [monthly_expiration(2025, 4), monthly_expiration(2026, 6)]

    # Assert
    assert expirations == [date(2025, 4, 17), date(2026, 6, 18)]


def test_monthlies_are_listed_for_a_year_and_long_dated_june_december_for_two_years() -> None:
    # Arrange
    as_of = date(2025, 1, 6)

    # Act
    expirations = listed_expirations("SPY", as_of, max_dte=800)
    beyond_a_year = [day for day in expirations if (day - as_of).days > 366]

    # Assert
    assert all(monthly_expiration(2025, month) in expirations for month in range(1, 13))
    assert beyond_a_year == [date(2026, 6, 18), date(2026, 12, 18)]


def test_option_root_is_spx_for_third_friday_monthly_and_spxw_otherwise() -> None:
    # Arrange
    monthly, weekly, good_friday_monthly = date(2025, 6, 20), date(2025, 6, 13), date(2025, 4, 17)

    # Act
    roots = [option_root("SPX", day) for day in (monthly, weekly, good_friday_monthly)]

    # Assert
    assert roots == ["SPX", "SPXW", "SPX"]


def test_option_root_of_an_etf_is_its_symbol() -> None:
    # Arrange / Act / Assert
    assert option_root("SPY", date(2025, 6, 20)) == "SPY"
    assert option_root("qqq", date(2025, 6, 13)) == "QQQ"
