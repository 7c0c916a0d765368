"""Replay of real history: daily bars, index levels, carry and option chains from the market-data folder.

Every answer is as of its time (no look-ahead): before a session's open the price is the previous close,
during the session it is the session's open (the last price daily bars reveal by then), from the close
on it is the close. A session's recorded vendor chain is used once its quote time has passed; otherwise
the chain is derived from the real spot, VIX level and term structure with the one surface and listing
model the simulator uses (core/surface.py, core/listing.py), at the real per-date carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.carry_files import FileCarry
from trading_pipeline.adapters.market_data.chain_files import (
    RecordedChain,
    load_chain_file,
    recorded_chain_index,
)
from trading_pipeline.adapters.market_data.derived import VOL_INDEX, derived_chain
from trading_pipeline.core.calendar import ET, session_close, session_open
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.chain import QUOTE_COLUMNS
from trading_pipeline.core.listing import listing_history_start
from trading_pipeline.core.surface import TermStructure


@dataclass(frozen=True)
class BarFile:
    """Where one symbol's daily bars live and how the file is laid out."""

    path: Path
    date_column: str
    date_format: str
    columns: dict[str, str]  # file column -> bar column


_YAHOO = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Volume": "volume"}
_CBOE = {"OPEN": "open", "HIGH": "high", "LOW": "low", "CLOSE": "close"}
BAR_FILES: dict[str, BarFile] = {
    "SPY": BarFile(Path("daily/SPY.csv"), "Date", "%Y-%m-%d", _YAHOO),
    "QQQ": BarFile(Path("daily/QQQ.csv"), "Date", "%Y-%m-%d", _YAHOO),
    "IWM": BarFile(Path("daily/IWM.csv"), "Date", "%Y-%m-%d", _YAHOO),
    "SPX": BarFile(Path("daily/GSPC.csv"), "Date", "%Y-%m-%d", _YAHOO),
    "VIX": BarFile(Path("daily/VIX.csv"), "Date", "%Y-%m-%d", _YAHOO),
    "VIX9D": BarFile(Path("cboe/VIX9D_History.csv"), "DATE", "%m/%d/%Y", _CBOE),
    "VIX3M": BarFile(Path("cboe/VIX3M_History.csv"), "DATE", "%m/%d/%Y", _CBOE),
}
INDEX_SYMBOLS = frozenset({"SPX", "VIX", "VIX9D", "VIX3M"})
OPTIONABLE = frozenset({"SPY", "QQQ", "IWM", "SPX"})
CHAINS_FOLDER = Path("chains")


def read_bars(data_dir: Path, symbol: str) -> pd.DataFrame:
    """A symbol's daily bars (open, high, low, close, volume) indexed by session; bad values name the line."""
    spec = BAR_FILES[symbol]
    path = data_dir / spec.path
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    except OSError as exc:
        raise MarketDataError(f"cannot read {path}: {exc.strerror}") from None
    missing = [c for c in (spec.date_column, *spec.columns) if c not in raw.columns]
    if missing:
        raise MarketDataError(f"{path}: missing columns {missing}; found {list(raw.columns)}")
    sessions = pd.to_datetime(raw[spec.date_column].str.strip(), format=spec.date_format, errors="coerce")
    bars = pd.DataFrame(index=pd.DatetimeIndex(sessions, name="session"))
    _require_parsed(path, raw, spec.date_column, sessions)
    for column, name in spec.columns.items():
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        _require_parsed(path, raw, column, values)
        bars[name] = values.to_numpy(dtype=float)
    if "volume" not in bars:
        bars["volume"] = 0.0
    if symbol in INDEX_SYMBOLS:
        bars["volume"] = 0.0
    return bars[~bars.index.duplicated(keep="last")].sort_index()


def _require_parsed(path: Path, raw: pd.DataFrame, column: str, parsed: pd.Series) -> None:
    bad = np.asarray(pd.isna(parsed))
    if bad.any():
        row = int(bad.argmax())
        raise MarketDataError(f"{path} line {row + 2}: field {column!r} has {raw[column].iloc[row]!r}")


