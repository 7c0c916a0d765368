"""The 2015 end-of-day vendor layout (SPY_2015-01-05.csv): one row per contract, blanks after the commas.

`symbol` is OCC with the root padded to 6; adjusted series carry roots like SPY7 (dropped as nonstandard).
Contracts the vendor could not value carry the placeholder IV 0.113826 with zero greeks: missing, not an
IV. The file gives no underlying price (spot None, underlying_price NaN) and no quote sizes (0).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.chain_files.recorded import Layout, VendorChain
from trading_pipeline.adapters.market_data.chain_files.vendor_table import (
    VendorTable,
    before_close,
    first_row,
    header_is,
    parsed_date,
)

NAME = "legacy_eod"
COLUMNS = (
    "date",
    "symbol",
    "under",
    "expiration",
    "strike",
    "put/call",
    "bid",
    "ask",
    "price",
    "volume",
    "open interest",
    "implied vol",
    "delta",
    "gamma",
    "rho",
    "theta",
    "vega",
    "nonstd",
)
DATE_FORMAT = "%Y-%m-%d"
#: The IV this vendor writes for contracts it could not value (their greeks are zero or meaningless).
PLACEHOLDER_IV = 0.113826


def matches(head: list[str]) -> bool:
    """The 18-column header with blanks after the commas."""
    return header_is(head, COLUMNS, spaced=True)


def identify(path: Path, head: list[str]) -> tuple[str, date]:
    """Underlying and quote date from the first data line."""
    row = first_row(path, head, COLUMNS, spaced=True)
    return row["under"].upper(), parsed_date(path, 2, "date", row["date"], DATE_FORMAT)


def read(path: Path) -> VendorChain:
    """Every contract quoted at the close of the file's one quote date."""
    table = VendorTable.read(path, COLUMNS, spaced=True)
    day = table.single_date("date", DATE_FORMAT)
    expirations = table.dates("expiration", DATE_FORMAT)
    strikes = table.numbers("strike", non_negative=True)
    contracts = table.contracts("symbol", expirations, strikes, table.choice("put/call", ("C", "P")))
    iv = table.numbers("implied vol", non_negative=True)
    count = len(table.rows)
    values = pd.DataFrame(
        {
            "bid": table.numbers("bid", non_negative=True),
            "ask": table.numbers("ask", non_negative=True),
            "bid_size": np.zeros(count),
            "ask_size": np.zeros(count),
            "volume": table.numbers("volume", non_negative=True),
            "open_interest": table.numbers("open interest", non_negative=True),
            "underlying_price": np.full(count, np.nan),
            "vendor_iv": np.where(iv == PLACEHOLDER_IV, np.nan, iv),
            "vendor_delta": table.numbers("delta"),
            "vendor_gamma": table.numbers("gamma"),
            "vendor_forward": np.full(count, np.nan),
        }
    )
    return VendorChain(
        underlying=table.single("under").upper(),
        quote_time=before_close(path, table.line(0), "date", day),
        spot=None,
        contracts=contracts,
        values=values,
        lines=table.lines,
    )


LAYOUT = Layout(NAME, matches, identify, read)
