"""Cboe DataShop "Option EOD Summary" with calcs (VIX_2016-06-01_cboedatashop.csv): one row per contract.

Quotes, IV (decimal), greeks and underlying prices are taken at the 15:45 ET snapshot (15 minutes before
the close), where the vendor's calcs are. VIX options price off VIX futures: `implied_underlying_price_1545`
is the per-expiry forward (vendor_forward), `active_underlying_price_1545` spot VIX (the underlying price).
There are no OCC symbols: they are built from root, expiration, strike and option_type.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from trading_pipeline.adapters.market_data.chain_files.recorded import Layout, VendorChain
from trading_pipeline.adapters.market_data.chain_files.vendor_table import (
    VendorTable,
    before_close,
    first_row,
    header_is,
    parsed_date,
)

NAME = "cboe_datashop_eod"
COLUMNS = (
    "underlying_symbol",
    "quote_date",
    "root",
    "expiration",
    "strike",
    "option_type",
    "open",
    "high",
    "low",
    "close",
    "trade_volume",
    "bid_size_1545",
    "bid_1545",
    "ask_size_1545",
    "ask_1545",
    "underlying_bid_1545",
    "underlying_ask_1545",
    "implied_underlying_price_1545",
    "active_underlying_price_1545",
    "implied_volatility_1545",
    "delta_1545",
    "gamma_1545",
    "theta_1545",
    "vega_1545",
    "rho_1545",
    "bid_size_eod",
    "bid_eod",
    "ask_size_eod",
    "ask_eod",
    "underlying_bid_eod",
    "underlying_ask_eod",
    "vwap",
    "open_interest",
    "delivery_code",
)
DATE_FORMAT = "%Y-%m-%d"
SNAPSHOT_BEFORE_CLOSE = timedelta(minutes=15)
#: DataShop prefixes index underlyings with a caret (^VIX); the project names them without it.
INDEX_PREFIX = "^"


def matches(head: list[str]) -> bool:
    """The 34-column DataShop EOD Summary header (1545 and eod columns)."""
    return header_is(head, COLUMNS)


def identify(path: Path, head: list[str]) -> tuple[str, date]:
    """Underlying and quote date from the first data line."""
    row = first_row(path, head, COLUMNS)
    underlying = row["underlying_symbol"].upper().removeprefix(INDEX_PREFIX)
    return underlying, parsed_date(path, 2, "quote_date", row["quote_date"], DATE_FORMAT)


def read(path: Path) -> VendorChain:
    """Every contract at the 15:45 snapshot of the file's one quote date."""
    table = VendorTable.read(path, COLUMNS)
    day = table.single_date("quote_date", DATE_FORMAT)
    expirations = table.dates("expiration", DATE_FORMAT)
    strikes = table.numbers("strike", non_negative=True)
    rights = table.choice("option_type", ("C", "P"))
    contracts = table.contracts_from_fields("root", expirations, strikes, rights)
    prices = table.numbers("active_underlying_price_1545", non_negative=True)
    spot = float(table.single("active_underlying_price_1545"))
    values = pd.DataFrame(
        {
            "bid": table.numbers("bid_1545", non_negative=True),
            "ask": table.numbers("ask_1545", non_negative=True),
            "bid_size": table.numbers("bid_size_1545", non_negative=True),
            "ask_size": table.numbers("ask_size_1545", non_negative=True),
            "volume": table.numbers("trade_volume", non_negative=True),
            "open_interest": table.numbers("open_interest", non_negative=True),
            "underlying_price": prices,
            "vendor_iv": table.numbers("implied_volatility_1545", non_negative=True),
            "vendor_delta": table.numbers("delta_1545"),
            "vendor_gamma": table.numbers("gamma_1545"),
            "vendor_forward": table.numbers("implied_underlying_price_1545", non_negative=True),
        }
    )
    return VendorChain(
        underlying=table.single("underlying_symbol").upper().removeprefix(INDEX_PREFIX),
        quote_time=before_close(path, table.line(0), "quote_date", day, SNAPSHOT_BEFORE_CLOSE),
        spot=spot,
        contracts=contracts,
        values=values,
        lines=table.lines,
    )


LAYOUT = Layout(NAME, matches, identify, read)
