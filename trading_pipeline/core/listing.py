"""Which option contracts exist: expirations by date and strikes that, like an exchange's, stay listed.

An exchange lists new strikes overnight around the last close, adds more during the session when the
underlying moves far (OCC/Cboe on a gap open), and never delists a strike before its expiration. Here each
session's listing band is set before the open from the previous close and the time left to the expiration,
and widened at 09:30 by a band around the session's open; an expiration lists every strike of its grid
inside the hull of the bands of every close and open since it was first listed. The hull only grows and the
grid only gets finer as expiry nears, so a strike once listed stays listed: a pure function of the opens and
closes known at `as_of`, O(sessions) per expiration, no state.

The price history is a DataFrame indexed by session date with an "open" and a "close" column (a Series of
closes alone also works: no open bands). The row of `as_of`'s session holds its open once it has opened (NaN
before) and the current spot as its close. The current spot never sets a band, though in-session it is the
latest price: a band from it would list strikes at 11:00 that are gone at 11:05 when the spot moves back, and
a position opened on one would be stranded. The open is a price fixed for the whole session, so the strikes
it adds stay (on a replay of daily bars the spot in-session *is* the open); the spot only stands in when
nothing earlier is known (a history's first morning).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trading_pipeline.core.calendar import ET, is_session, last_trading_datetime, session_open
from trading_pipeline.core.expirations import Expiry, listed_expiries

Floats = NDArray[np.float64]
DAYS_PER_YEAR = 365.0
#: Listing bands in log-moneyness around a close: k standard deviations of LISTING_VOL over the time left,
#: within (floor, cap). Fine strikes reach deeper on the put side, as real chains do; coarse ones go further.
FINE_PUT_SD, FINE_PUT_BOUNDS = 2.0, (0.06, 0.20)
FINE_CALL_SD, FINE_CALL_BOUNDS = 1.0, (0.03, 0.10)
COARSE_PUT_SD, COARSE_PUT_BOUNDS = 4.0, (0.20, 0.60)
COARSE_CALL_SD, COARSE_CALL_BOUNDS = 2.5, (0.10, 0.35)
#: A history that starts this long before an expiration's first listing day holds the close before it.
HISTORY_MARGIN = timedelta(days=7)
STRIKE_DECIMALS = 4


@dataclass(frozen=True)
class StrikeSteps:
    """Strike spacing of expirations with at most `up_to_years` left: fine near the money, coarse beyond."""

    up_to_years: float
    fine: float
    coarse: float


@dataclass(frozen=True)
class StrikeRules:
    """How one underlying's strikes are listed: the vol that sizes its bands (fixed, so listing never depends
    on the VIX) and its spacing by maturity, shortest first; each step divides the next longer one's."""

    listing_vol: float
    steps: tuple[StrikeSteps, ...]

    def steps_at(self, years: float) -> StrikeSteps:
        return next((s for s in self.steps if years <= s.up_to_years), self.steps[-1])


#: Spacing like the real chains in ../shared/data/market/chains: SPY $1 strikes out to a year, $5 in the wings
#: and beyond; SPX 5 points near the money up to ~4 months, 25 beyond, 50/100 for the long-dated.
_ETF_STEPS = (StrikeSteps(1.0, 1.0, 5.0), StrikeSteps(np.inf, 5.0, 5.0))
STRIKE_RULES: dict[str, StrikeRules] = {
    "SPY": StrikeRules(0.20, _ETF_STEPS),
    "QQQ": StrikeRules(0.25, _ETF_STEPS),
    "IWM": StrikeRules(0.26, _ETF_STEPS),
    "SPX": StrikeRules(
        0.20, (StrikeSteps(0.35, 5.0, 25.0), StrikeSteps(1.1, 25.0, 50.0), StrikeSteps(np.inf, 50.0, 100.0))
    ),
}
DEFAULT_STRIKE_RULES = StrikeRules(0.30, _ETF_STEPS)


@dataclass(frozen=True)
class ListedExpiration:
    """One listed expiration: date, OCC root, settlement ("AM"/"PM") and its listed strikes (ascending)."""

    expiration: date
    root: str
    settlement: str
    strikes: Floats


@dataclass(frozen=True)
class Listing:
    """Every contract an underlying has listed and still trading at `as_of`, by expiration and root."""

    underlying: str
    as_of: datetime
    expirations: tuple[ListedExpiration, ...]


def listing_history_start(underlying: str, as_of: datetime, max_dte: int) -> date:
    """The first session date `listing_as_of` needs in its spot history for expirations up to `max_dte`:
    a week before the earliest first-listing day (long-dated options: up to two years back)."""
    expiries = listed_expiries(underlying, as_of.astimezone(ET).date(), max_dte)
    first = min((e.listed_on for e in expiries), default=as_of.astimezone(ET).date())
    return first - HISTORY_MARGIN


def listing_as_of(
    underlying: str, as_of: datetime, spot_history: pd.DataFrame | pd.Series, max_dte: int
) -> Listing:
    """Contracts listed and still trading at `as_of` with expirations up to `max_dte` days out.

    `spot_history`: by session date from `listing_history_start(underlying, as_of, max_dte)` on, the "open"
    and "close" of past sessions and, last, `as_of`'s session with its open once opened (else NaN) and the
    current spot as close (a Series: closes alone). Closes before `as_of`'s session and opens up to it set the
    strikes, so a strike seen at 10:00 is still there tomorrow; the spot stands in only when neither exists.
    Prices missing before the history starts (a simulation's first year) count as never seen.
    """
    if as_of.tzinfo is None:
        raise ValueError(f"as_of must be timezone-aware, got {as_of.isoformat()} for {underlying} listing")
    symbol = underlying.strip().upper()
    day = as_of.astimezone(ET).date()
    marks = _listing_marks(symbol, _frame(symbol, spot_history), as_of)
    rules = STRIKE_RULES.get(symbol, DEFAULT_STRIKE_RULES)
    expirations = tuple(
        ListedExpiration(e.expiration, e.root, e.settlement, _strikes(e, day, marks, rules))
        for e in listed_expiries(symbol, day, max_dte)
        if as_of < last_trading_datetime(e.expiration, e.root)
    )
    return Listing(symbol, as_of, expirations)


