"""NYSE sessions, early closes, decision times and time to expiry, as pure functions of their inputs.

Backed by exchange_calendars' XNYS calendar (holidays and half-days included); no wall clock here.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import pandas as pd

ET = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
CALENDAR_START = "2000-01-01"
CALENDAR_END = "2035-12-31"
SECONDS_PER_YEAR = 365.0 * 24 * 3600
#: Open and close of a regular (not early-closing) NYSE session, ET; a session's own come from the calendar.
REGULAR_OPEN_ET = time(9, 30)
REGULAR_CLOSE_ET = time(16, 0)
#: Time of day (ET) at which PM-settled options stop trading and are valued at expiry.
EXPIRY_TIME_ET = REGULAR_CLOSE_ET
#: Roots settled at the opening of their expiration day (SPX, NDX, RUT monthlies; VIX): valued at 09:30 ET.
AM_SETTLED_ROOTS = frozenset({"SPX", "NDX", "RUT", "VIX", "VIXW"})
AM_SETTLEMENT_TIME_ET = time(9, 30)
#: S&P 500 index option roots, which trade 15 minutes past the stock close (16:15 ET, 13:15 on half-days);
#: expiring PM-settled series still stop at the stock close (Cboe SPX specifications).
SPX_OPTION_ROOTS = frozenset({"SPX", "SPXW", "SPXQ"})
SPX_LATE_CLOSE = timedelta(minutes=15)


class NotASessionError(ValueError):
    """A date that is not an NYSE trading session (weekend or holiday)."""


@lru_cache(maxsize=1)
def nyse() -> xcals.ExchangeCalendar:
    """The XNYS calendar over the whole range we backtest and trade (loaded once, ~0.5 s)."""
    return xcals.get_calendar("XNYS", start=CALENDAR_START, end=CALENDAR_END)


def _ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day.isoformat())


def is_session(day: date) -> bool:
    return bool(nyse().is_session(_ts(day)))


def require_session(day: date) -> None:
    if not is_session(day):
        raise NotASessionError(f"{day.isoformat()} is not an NYSE session")


def sessions_between(start: date, end: date) -> list[date]:
    """NYSE sessions from start to end inclusive."""
    return [ts.date() for ts in nyse().sessions_in_range(_ts(start), _ts(end))]


def sessions_ending(day: date, count: int) -> list[date]:
    """The `count` sessions ending at `day` (inclusive), oldest first."""
    require_session(day)
    sessions = nyse().sessions
    end = sessions.get_loc(_ts(day))
    return [ts.date() for ts in sessions[max(0, end - count + 1) : end + 1]]


def previous_session(day: date) -> date:
    """The last session strictly before `day`."""
    return nyse().date_to_session(_ts(day - timedelta(days=1)), direction="previous").date()


def next_session(day: date) -> date:
    """The first session strictly after `day`."""
    return nyse().date_to_session(_ts(day + timedelta(days=1)), direction="next").date()


def session_open(day: date) -> datetime:
    require_session(day)
    return nyse().session_open(_ts(day)).to_pydatetime().astimezone(UTC)


def session_close(day: date) -> datetime:
    require_session(day)
    return nyse().session_close(_ts(day)).to_pydatetime().astimezone(UTC)


def is_early_close(day: date) -> bool:
    """True on half-days (for example the day after Thanksgiving), when the close is 13:00 ET."""
    return session_close(day).astimezone(ET).time() < REGULAR_CLOSE_ET


def session_of(now: datetime) -> date | None:
    """The session whose regular hours contain `now` (open inclusive, close exclusive), else None."""
    day = now.astimezone(ET).date()
    if not is_session(day):
        return None
    return day if session_open(day) <= now < session_close(day) else None


def is_market_open(now: datetime) -> bool:
    return session_of(now) is not None


def market_closed_reason(now: datetime) -> str | None:
    """Why the NYSE's regular hours do not hold `now` (a weekend or holiday, before the open, at or after
    the possibly early close), or None while the market is open."""
    day = now.astimezone(ET).date()
    if not is_session(day):
        kind = "a weekend" if day.weekday() >= 5 else "a holiday"
        return f"{day.isoformat()} is not an NYSE session ({kind})"
    opened, closed, at = session_open(day), session_close(day), f"{now.astimezone(ET):%H:%M} ET on {day}"
    if now < opened:
        return f"before the open at {at} (open {opened.astimezone(ET):%H:%M} ET)"
    if now >= closed:
        return f"after the close at {at} (close {closed.astimezone(ET):%H:%M} ET)"
    return None


def decision_times(day: date, times_et: list[time]) -> list[datetime]:
    """Decision times of a session in UTC, dropping those at or after the (possibly early) close."""
    opened, closed = session_open(day), session_close(day)
    result = []
    for t in sorted(times_et):
        at = datetime.combine(day, t, tzinfo=ET).astimezone(UTC)
        if opened <= at < closed:
            result.append(at)
    return result


def at_et(day: date, t: time) -> datetime:
    """A wall time in New York on `day`, as an aware UTC datetime."""
    return datetime.combine(day, t, tzinfo=ET).astimezone(UTC)


def is_am_settled(root: str | None) -> bool:
    """True for roots valued at the opening of their expiration day (root None: a PM-settled option)."""
    return root is not None and root.strip().upper() in AM_SETTLED_ROOTS


def option_trading_close(day: date, root: str | None = None) -> datetime:
    """When non-expiring options of `root` stop trading on a session: 16:15 ET for SPX roots (13:15 on
    half-days), the stock close for the others."""
    late = root is not None and root.strip().upper() in SPX_OPTION_ROOTS
    return session_close(day) + (SPX_LATE_CLOSE if late else timedelta(0))


@lru_cache(maxsize=1 << 14)
def expiration_datetime(expiration: date, root: str | None = None) -> datetime:
    """When an option expiring on `expiration` is valued at expiry: 16:00 ET (the close of a half-day) for
    PM-settled roots, the 09:30 ET open of the expiration day for AM-settled ones (root None: PM)."""
    if is_am_settled(root):
        return at_et(expiration, AM_SETTLEMENT_TIME_ET)
    regular = at_et(expiration, EXPIRY_TIME_ET)
    return min(regular, session_close(expiration)) if is_session(expiration) else regular


@lru_cache(maxsize=1 << 14)
def last_trading_datetime(expiration: date, root: str | None = None) -> datetime:
    """When an option stops trading: at expiry for PM-settled roots, at the previous session's option close
    for AM-settled ones (an SPX monthly trades last on Thursday and settles at Friday's open)."""
    if is_am_settled(root):
        return option_trading_close(previous_session(expiration), root)
    return expiration_datetime(expiration, root)


def years_to_expiry(now: datetime, expiration: date, root: str | None = None) -> float:
    """Calendar time from `now` to expiry in years (ACT/365); negative once expired (root None: PM)."""
    return (expiration_datetime(expiration, root) - now).total_seconds() / SECONDS_PER_YEAR


def days_to_expiry(today: date, expiration: date) -> int:
    """Calendar days to expiration, as traders count DTE."""
    return (expiration - today).days
