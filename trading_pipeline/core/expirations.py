"""Listed option expirations and OCC roots: real-world-like listing rules as pure functions of dates.

Dailies for the index products, Friday weeklies, third-Friday monthlies and June/December long-dated
expirations; an expiration on an NYSE holiday moves to the preceding session.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from trading_pipeline.core.calendar import is_session, previous_session, sessions_between

#: Underlyings with an expiration on every session (0DTE included).
DAILY_EXPIRATION_UNDERLYINGS = frozenset({"SPY", "QQQ", "IWM", "SPX"})
DAILY_HORIZON_DAYS = 14
WEEKLY_HORIZON_DAYS = 56
MONTHLY_HORIZON_DAYS = 366
LONG_DATED_HORIZON_DAYS = 731
#: Months whose monthly expiration is listed out to LONG_DATED_HORIZON_DAYS (quarterlies/LEAPs).
LONG_DATED_MONTHS = frozenset({6, 12})
FRIDAY = 4
MONTHLY_ROOT_SUFFIX_UNDERLYINGS = frozenset({"SPX"})
WEEKLY_ROOT_SUFFIX = "W"


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month, the standard monthly expiration day."""
    first = date(year, month, 1)
    return first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 14)


def on_or_before_session(day: date) -> date:
    """`day` when it is a session, else the preceding session (how listings treat holidays)."""
    return day if is_session(day) else previous_session(day)


def monthly_expiration(year: int, month: int) -> date:
    """The monthly expiration of a month: its third Friday, or the session before it if a holiday."""
    return on_or_before_session(third_friday(year, month))


def listed_expirations(underlying: str, as_of: date, max_dte: int) -> list[date]:
    """Expirations listed on `as_of` with 0 <= DTE <= max_dte, oldest first."""
    return list(_listed_expirations(underlying.strip().upper(), as_of, max_dte))


def option_root(underlying: str, expiration: date) -> str:
    """The OCC root: SPX for SPX monthlies, SPXW for its other expirations, else the underlying."""
    symbol = underlying.strip().upper()
    if symbol not in MONTHLY_ROOT_SUFFIX_UNDERLYINGS:
        return symbol
    is_monthly = expiration == monthly_expiration(expiration.year, expiration.month)
    return symbol if is_monthly else symbol + WEEKLY_ROOT_SUFFIX


@lru_cache(maxsize=4096)
def _listed_expirations(underlying: str, as_of: date, max_dte: int) -> tuple[date, ...]:
    candidates = _weeklies(as_of) | _monthlies(as_of)
    if underlying in DAILY_EXPIRATION_UNDERLYINGS:
        candidates |= set(sessions_between(as_of, as_of + timedelta(days=DAILY_HORIZON_DAYS)))
    horizon = as_of + timedelta(days=max_dte)
    return tuple(sorted(day for day in candidates if as_of <= day <= horizon))


def _weeklies(as_of: date) -> set[date]:
    first_friday = as_of + timedelta(days=(FRIDAY - as_of.weekday()) % 7)
    fridays = range(0, WEEKLY_HORIZON_DAYS + 1, 7)
    return {on_or_before_session(first_friday + timedelta(days=d)) for d in fridays}


def _monthlies(as_of: date) -> set[date]:
    result = set()
    for offset in range(LONG_DATED_HORIZON_DAYS // 28 + 1):
        year, month = divmod(as_of.month - 1 + offset, 12)
        expiration = monthly_expiration(as_of.year + year, month + 1)
        days_out = (expiration - as_of).days
        if days_out <= MONTHLY_HORIZON_DAYS or (
            month + 1 in LONG_DATED_MONTHS and days_out <= LONG_DATED_HORIZON_DAYS
        ):
            result.add(expiration)
    return result
