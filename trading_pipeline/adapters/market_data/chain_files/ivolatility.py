"""iVolatility-style end-of-day export (IWM_2019-10-15_ivolatility.csv): one row per contract, no greeks.

`option_symbol` is OCC with the root padded to 6; dates are M/D/YYYY. The underlying price is
`stock_price_for_iv`, the later price the quotes fit (the 2019-10-18 parity forward is 151.665 against
151.65), not `stock_price_close` (151.39). Quotes are the close's: 16:00 ET. No quote sizes (0).
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

NAME = "ivolatility_eod"
COLUMNS = (
    "date",
    "symbol",
    "exchange",
    "company_name",
    "stock_price_close",
    "option_symbol",
    "option_expiration",
    "strike",
    "call_put",
    "style",
    "open",
    "high",
    "low",
    "close",
    "bid",
    "ask",
    "mean_price",
    "settlement",
    "volume",
    "open_interest",
    "stock_price_for_iv",
)
DATE_FORMAT = "%m/%d/%Y"


def matches(head: list[str]) -> bool:
    """The 21-column iVolatility header."""
    return header_is(head, COLUMNS)


def identify(path: Path, head: list[str]) -> tuple[str, date]:
    """Underlying and quote date from the first data line."""
    row = first_row(path, head, COLUMNS)
    return row["symbol"].upper(), parsed_date(path, 2, "date", row["date"], DATE_FORMAT)


def read(path: Path) -> VendorChain:
    """Every contract quoted at the close of the file's one quote date."""
    table = VendorTable.read(path, COLUMNS)
    day = table.single_date("date", DATE_FORMAT)
    expirations = table.dates("option_expiration", DATE_FORMAT)
    strikes = table.numbers("strike", non_negative=True)
    contracts = table.contracts("option_symbol", expirations, strikes, table.choice("call_put", ("C", "P")))
    prices = table.numbers("stock_price_for_iv", non_negative=True)
    spot = float(table.single("stock_price_for_iv"))
    count = len(table.rows)
    values = pd.DataFrame(
        {
            "bid": table.numbers("bid", non_negative=True),
            "ask": table.numbers("ask", non_negative=True),
            "bid_size": np.zeros(count),
            "ask_size": np.zeros(count),
            "volume": table.numbers("volume", non_negative=True),
            "open_interest": table.numbers("open_interest", non_negative=True),
            "underlying_price": prices,
            "vendor_iv": np.full(count, np.nan),
            "vendor_delta": np.full(count, np.nan),
            "vendor_gamma": np.full(count, np.nan),
            "vendor_forward": np.full(count, np.nan),
        }
    )
    return VendorChain(
        underlying=table.single("symbol").upper(),
        quote_time=before_close(path, table.line(0), "date", day),
        spot=spot,
        contracts=contracts,
        values=values,
        lines=table.lines,
    )


LAYOUT = Layout(NAME, matches, identify, read)
