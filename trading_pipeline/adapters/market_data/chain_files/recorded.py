"""A recorded vendor chain in the project's chain table, and what each vendor layout supplies to build one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from trading_pipeline.core.chain import QUOTE_COLUMNS

#: Columns after QUOTE_COLUMNS: the OCC root, the vendor's own IV and greeks (NaN where it gives none or a
#: placeholder), the settlement style ("AM"/"PM") and the vendor's per-expiry forward (VIX only, else NaN).
EXTRA_COLUMNS: tuple[str, ...] = (
    "root",
    "vendor_iv",
    "vendor_delta",
    "vendor_gamma",
    "settlement",
    "vendor_forward",
)
CHAIN_COLUMNS = (*QUOTE_COLUMNS, *EXTRA_COLUMNS)
#: Numeric columns a layout reads, in this order, beside the contracts; all floats.
VENDOR_VALUES: tuple[str, ...] = (
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "volume",
    "open_interest",
    "underlying_price",
    "vendor_iv",
    "vendor_delta",
    "vendor_gamma",
    "vendor_forward",
)
_FLOAT_COLUMNS = ("strike", *VENDOR_VALUES)


class ChainFileError(ValueError):
    """A recorded chain file (or frame) that cannot be trusted; the message names file, line, field, value."""


@dataclass(frozen=True)
class RecordedChain:
    """One vendor file as the project's chain: canonical OCC symbols, floats, aware UTC quote times.

    `flagged` counts rows by reason: nonstandard, expired, crossed and no_quote rows were dropped; the
    other reasons (zero_bid, missing_vendor_iv, ...) count kept rows. Repeated index labels are reset.
    """

    underlying: str
    layout: str
    path: Path
    quote_time: datetime
    spot: float | None
    quotes: pd.DataFrame
    flagged: dict[str, int]

    def __post_init__(self) -> None:
        if self.quote_time.tzinfo is None:
            raise ChainFileError(
                f"{self.path}: field 'quote_time' has {self.quote_time.isoformat()!r}; expected a time zone"
            )
        _require_chain_frame(self.path, self.quotes)
        if not self.quotes.index.equals(pd.RangeIndex(len(self.quotes))):
            object.__setattr__(self, "quotes", self.quotes.reset_index(drop=True))


def _require_chain_frame(path: Path, quotes: pd.DataFrame) -> None:
    """Refuse a frame that misses columns, holds non-float numbers or naive quote times, naming the row."""
    missing = [column for column in CHAIN_COLUMNS if column not in quotes.columns]
    if missing:
        raise ChainFileError(f"{path}: quotes miss columns {missing}")
    for column in _FLOAT_COLUMNS:
        if not pd.api.types.is_float_dtype(quotes[column].dtype):
            _raise_first(path, quotes, column, f"a float column, found dtype {quotes[column].dtype}")
    stamps = quotes["quote_time"]
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        _raise_first(path, quotes, "quote_time", "an aware timestamp (naive quote times are refused)")


def _raise_first(path: Path, quotes: pd.DataFrame, column: str, expected: str) -> None:
    value = quotes[column].iloc[0] if len(quotes) else None
    raise ChainFileError(f"{path} row 1: field {column!r} has {value!r}; expected {expected}")


@dataclass(frozen=True)
class VendorChain:
    """What a layout reads from its file, row for row: contracts (canonical OCC symbol, root, expiration as
    the vendor dates it, strike, right), VENDOR_VALUES as floats, and each row's 1-based file line."""

    underlying: str
    quote_time: datetime
    spot: float | None
    contracts: pd.DataFrame
    values: pd.DataFrame
    lines: list[int]


@dataclass(frozen=True)
class Layout:
    """A vendor file layout: how to recognise it from its first lines, identify it cheaply and read it."""

    name: str
    matches: Callable[[list[str]], bool]
    identify: Callable[[Path, list[str]], tuple[str, date]]  # (underlying, session) from the first lines
    read: Callable[[Path], VendorChain]
