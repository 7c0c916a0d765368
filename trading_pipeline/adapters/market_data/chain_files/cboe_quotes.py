"""Cboe delayed-quotes export (quotedata.csv, cboe.com/delayed_quotes): calls left of `Strike`, puts right.

Line 1 is empty, line 2 is `<name>,Last: <spot>,...`, line 3 the quote time in one of two formats
(`Date: 9 June 2023, 1:40 PM EDT,...` or `"Date: September 14, 2023 at 4:31 PM EDT",...`), line 4 the
header. IV is a decimal. `Last` is the vendor's spot (after the close it is the 16:00 index level while the
options quote on to 16:15; no forward is inferred here). The export has no quote sizes: they are 0.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.chain_files.chain_table import per_root, underlying_of_root
from trading_pipeline.adapters.market_data.chain_files.recorded import Layout, VendorChain
from trading_pipeline.adapters.market_data.chain_files.vendor_table import (
    VendorTable,
    head_lines,
    line_error,
)
from trading_pipeline.core.calendar import ET
from trading_pipeline.core.instruments import OccSymbolError, parse_occ_symbol

NAME = "cboe_delayed_quotes"
SPOT_LINE, STAMP_LINE, HEADER_LINE = 2, 3, 4
_SIDE = ("Last Sale", "Net", "Bid", "Ask", "Volume", "IV", "Delta", "Gamma", "Open Interest")
COLUMNS = ("Expiration Date", "Calls", *_SIDE, "Strike", "Puts", *(f"{name}.1" for name in _SIDE))
EXPIRATION_FORMAT = "%a %b %d %Y"
#: Zones the export writes after the time; EDT/EST are fixed offsets, ET follows New York's rules.
ZONES: dict[str, timezone | ZoneInfo] = {
    "EDT": timezone(timedelta(hours=-4)),
    "EST": timezone(timedelta(hours=-5)),
    "ET": ET,
}
_STAMP_FORMATS = ("%d %B %Y %I:%M %p", "%B %d %Y %I:%M %p", "%d %b %Y %I:%M %p", "%b %d %Y %I:%M %p")
_STAMP_LINE = re.compile(r'^"?Date:\s*(?P<stamp>[^"]*?)"?\s*(?:,\s*Bid:.*)?$')
_MERIDIEMS = ("AM", "PM")


def matches(head: list[str]) -> bool:
    """An empty line, the `Last:` line, the `Date:` line, then the Expiration Date/Calls header."""
    return (
        len(head) >= HEADER_LINE
        and head[0].strip(" ,") == ""
        and ",Last:" in head[SPOT_LINE - 1]
        and head[STAMP_LINE - 1].lstrip('"').startswith("Date:")
        and head[HEADER_LINE - 1].startswith(",".join(COLUMNS[:2]) + ",")
    )


def quote_time(path: Path, line: str) -> datetime:
    """The export's timestamp line as an aware datetime; a time without a zone is refused."""
    found = _STAMP_LINE.match(line.strip())
    if found is None:
        raise line_error(path, STAMP_LINE, "Date", line, "'Date: <date>, <h:mm AM/PM> <zone>'")
    stamp = found["stamp"]
    tokens = stamp.replace(",", " ").replace(" at ", " ").split()
    if not tokens or tokens[-1].upper() in _MERIDIEMS:
        raise line_error(path, STAMP_LINE, "Date", stamp, f"a time with a zone ({', '.join(ZONES)})")
    zone = ZONES.get(tokens[-1].upper())
    if zone is None:
        raise line_error(path, STAMP_LINE, "Date", stamp, f"a zone among {', '.join(ZONES)}")
    local = " ".join(tokens[:-1])
    for fmt in _STAMP_FORMATS:
        try:
            return datetime.strptime(local, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    raise line_error(path, STAMP_LINE, "Date", stamp, "a date and time like '9 June 2023, 1:40 PM EDT'")


def spot(path: Path, line: str) -> float:
    """`Last: <number>` of the spot line: the vendor's index level."""
    named = (field.partition(":") for field in next(csv.reader([line]), []))
    fields = {name.strip(): value.strip() for name, _, value in named}
    try:
        return float(fields["Last"])
    except (KeyError, ValueError):
        raise line_error(path, SPOT_LINE, "Last", fields.get("Last", line), "a number") from None


def identify(path: Path, head: list[str]) -> tuple[str, date]:
    """Underlying from the first data row's call symbol, session from the timestamp line."""
    first_row = next(csv.reader([head[HEADER_LINE] if len(head) > HEADER_LINE else ""]), [])
    symbol = first_row[1] if len(first_row) > 1 else ""
    try:
        root = parse_occ_symbol(symbol).root
    except OccSymbolError:
        raise line_error(path, HEADER_LINE + 1, "Calls", symbol, "an OCC option symbol") from None
    return underlying_of_root(root), quote_time(path, head[STAMP_LINE - 1]).astimezone(ET).date()


def read(path: Path) -> VendorChain:
    """Calls and puts of every line as two rows each, quoted at the timestamp line's time."""
    head = head_lines(path)
    stamp, last = quote_time(path, head[STAMP_LINE - 1]), spot(path, head[SPOT_LINE - 1])
    table = VendorTable.read(path, COLUMNS, header_line=HEADER_LINE)
    expirations = table.dates("Expiration Date", EXPIRATION_FORMAT)
    strikes = table.numbers("Strike", non_negative=True)
    count = len(table.rows)
    calls = table.contracts("Calls", expirations, strikes, ["C"] * count)
    puts = table.contracts("Puts", expirations, strikes, ["P"] * count)
    values = pd.concat([_side(table, "", last), _side(table, ".1", last)], ignore_index=True)
    return VendorChain(
        underlying=_one_underlying(table, calls),
        quote_time=stamp,
        spot=last,
        contracts=pd.concat([calls, puts], ignore_index=True),
        values=values,
        lines=table.lines * 2,
    )


def _side(table: VendorTable, suffix: str, last: float) -> pd.DataFrame:
    """The call (suffix "") or put (suffix ".1") half's numbers."""
    count = len(table.rows)
    return pd.DataFrame(
        {
            "bid": table.numbers(f"Bid{suffix}", non_negative=True),
            "ask": table.numbers(f"Ask{suffix}", non_negative=True),
            "bid_size": np.zeros(count),
            "ask_size": np.zeros(count),
            "volume": table.numbers(f"Volume{suffix}", non_negative=True),
            "open_interest": table.numbers(f"Open Interest{suffix}", non_negative=True),
            "underlying_price": np.full(count, last),
            "vendor_iv": table.numbers(f"IV{suffix}", non_negative=True),
            "vendor_delta": table.numbers(f"Delta{suffix}"),
            "vendor_gamma": table.numbers(f"Gamma{suffix}"),
            "vendor_forward": np.full(count, np.nan),
        }
    )


def _one_underlying(table: VendorTable, contracts: pd.DataFrame) -> str:
    """The underlying every row's root belongs to (SPX for SPX and SPXW); a file mixing two is refused."""
    if contracts.empty:
        raise line_error(table.path, HEADER_LINE + 1, "Calls", "", "at least one data row")
    underlyings = per_root(contracts["root"], underlying_of_root)
    other = (underlyings != underlyings.iloc[0]).to_numpy()
    if other.any():
        raise table.fail(
            int(other.argmax()), "Calls", f"an option on {underlyings.iloc[0]} as on the first row"
        )
    return str(underlyings.iloc[0])


LAYOUT = Layout(NAME, matches, identify, read)
