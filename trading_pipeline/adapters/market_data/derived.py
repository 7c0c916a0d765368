"""A chain derived from a market's own state: the shared listing and surface model (core/listing.py,
core/surface.py) fed with the spot, vol index, term structure, carry and price history the market reports.
The simulator and the replay of real history both quote their chains this way."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import pandas as pd

from trading_pipeline.core.carry import Carry
from trading_pipeline.core.listing import listing_as_of
from trading_pipeline.core.surface import TermStructure, derive_chain

#: The S&P 500 30-day vol index whose level sets the derived surface.
VOL_INDEX = "VIX"


class ListingMarket(Protocol):
    """What a market reports for a chain to be derived from it."""

    def spot(self, symbol: str, as_of: datetime) -> float: ...

    def term_structure(self, as_of: datetime) -> TermStructure: ...

    def carry(self, underlying: str, as_of: datetime) -> Carry: ...

    def listing_history(self, symbol: str, as_of: datetime, max_dte: int) -> pd.DataFrame:
        """Opens and closes known at `as_of` that decide the listed strikes (core/listing.listing_as_of)."""
        ...


def derived_chain(
    market: ListingMarket, symbol: str, as_of: datetime, max_dte: int, seed: int
) -> pd.DataFrame:
    """Quotes of every contract `market` lists at `as_of` up to `max_dte` days out (QUOTE_COLUMNS)."""
    listing = listing_as_of(symbol, as_of, market.listing_history(symbol, as_of, max_dte), max_dte)
    return derive_chain(
        symbol,
        as_of,
        market.spot(symbol, as_of),
        market.spot(VOL_INDEX, as_of),
        market.term_structure(as_of),
        market.carry(symbol, as_of),
        listing,
        seed=seed,
    )
