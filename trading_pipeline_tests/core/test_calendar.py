"""NYSE sessions, early closes, decision times across DST and time to expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from trading_pipeline.core.calendar import (
    ET,
    NotASessionError,
    at_et,
    days_to_expiry,
    decision_times,
    is_early_close,
    is_market_open,
    is_session,
    next_session,
    previous_session,
    session_close,
    session_of,
    session_open,
    sessions_between,
    sessions_ending,
    years_to_expiry,
)


@pytest.mark.parametrize(
    "day", [date(2025, 12, 25), date(2025, 11, 27), date(2025, 11, 29), date(2026, 1, 1)]
)
def test_holidays_and_weekends_are_not_sessions(day: date) -> None:
    assert not is_session(day)


def test_day_after_thanksgiving_closes_early_at_13_et() -> None:
    day = date(2025, 11, 28)

    assert is_session(day)
    assert is_early_close(day)
    assert session_close(day).astimezone(ET).time() == time(13, 0)
    assert not is_early_close(date(2025, 11, 26))


def test_decision_times_after_an_early_close_are_dropped() -> None:
    times = decision_times(date(2025, 11, 28), [time(15, 30), time(10, 0), time(12, 59), time(13, 0)])

    assert [t.astimezone(ET).time() for t in times] == [time(10, 0), time(12, 59)]


def test_decision_times_before_the_open_are_dropped_and_the_open_is_kept() -> None:
    times = decision_times(date(2025, 11, 26), [time(9, 29), time(9, 30), time(15, 59), time(16, 0)])

    assert [t.astimezone(ET).time() for t in times] == [time(9, 30), time(15, 59)]


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        (date(2025, 3, 7), 15),  # EST, Friday before the spring change
        (date(2025, 3, 10), 14),  # EDT, Monday after
        (date(2025, 10, 31), 14),  # EDT, Friday before the autumn change
        (date(2025, 11, 3), 15),  # EST, Monday after
    ],
)
def test_decision_time_at_10_et_has_the_right_utc_hour_across_dst(day: date, utc_hour: int) -> None:
    (decision,) = decision_times(day, [time(10, 0)])

    assert decision.utcoffset() is not None
    assert decision.astimezone(UTC).hour == utc_hour
    assert decision.astimezone(UTC).date() == day


def test_session_of_at_the_open_is_that_session() -> None:
    assert session_of(datetime(2025, 11, 26, 9, 30, tzinfo=ET)) == date(2025, 11, 26)


def test_session_of_at_the_close_is_none() -> None:
    assert session_of(datetime(2025, 11, 26, 16, 0, tzinfo=ET)) is None
    assert session_of(datetime(2025, 11, 26, 15, 59, 59, tzinfo=ET)) == date(2025, 11, 26)


def test_session_of_after_an_early_close_and_on_a_holiday_is_none() -> None:
    assert session_of(datetime(2025, 11, 28, 13, 30, tzinfo=ET)) is None
    assert session_of(datetime(2025, 12, 25, 11, 0, tzinfo=ET)) is None
    assert not is_market_open(datetime(2025, 11, 29, 11, 0, tzinfo=ET))


def test_session_of_accepts_utc_and_converts_to_new_york_first() -> None:
    # 01:00 UTC on the 27th is 20:00 ET on the 26th: after the close.
    assert session_of(datetime(2025, 11, 27, 1, 0, tzinfo=UTC)) is None
    assert session_of(datetime(2025, 11, 26, 14, 30, tzinfo=UTC)) == date(2025, 11, 26)


def test_session_open_and_close_are_utc_aware() -> None:
    opened, closed = session_open(date(2025, 7, 15)), session_close(date(2025, 7, 15))

    assert opened == datetime(2025, 7, 15, 13, 30, tzinfo=UTC)
    assert closed == datetime(2025, 7, 15, 20, 0, tzinfo=UTC)


def test_session_open_on_a_holiday_raises_naming_the_day() -> None:
    with pytest.raises(NotASessionError, match="2025-12-25"):
        session_open(date(2025, 12, 25))


def test_session_navigation_skips_holidays_and_weekends() -> None:
    assert next_session(date(2025, 12, 24)) == date(2025, 12, 26)
    assert previous_session(date(2025, 12, 26)) == date(2025, 12, 24)
    assert sessions_between(date(2025, 11, 26), date(2025, 12, 1)) == [
        date(2025, 11, 26),
        date(2025, 11, 28),
        date(2025, 12, 1),
    ]
    assert sessions_ending(date(2025, 12, 1), 3) == [
        date(2025, 11, 26),
        date(2025, 11, 28),
        date(2025, 12, 1),
    ]


def test_years_to_expiry_counts_to_16_et_on_expiration_day() -> None:
    # Arrange: exactly 365 days before the 16:00 ET expiry (same UTC offset, both EST).
    now = at_et(date(2024, 12, 19), time(16, 0))

    # Act / Assert
    assert years_to_expiry(now, date(2025, 12, 19)) == pytest.approx(1.0)
    assert years_to_expiry(at_et(date(2025, 12, 19), time(10, 0)), date(2025, 12, 19)) == pytest.approx(
        6 / (365 * 24)
    )
    assert years_to_expiry(at_et(date(2025, 12, 19), time(16, 30)), date(2025, 12, 19)) < 0
    assert days_to_expiry(date(2025, 11, 19), date(2025, 12, 19)) == 30
