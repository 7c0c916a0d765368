"""Per-date carry from files: FRED's 3-month T-bill rate (DTB3) and per-share cash dividends by ex-date.

The replay environment's one carry source: rates as continuous yields known before the session (FRED
publishes a day's rate after it), dividend yields from the trailing year's ex-dividend cash over spot.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache
from pathlib import Path

import pandas as pd

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.text_csv import read_text_csv
from trading_pipeline.core.calendar import ET
from trading_pipeline.core.carry import Carry, continuous_rate_from_discount, trailing_dividend_yield

RATES_FILE = Path("rates") / "DTB3.csv"
DIVIDENDS_FOLDER = Path("dividends")
#: Whose dividends an underlying's options carry: index options use the ETF tracking the index.
DIVIDEND_SYMBOL = {"SPY": "SPY", "SPX": "SPY", "XSP": "SPY", "QQQ": "QQQ", "IWM": "IWM"}
#: Underlyings whose options carry no dividend (VIX options price off VIX futures, not a paying asset).
NO_DIVIDEND = frozenset({"VIX"})
#: How long the last rate observation may stand in for later days (holidays, FRED's publication lag).
MAX_RATE_STALENESS = timedelta(days=10)


def _parsed(path: Path, frame: pd.DataFrame, column: str, parse: str) -> pd.Series:
    """A column parsed as ISO dates or numbers (empty numbers stay NaN); the first bad value is an error
    naming file, line and value."""
    text = frame[column].str.strip()
    if parse == "date":
        values = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = values.isna()
    else:
        values = pd.to_numeric(text, errors="coerce")
        bad = values.isna() & (text != "")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise MarketDataError(f"{path} line {row + 2}: field {column!r} has {frame[column].iloc[row]!r}")
    return values


def load_tbill_rates(path: Path) -> pd.Series:
    """DTB3 discount rates (percent) as continuous rates by date; FRED's empty holiday values are skipped."""
    frame = read_text_csv(path, ("date", "rate_pct"))
    dates, discount = _parsed(path, frame, "date", "date"), _parsed(path, frame, "rate_pct", "number")
    known = discount.notna()
    rates = [continuous_rate_from_discount(d) for d in discount[known].tolist()]
    return pd.Series(rates, index=pd.DatetimeIndex(dates[known], name="date"), name="rate").sort_index()


def load_dividends(path: Path) -> pd.Series:
    """Cash dividends per share indexed by ex-date."""
    frame = read_text_csv(path, ("ex_date", "amount"))
    dates, amounts = _parsed(path, frame, "ex_date", "date"), _parsed(path, frame, "amount", "number")
    if amounts.isna().any():
        row = int(amounts.isna().to_numpy().argmax())
        raise MarketDataError(f"{path} line {row + 2}: field 'amount' is empty")
    return pd.Series(amounts.to_numpy(), index=pd.DatetimeIndex(dates, name="ex_date"), name="amount")


@lru_cache(maxsize=16)
def _dividends(path: Path) -> pd.Series:
    return load_dividends(path)


class FileCarry:
    """Rate and dividend yield per underlying and date from the market-data folder, as of a time."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @cached_property
    def _rates(self) -> pd.Series:
        return load_tbill_rates(self.data_dir / RATES_FILE)

    def rate(self, as_of: datetime) -> float:
        """The latest T-bill rate published before `as_of`'s day (no look-ahead), as a continuous rate."""
        day = as_of.astimezone(ET).date()
        known = self._rates[self._rates.index < pd.Timestamp(day)]
        if known.empty:
            raise MarketDataError(
                f"no T-bill rate before {day.isoformat()}: {RATES_FILE} starts "
                f"{self._rates.index[0].date().isoformat()}"
            )
        last = known.index[-1].date()
        if day - last > MAX_RATE_STALENESS:
            raise MarketDataError(
                f"no T-bill rate near {day.isoformat()}: {RATES_FILE} ends {last.isoformat()}"
            )
        return float(known.iloc[-1])

    def dividends(self, underlying: str) -> pd.Series:
        """Cash dividends per share of `underlying` by ex-date (empty for one that pays none)."""
        symbol = underlying.strip().upper()
        if symbol in NO_DIVIDEND:
            return pd.Series([], index=pd.DatetimeIndex([], name="ex_date"), name="amount", dtype=float)
        if symbol not in DIVIDEND_SYMBOL:
            raise MarketDataError(f"no dividend history for {symbol}; known: {sorted(DIVIDEND_SYMBOL)}")
        return _dividends(self.data_dir / DIVIDENDS_FOLDER / f"{DIVIDEND_SYMBOL[symbol]}.csv")

    def carry(self, underlying: str, as_of: datetime, spot: float) -> Carry:
        """Rate and trailing dividend yield of `underlying` at `as_of`, given its spot then."""
        symbol = underlying.strip().upper()
        rate = self.rate(as_of)
        if symbol in NO_DIVIDEND:
            return Carry(rate, 0.0, "DTB3")
        if symbol not in DIVIDEND_SYMBOL:
            raise MarketDataError(f"no dividend history for {symbol}; known: {sorted(DIVIDEND_SYMBOL)}")
        source = DIVIDEND_SYMBOL[symbol]
        dividends = _dividends(self.data_dir / DIVIDENDS_FOLDER / f"{source}.csv")
        scale = 10.0 if symbol == "SPX" else 1.0  # SPX is about ten SPY shares; XSP is one
        day: date = as_of.astimezone(ET).date()
        yield_ = trailing_dividend_yield(dividends, day, spot / scale)
        return Carry(rate, yield_, f"DTB3 + trailing {source} dividends")