@dataclass(frozen=True)
class _Marks:
    """The prices that set listing bands, each with its session's day number: closes of past sessions
    (each sets the next session's band) and opens of sessions opened by `as_of` (each widens its own)."""

    close_days: NDArray[np.int64]
    closes: Floats
    open_days: NDArray[np.int64]
    opens: Floats


def _frame(symbol: str, spot_history: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """The history as a date-sorted frame of positive opens (NaN: unknown) and closes, checked."""
    if isinstance(spot_history, pd.Series):
        spot_history = pd.DataFrame({"open": np.nan, "close": spot_history}, index=spot_history.index)
    if spot_history.empty:
        raise ValueError(f"spot_history for {symbol} is empty; it needs at least the current spot")
    if not isinstance(spot_history.index, pd.DatetimeIndex):
        raise ValueError(
            f"spot_history for {symbol} must be indexed by session date, got {spot_history.index.dtype}"
        )
    missing = {"open", "close"} - set(spot_history.columns)
    if missing:
        raise ValueError(f"spot_history for {symbol} has no {sorted(missing)} column")
    raw = spot_history[["open", "close"]].sort_index(kind="stable")
    frame = raw.apply(pd.to_numeric, errors="coerce")
    for column, may_be_missing in (("open", True), ("close", False)):
        values = frame[column].to_numpy(dtype=float)
        bad = ~(np.isfinite(values) & (values > 0))
        if may_be_missing:
            bad &= raw[column].notna().to_numpy()
        if bad.any():
            first = int(bad.argmax())
            raise ValueError(
                f"spot_history for {symbol} has a {column} that is not a positive number on "
                f"{frame.index[first].date().isoformat()}: {raw[column].iloc[first]!r}"
            )
    return frame


def _listing_marks(symbol: str, frame: pd.DataFrame, as_of: datetime) -> _Marks:
    """Closes before `as_of`'s session and opens up to it; the spot (the last close) when there are none.
    Prices not yet known at `as_of` (later sessions, the open before 09:30) are ignored: no look-ahead."""
    day = as_of.astimezone(ET).date()
    today = _epoch_days(day)
    days = frame.index.to_numpy().astype("datetime64[D]").astype(np.int64)
    known = days <= today
    if not known.any():
        raise ValueError(f"spot_history for {symbol} has no price up to {as_of.isoformat()}")
    days, opens, closes = days[known], frame["open"].to_numpy()[known], frame["close"].to_numpy()[known]
    opened = ~np.isnan(opens) & ((days < today) | (is_session(day) and as_of >= session_open(day)))
    before = days < today
    if not before.any() and not opened.any():
        return _Marks(days[-1:], closes[-1:], days[:0], opens[:0])
    return _Marks(days[before], closes[before], days[opened], opens[opened])


def _strikes(expiry: Expiry, day: date, marks: _Marks, rules: StrikeRules) -> Floats:
    """Grid strikes inside the hull of every listing band since the expiration was first listed: the close
    before its first listing day and every close and open from then on."""
    listed_on = _epoch_days(expiry.listed_on)
    first = max(int(np.searchsorted(marks.close_days, listed_on)) - 1, 0)
    after = marks.open_days >= listed_on
    seen_dates = np.concatenate([marks.close_days[first:], marks.open_days[after]])
    seen = np.concatenate([marks.closes[first:], marks.opens[after]])
    years = np.maximum(_epoch_days(expiry.expiration) - seen_dates, 1) / DAYS_PER_YEAR
    sd = rules.listing_vol * np.sqrt(years)
    steps = rules.steps_at((expiry.expiration - day).days / DAYS_PER_YEAR)
    fine = _grid(_hull(seen, sd, FINE_PUT_SD, FINE_PUT_BOUNDS, FINE_CALL_SD, FINE_CALL_BOUNDS), steps.fine)
    coarse = _grid(
        _hull(seen, sd, COARSE_PUT_SD, COARSE_PUT_BOUNDS, COARSE_CALL_SD, COARSE_CALL_BOUNDS), steps.coarse
    )
    return np.union1d(fine, coarse)


def _hull(
    prices: Floats,
    sd: Floats,
    put_sd: float,
    put_bounds: tuple[float, float],
    call_sd: float,
    call_bounds: tuple[float, float],
) -> tuple[float, float]:
    """Lowest and highest strike any band reached: its open or close x exp(-/+ clipped k sd)."""
    low = prices * np.exp(-np.clip(put_sd * sd, *put_bounds))
    high = prices * np.exp(np.clip(call_sd * sd, *call_bounds))
    return float(low.min()), float(high.max())


def _grid(bounds: tuple[float, float], step: float) -> Floats:
    first = max(np.ceil(bounds[0] / step), 1.0)
    return np.round(np.arange(first, np.floor(bounds[1] / step) + 1.0) * step, STRIKE_DECIMALS)


def _epoch_days(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))