class ReplayMarket:
    """Real history from the market-data folder behind the MarketData protocol, as of every time asked."""

    name = "replay"

    def __init__(self, data_dir: Path, seed: int = 7) -> None:
        if not data_dir.is_dir():
            raise MarketDataError(
                f"replay market-data folder {data_dir} does not exist (set TRADING_MARKET_DATA_DIR)"
            )
        self.data_dir = data_dir
        self.seed = seed
        self._carry = FileCarry(data_dir)
        self._bars: dict[str, pd.DataFrame] = {}

    def bars(self, symbol: str) -> pd.DataFrame:
        """Every daily bar of `symbol` in the folder (cached)."""
        symbol = _known(symbol)
        if symbol not in self._bars:
            self._bars[symbol] = read_bars(self.data_dir, symbol)
        return self._bars[symbol]

    def daily_bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily bars for sessions in [start, end]; a range outside the data is refused with its coverage."""
        bars = self.bars(symbol)
        self._require_covered(symbol, start)
        self._require_covered(symbol, end)
        window = bars.loc[pd.Timestamp(start) : pd.Timestamp(end)]
        return window[["open", "high", "low", "close", "volume"]]

    def spot(self, symbol: str, as_of: datetime) -> float:
        """The last price knowable at `as_of`: the previous close before the open, the open during the
        session, the close from the close on."""
        if as_of.tzinfo is None:
            raise MarketDataError(f"as_of must be timezone-aware, got {as_of.isoformat()} for {symbol}")
        bars = self.bars(symbol)
        day = as_of.astimezone(ET).date()
        self._require_covered(symbol, day)
        position = int(bars.index.searchsorted(pd.Timestamp(day), side="right"))
        if position and bars.index[position - 1].date() == day:
            if as_of >= session_close(day):
                return float(bars["close"].iloc[position - 1])
            if as_of >= session_open(day):
                return float(bars["open"].iloc[position - 1])
            position -= 1
        if position == 0:
            raise MarketDataError(f"no {symbol} price before {as_of.isoformat()}")
        return float(bars["close"].iloc[position - 1])

    def dividends(self, symbol: str, start: date, end: date) -> pd.Series:
        """Cash dividends per share of `symbol` with ex-dates in [start, end], from the dividends folder."""
        every = self._carry.dividends(symbol)
        days = every.index.date
        return every[(days >= start) & (days <= end)]

    def carry(self, underlying: str, as_of: datetime) -> Carry:
        """The T-bill rate published before `as_of` and the trailing dividend yield at the spot then."""
        return self._carry.carry(underlying, as_of, self.spot(underlying, as_of))

    def term_structure(self, as_of: datetime) -> TermStructure:
        """VIX9D, VIX and VIX3M as of `as_of`; an index with no data yet (VIX3M before 2009) is None."""
        return TermStructure(
            vix9d=self._optional_spot("VIX9D", as_of),
            vix=self.spot(VOL_INDEX, as_of),
            vix3m=self._optional_spot("VIX3M", as_of),
        )

    def option_chain(
        self, underlying: str, as_of: datetime, min_dte: int = 0, max_dte: int = 400
    ) -> pd.DataFrame:
        """The session's recorded chain once its quote time has passed, else one derived from real inputs."""
        symbol = _known(underlying)
        if symbol not in OPTIONABLE:
            raise MarketDataError(f"{symbol} options are not replayed; optionable: {sorted(OPTIONABLE)}")
        recorded = self._recorded_quotes(symbol, as_of)
        chain = recorded if recorded is not None else self._derived_quotes(symbol, as_of, max_dte)
        today = pd.Timestamp(as_of.astimezone(ET).date())
        dte = (pd.to_datetime(chain["expiration"]) - today).dt.days
        return chain.loc[(dte >= min_dte) & (dte <= max_dte), list(QUOTE_COLUMNS)].reset_index(drop=True)

    def _derived_quotes(self, symbol: str, as_of: datetime, max_dte: int) -> pd.DataFrame:
        return derived_chain(self, symbol, as_of, max_dte, self.seed)

    def listing_history(self, symbol: str, as_of: datetime, max_dte: int) -> pd.DataFrame:
        """Opens and closes of the sessions before `as_of`'s day back to the first listing date, then its
        open once the session has opened (the listing adds strikes on a gap) and the spot now as its close."""
        day = as_of.astimezone(ET).date()
        start = listing_history_start(symbol, as_of, max_dte)
        bars = self.bars(symbol)
        past = bars.loc[
            (bars.index >= pd.Timestamp(start)) & (bars.index < pd.Timestamp(day)), ["open", "close"]
        ]
        today = pd.Timestamp(day)
        opened = today in bars.index and as_of >= session_open(day)
        now = pd.DataFrame(
            {"open": [bars.at[today, "open"] if opened else np.nan], "close": [self.spot(symbol, as_of)]},
            index=pd.DatetimeIndex([today]),
        )
        return pd.concat([past, now])

    def _recorded_quotes(self, symbol: str, as_of: datetime) -> pd.DataFrame | None:
        """The vendor chain recorded for `as_of`'s session, if one exists and was quoted by `as_of`."""
        index = self._recorded_index
        day = as_of.astimezone(ET).date()
        rows = index[(index["underlying"] == symbol) & (index["session"] == day)]
        for path in rows["path"]:
            recorded = _recorded_chain(Path(path))
            if recorded.quote_time <= as_of:
                # a vendor that gives no underlying price (the 2015 SPY file) gets the replayed spot then
                spot = recorded.spot if recorded.spot is not None else self.spot(symbol, recorded.quote_time)
                return recorded.quotes.fillna({"underlying_price": spot})
        return None

    @cached_property
    def _recorded_index(self) -> pd.DataFrame:
        folder = self.data_dir / CHAINS_FOLDER
        if not folder.is_dir():
            return pd.DataFrame({"underlying": [], "session": [], "path": []})
        return recorded_chain_index(folder)

    def _optional_spot(self, symbol: str, as_of: datetime) -> float | None:
        """The index level at `as_of`, or None before its history starts or after it ends."""
        bars = self.bars(symbol)
        if bars.empty or not bars.index[0].date() < as_of.astimezone(ET).date() <= bars.index[-1].date():
            return None
        return self.spot(symbol, as_of)

    def coverage(self, symbol: str) -> tuple[date, date]:
        """The first and last session of `symbol`'s bar file."""
        bars = self.bars(symbol)
        return bars.index[0].date(), bars.index[-1].date()

    def _require_covered(self, symbol: str, day: date) -> None:
        first, last = self.coverage(symbol)
        if not first <= day <= last:
            raise MarketDataError(
                f"no replay data for {symbol} on {day.isoformat()}: {BAR_FILES[symbol].path} covers "
                f"{first.isoformat()} to {last.isoformat()}"
            )


@lru_cache(maxsize=8)
def _recorded_chain(path: Path) -> RecordedChain:
    """A vendor chain file, parsed once per process: every tick and fill of its session reads it."""
    return load_chain_file(path)


def _known(symbol: str) -> str:
    normalized = symbol.strip().upper()
    if normalized not in BAR_FILES:
        raise MarketDataError(f"unknown symbol {symbol!r}; replay has {sorted(BAR_FILES)}")
    return normalized
