"""Listed option expirations, their OCC roots and settlement, as pure functions of the date.

What an underlying lists depends on when. Third-Friday monthlies and June/December long-dated months
always; then, from the dates they were first listed:
- Friday weeklies: SPX in October 2005 (Cboe, cboe.com/products/weeklys-options), SPY, QQQ and IWM from
  June 4, 2010 (Cboe press release, 3 June 2010, mondovisione.com "CBOE To Launch New ETF Weeklys").
- Quarterlies, the last session of March/June/September/December: ETFs from July 2006, SPX from
  February 21, 2007 under root SPXQ, renamed SPXW on July 3, 2014 (mondovisione.com "CBOE to list quarterly
  index options on SPX, XSP and XEO"; cboeoptionshub.com 2014-05-29 "New S&P 500 End-of-Month Options").
- SPX Wednesday SPXW from February 23, 2016 (cboe.com/blogs/options-hub/2016/02/22), Monday from August 15,
  2016 (cboe.com/blogs/options-hub/2016/08/17), Tuesday from April 18, 2022 and Thursday from May 11, 2022
  (tradersmagazine.com "Cboe to add Tuesday, Thursday Expirations for SPX Weeklys Options").
- PM-settled SPXW on the third Friday beside the AM-settled SPX monthly from May 1, 2017, when SPXPM became
  SPXW (cboe.com/blogs/options-hub/2017/03/31 "Conversion of SPXPM options to symbol SPXW").
- SPY Wednesday from September 7, 2016 (miaxglobal.com listing alert 2016-09-06), Monday from February 16,
  2018 (tradersmagazine.com "Cboe to list SPDR S&P 500 ETF Trust Monday weeklies"); QQQ Monday/Wednesday
  from April 20, 2021 (SEC order approving Nasdaq PHLX, 86 FR 22082); IWM Monday/Wednesday from October 1,
  2021 (Cboe filing, 86 FR 56332); SPY and QQQ Tuesday/Thursday from November 14, 2022 (Cboe filing
  SR-CBOE-2022-059, 87 FR 70875); IWM Tuesday/Thursday from April 15, 2024 (Cboe EDGX/BZX and BOX filings
  to list them, 89 FR 30401-30408).
An expiration on an NYSE holiday moves to the preceding session (a Monday one to the next session).
Monthly expiration dates are the last trading day (OCC's dates before February 2015 were the Saturday after).
Not modelled: the AM-settled SPX weeklies of 2005-2010, SPXPM (2011-2017) and SPXW end-of-month series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from trading_pipeline.core.calendar import is_am_settled, is_session, next_session, previous_session

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY = range(5)
DAILY_HORIZON_DAYS = 14
WEEKLY_HORIZON_DAYS = 56
QUARTERLY_HORIZON_DAYS = 366
MONTHLY_HORIZON_DAYS = 366
LONG_DATED_HORIZON_DAYS = 731
#: Months whose monthly expiration is listed out to LONG_DATED_HORIZON_DAYS (LEAPs).
LONG_DATED_MONTHS = frozenset({6, 12})
QUARTER_END_MONTHS = (3, 6, 9, 12)

INDEX_UNDERLYING = "SPX"
INDEX_WEEKLY_ROOT = "SPXW"
INDEX_QUARTERLY_ROOT_BEFORE_2014 = "SPXQ"
INDEX_QUARTERLIES_RENAMED = date(2014, 7, 3)
#: Since when the PM-settled SPXW lists the third Friday beside the AM-settled SPX monthly.
INDEX_PM_THIRD_FRIDAY_SINCE = date(2017, 5, 1)
#: SPXW third Fridays are listed about five months out (the 2023 Cboe SPX chains in ../shared/data/market).
INDEX_PM_THIRD_FRIDAY_HORIZON_DAYS = 160
FRIDAY_WEEKLIES_SINCE = {"SPX": date(2005, 10, 28)}
DEFAULT_FRIDAY_WEEKLIES_SINCE = date(2010, 6, 4)
QUARTERLIES_SINCE = {
    "SPX": date(2007, 2, 21),
    "SPY": date(2006, 7, 1),
    "QQQ": date(2006, 7, 1),
    "IWM": date(2006, 7, 1),
}
#: First listing day of Monday..Thursday expirations per underlying; none elsewhere.
DAILIES_SINCE: dict[str, dict[int, date]] = {
    "SPX": {
        MONDAY: date(2016, 8, 15),
        TUESDAY: date(2022, 4, 18),
        WEDNESDAY: date(2016, 2, 23),
        THURSDAY: date(2022, 5, 11),
    },
    "SPY": {
        MONDAY: date(2018, 2, 16),
        TUESDAY: date(2022, 11, 14),
        WEDNESDAY: date(2016, 9, 7),
        THURSDAY: date(2022, 11, 14),
    },
    "QQQ": {
        MONDAY: date(2021, 4, 20),
        TUESDAY: date(2022, 11, 14),
        WEDNESDAY: date(2021, 4, 20),
        THURSDAY: date(2022, 11, 14),
    },
    "IWM": {
        MONDAY: date(2021, 10, 1),
        TUESDAY: date(2024, 4, 15),
        WEDNESDAY: date(2021, 10, 1),
        THURSDAY: date(2024, 4, 15),
    },
}
AM, PM = "AM", "PM"


@dataclass(frozen=True, order=True)
class Expiry:
    """One listed expiration of an underlying: its date, OCC root, settlement ("AM"/"PM") and the first day
    it was listed (a calendar date; the session on or after it is the first one that quotes it)."""

    expiration: date
    root: str
    settlement: str
    listed_on: date


def third_friday(year: int, month: int) -> date:
    """The third Friday of a month, the standard monthly expiration day."""
    first = date(year, month, 1)
    return first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 14)


def on_or_before_session(day: date) -> date:
    """`day` when it is a session, else the preceding session (how listings treat holidays)."""
    return day if is_session(day) else previous_session(day)


def on_or_after_session(day: date) -> date:
    """`day` when it is a session, else the next session (Monday expirations on a holiday)."""
    return day if is_session(day) else next_session(day)


def monthly_expiration(year: int, month: int) -> date:
    """The monthly expiration of a month: its third Friday, or the session before it if a holiday."""
    return on_or_before_session(third_friday(year, month))


def quarterly_expiration(year: int, month: int) -> date:
    """The end-of-quarter expiration of a quarter-end month: its last session."""
    return on_or_before_session(date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))


def listed_expiries(underlying: str, as_of: date, max_dte: int) -> tuple[Expiry, ...]:
    """Every (expiration, root) listed on `as_of` with 0 <= DTE <= max_dte, by expiration then root."""
    return _listed_expiries(underlying.strip().upper(), as_of, max_dte)


def listed_expirations(underlying: str, as_of: date, max_dte: int) -> list[date]:
    """Distinct expiration dates listed on `as_of` with 0 <= DTE <= max_dte, oldest first."""
    return sorted({expiry.expiration for expiry in listed_expiries(underlying, as_of, max_dte)})


def option_root(underlying: str, expiration: date) -> str:
    """The primary OCC root of an expiration: SPX for SPX monthlies, SPXW for its other expirations (SPXQ for
    quarterlies before July 2014), else the underlying. SPXW also lists third Fridays since May 2017."""
    symbol = underlying.strip().upper()
    if symbol != INDEX_UNDERLYING:
        return symbol
    if expiration == monthly_expiration(expiration.year, expiration.month):
        return symbol
    return _index_pm_root(expiration)


def settlement_of(root: str) -> str:
    """ "AM" for roots valued at the opening of their expiration day, else "PM"."""
    return AM if is_am_settled(root) else PM


def _index_pm_root(expiration: date) -> str:
    is_quarter_end = expiration == quarterly_expiration(expiration.year, expiration.month)
    if is_quarter_end and expiration < INDEX_QUARTERLIES_RENAMED:
        return INDEX_QUARTERLY_ROOT_BEFORE_2014
    return INDEX_WEEKLY_ROOT


@lru_cache(maxsize=8192)
def _listed_expiries(underlying: str, as_of: date, max_dte: int) -> tuple[Expiry, ...]:
    horizon = as_of + timedelta(days=max_dte)
    first_listed: dict[tuple[date, str], date] = {}
    for expiration, root, listed_on in _candidates(underlying, as_of):
        if as_of <= expiration <= horizon and listed_on <= as_of:
            key = (expiration, root)
            first_listed[key] = min(listed_on, first_listed.get(key, listed_on))
    return tuple(
        sorted(
            Expiry(e, root, settlement_of(root), listed_on) for (e, root), listed_on in first_listed.items()
        )
    )


def _candidates(underlying: str, as_of: date) -> list[tuple[date, str, date]]:
    """(expiration, root, first listing day) of every series that may be listed on `as_of`."""
    is_index = underlying == INDEX_UNDERLYING
    monthlies = _monthlies(as_of)
    rows = []
    for expiration in monthlies:
        horizon = LONG_DATED_HORIZON_DAYS if expiration.month in LONG_DATED_MONTHS else MONTHLY_HORIZON_DAYS
        rows.append((expiration, underlying, _listed_on(expiration, horizon, None)))
        if is_index:
            listed_on = _listed_on(
                expiration, INDEX_PM_THIRD_FRIDAY_HORIZON_DAYS, INDEX_PM_THIRD_FRIDAY_SINCE
            )
            rows.append((expiration, INDEX_WEEKLY_ROOT, listed_on))
    series = [
        (FRIDAY, WEEKLY_HORIZON_DAYS, FRIDAY_WEEKLIES_SINCE.get(underlying, DEFAULT_FRIDAY_WEEKLIES_SINCE))
    ]
    series += [(day, DAILY_HORIZON_DAYS, since) for day, since in DAILIES_SINCE.get(underlying, {}).items()]
    short_term = {
        (expiration, since, horizon)
        for weekday, horizon, since in series
        for expiration in _weekdays(as_of, weekday, horizon)
    }
    quarterlies_since = QUARTERLIES_SINCE.get(underlying)
    if quarterlies_since is not None:
        short_term |= {(e, quarterlies_since, QUARTERLY_HORIZON_DAYS) for e in _quarterlies(as_of)}
    for expiration, since, horizon in short_term:
        if is_index and expiration in monthlies:
            continue  # the third Friday's PM series is SPXW's monthly twin, listed since May 2017
        root = _index_pm_root(expiration) if is_index else underlying
        rows.append((expiration, root, _listed_on(expiration, horizon, since)))
    return rows


def _listed_on(expiration: date, horizon_days: int, since: date | None) -> date:
    """The first day an expiration of a series is listed: `horizon_days` before it, not before `since`."""
    opened = expiration - timedelta(days=horizon_days)
    return opened if since is None else max(opened, since)


def _weekdays(as_of: date, weekday: int, horizon_days: int) -> set[date]:
    """Expirations on `weekday` from `as_of` out to the horizon, moved off holidays (Mondays forward)."""
    shift = on_or_after_session if weekday == MONDAY else on_or_before_session
    first = as_of + timedelta(days=(weekday - as_of.weekday()) % 7)
    return {shift(first + timedelta(days=d)) for d in range(0, horizon_days + 7, 7)}


def _monthlies(as_of: date) -> set[date]:
    result = set()
    for offset in range(LONG_DATED_HORIZON_DAYS // 28 + 1):
        year, month = divmod(as_of.month - 1 + offset, 12)
        result.add(monthly_expiration(as_of.year + year, month + 1))
    return result


def _quarterlies(as_of: date) -> set[date]:
    result = set()
    for offset in range(QUARTERLY_HORIZON_DAYS // 28 + 1):
        year, month = divmod(as_of.month - 1 + offset, 12)
        if month + 1 in QUARTER_END_MONTHS:
            result.add(quarterly_expiration(as_of.year + year, month + 1))
    return result
