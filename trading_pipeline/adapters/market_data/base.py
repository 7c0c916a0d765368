"""The MarketData protocol: daily bars and option chains as of a point in time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, runtime_checkable

import pandas as pd

from trading_pipeline.core.carry import Carry


class MarketDataError(RuntimeError):
    """A provider could not answer (unknown symbol, no data for the date, malformed answer)."""


class MarketData(Protocol):
    """A source of prices. Every answer is as of the given time: no look-ahead."""

    name: str

    def daily_bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily OHLCV bars for sessions in [start, end], indexed by session date (oldest first).

        Columns: open, high, low, close, volume (floats). Indices such as VIX have volume 0.
        """
        ...

    def spot(self, symbol: str, as_of: datetime) -> float:
        """Last price of `symbol` at `as_of`."""
        ...

    def carry(self, underlying: str, as_of: datetime) -> Carry:
        """Risk-free rate and dividend yield that price `underlying`'s options at `as_of`."""
        ...

    def option_chain(
        self, underlying: str, as_of: datetime, min_dte: int = 0, max_dte: int = 400
    ) -> pd.DataFrame:
        """Quotes of every listed contract with min_dte <= DTE <= max_dte, in core.chain.QUOTE_COLUMNS."""
        ...


@runtime_checkable
class DataCoverage(Protocol):
    """A provider that knows the first and last session it has for a symbol (replay files, the simulator),
    so an optional series that begins inside a lookback is read from its first session, not dropped."""

    def coverage(self, symbol: str) -> tuple[date, date]:
        """The first and last session with a bar of `symbol`."""
        ...


@runtime_checkable
class DividendCalendar(Protocol):
    """A provider that knows an underlying's cash dividends by ex-date (declared ahead of their ex-dates),
    for the early-assignment risk of short calls."""

    def dividends(self, symbol: str, start: date, end: date) -> pd.Series:
        """Cash dividends per share with ex-dates in [start, end], indexed by ex-date (empty: none)."""
        ...
