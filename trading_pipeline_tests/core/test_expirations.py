"""Listing rules: dailies, weeklies, holiday-adjusted monthlies, long-dated months and OCC roots."""

from __future__ import annotations

from datetime import date, timedelta

from trading_pipeline.core.calendar import is_session, sessions_between
from trading_pipeline.core.expirations import (
    WEEKLY_HORIZON_DAYS,
    listed_expirations,
    listed_expiries,
    monthly_expiration,
    option_root,
    quarterly_expiration,
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
    assert expirations[-1] == date(2025, 8, 1)  # weeklies are listed 56 days before they expire


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


def _weekdays(underlying: str, as_of: date, max_dte: int = 14) -> set[int]:
    return {day.weekday() for day in listed_expirations(underlying, as_of, max_dte)}


def test_spx_dailies_when_before_april_2022_have_no_tuesday_or_thursday() -> None:
    # Arrange: Tuesdays from 2022-04-18, Thursdays from 2022-05-11 (Cboe)
    before, between, after = date(2022, 3, 7), date(2022, 4, 25), date(2022, 5, 16)

    # Act
    weekdays = [_weekdays("SPX", day) for day in (before, between, after)]

    # Assert
    assert weekdays == [{0, 2, 4}, {0, 1, 2, 4}, {0, 1, 2, 3, 4}]


def test_spy_dailies_follow_their_listing_dates_from_friday_weeklies_to_every_session() -> None:
    # Arrange: Friday weeklies 2010, Wednesdays 2016-09, Mondays 2018-02, Tuesdays/Thursdays 2022-11-14
    days = (date(2012, 3, 5), date(2017, 3, 6), date(2019, 3, 4), date(2023, 3, 6))

    # Act
    weekdays = [_weekdays("SPY", day) for day in days]

    # Assert
    assert weekdays == [{4}, {2, 4}, {0, 2, 4}, {0, 1, 2, 3, 4}]


def test_iwm_tuesday_and_thursday_expirations_when_before_april_2024_are_not_listed() -> None:
    # Arrange / Act
    before, after = _weekdays("IWM", date(2024, 3, 4)), _weekdays("IWM", date(2024, 5, 6))

    # Assert
    assert before == {0, 2, 4} and after == {0, 1, 2, 3, 4}


def test_listed_expirations_when_before_weeklies_existed_are_monthlies_and_quarterlies_only() -> None:
    # Arrange: SPY weeklies began 2010-06-04; quarterlies (last session of the quarter) in July 2006
    as_of = date(2009, 3, 2)

    # Act
    expirations = listed_expirations("SPY", as_of, max_dte=100)

    # Assert
    assert expirations == [
        date(2009, 3, 20),
        date(2009, 3, 31),
        date(2009, 4, 17),
        date(2009, 5, 15),
    ]


def test_third_friday_lists_am_spx_and_from_may_2017_also_pm_spxw() -> None:
    # Arrange
    before, after = date(2016, 6, 1), date(2023, 6, 1)

    # Act
    roots = {
        day: {
            (e.root, e.settlement)
            for e in listed_expiries("SPX", day, 30)
            if e.expiration == third_friday(day.year, day.month)
        }
        for day in (before, after)
    }

    # Assert
    assert roots[before] == {("SPX", "AM")}
    assert roots[after] == {("SPX", "AM"), ("SPXW", "PM")}


def test_spx_quarterlies_use_root_spxq_before_july_2014_and_spxw_after() -> None:
    # Arrange
    old_quarter, new_quarter = quarterly_expiration(2013, 12), quarterly_expiration(2014, 12)

    # Act
    roots = [
        {e.root for e in listed_expiries("SPX", as_of, 60) if e.expiration == quarter}
        for as_of, quarter in ((date(2013, 11, 4), old_quarter), (date(2014, 11, 3), new_quarter))
    ]

    # Assert
    assert (old_quarter, new_quarter) == (date(2013, 12, 31), date(2014, 12, 31))
    assert roots == [{"SPXQ"}, {"SPXW"}]


def test_listed_on_of_a_weekly_is_its_horizon_before_expiry_and_never_after_as_of() -> None:
    # Arrange
    as_of = date(2025, 6, 9)

    # Act
    expiries = listed_expiries("SPY", as_of, 400)
    weekly = next(e for e in expiries if e.expiration == date(2025, 7, 25))

    # Assert
    assert weekly.listed_on == date(2025, 7, 25) - timedelta(days=WEEKLY_HORIZON_DAYS)
    assert all(e.listed_on <= as_of for e in expiries)


def test_monday_expiration_on_a_holiday_moves_to_tuesday() -> None:
    # Arrange: Memorial Day 2025-05-26
    as_of = date(2025, 5, 19)

    # Act
    expirations = listed_expirations("SPY", as_of, 9)

    # Assert
    assert date(2025, 5, 26) not in expirations and date(2025, 5, 27) in expirations
