"""The option-chain table every market-data provider returns, its normalization and enrichment.

One row per contract. `expiration` is a date (datetime64, midnight); `quote_time` is UTC-aware;
`right` is "C" or "P"; prices are floats here (analytics), decimals only in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from trading_pipeline.core.calendar import ET, days_to_expiry, years_to_expiry
from trading_pipeline.core.carry import CARRY_COLUMNS, Carry, chain_carry
from trading_pipeline.core.fills import LegQuote
from trading_pipeline.core.instruments import Leg, is_american, occ_roots
from trading_pipeline.core.valuation import value_chain

QUOTE_COLUMNS: tuple[str, ...] = (
    "occ_symbol",
    "underlying",
    "expiration",
    "strike",
    "right",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "volume",
    "open_interest",
    "underlying_price",
    "quote_time",
)

#: Columns the option_chains asset adds: mid price, time to expiry, carry, solved IV and greeks (American for
#: ETF roots, European for index roots), why a contract has no IV ("" where it has one) and its OCC root.
ENRICHED_COLUMNS: tuple[str, ...] = (
    "mid",
    "dte",
    "t_years",
    "rate",
    "div_yield",
    "forward",
    "carry_source",
    "iv",
    "delta",
    "gamma",
    "vega",
    "theta",
    "iv_reason",
    "root",
)

_NUMERIC = ("strike", "bid", "ask", "bid_size", "ask_size", "volume", "open_interest", "underlying_price")
_DATES = (("expiration", False), ("quote_time", True))
_RIGHTS = ("C", "P")

#: Most offending rows (or contracts, expirations) an error or a check lists; totals are always given.
MAX_LISTED = 10


class ChainSchemaError(ValueError):
    """A chain that misses columns or carries malformed values; the message names field and value."""


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so messages read -0.05, not np.float64(-0.05)."""
    return value.item() if isinstance(value, np.generic) else value


def _bad_values(chain: pd.DataFrame, column: str, bad: pd.Series, expected: str) -> list[str]:
    """The error naming the first MAX_LISTED bad values of `column`, their contracts and the total, as a
    one-item list (empty when no value is bad) so messages for every field can be collected."""
    rows = chain.loc[bad.to_numpy(), ["occ_symbol", column]]
    if rows.empty:
        return []
    shown = ", ".join(
        f"{_plain(value)!r} for {symbol!r}" for symbol, value in rows.head(MAX_LISTED).to_numpy()
    )
    noun = "value" if len(rows) == 1 else "values"
    return [
        f"option chain field {column!r} has {len(rows)} bad {noun} "
        f"(showing {min(len(rows), MAX_LISTED)} of {len(rows)}): {shown}; expected {expected}"
    ]


def _is_naive_stamp(value: object) -> bool:
    """Whether `value` reads as a timestamp without a time zone (an unparseable one is a bad date instead)."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        return False
    return stamp is not pd.NaT and stamp.tzinfo is None


def _naive_stamps(values: pd.Series) -> np.ndarray:
    """Mask of the values without a time zone: parsed as UTC they would silently shift by their offset."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return np.zeros(len(values), dtype=bool)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.notna().to_numpy()
    naive = [value for value in pd.unique(values) if _is_naive_stamp(value)]
    return values.isin(naive).to_numpy()


def normalize_chain(chain: pd.DataFrame) -> pd.DataFrame:
    """The chain with numeric fields as floats (numeric text accepted) and dates parsed, else an error.

    ChainSchemaError names every bad row (up to MAX_LISTED per field, with totals); a quote time without a
    time zone is one (aware ones in any zone become UTC). Crossed or stale quotes are data-quality questions
    for the asset checks, not schema errors.
    """
    missing = [c for c in QUOTE_COLUMNS if c not in chain.columns]
    if missing:
        raise ChainSchemaError(f"option chain is missing columns {missing}")
    normalized = chain.copy()
    problems: list[str] = []
    for column in _NUMERIC:
        values = pd.to_numeric(chain[column], errors="coerce").astype(float)
        bad = ~np.isfinite(values) | (values < 0)
        problems += _bad_values(chain, column, bad, "a finite number >= 0")
        normalized[column] = values
    for column, utc in _DATES:
        parsed = pd.to_datetime(chain[column], errors="coerce", utc=utc, format="mixed")
        problems += _bad_values(chain, column, parsed.isna(), "a date")
        normalized[column] = parsed
    naive = normalized["quote_time"].notna().to_numpy() & _naive_stamps(chain["quote_time"])
    problems += _bad_values(chain, "quote_time", pd.Series(naive), "a timestamp with a time zone")
    problems += _bad_values(chain, "right", ~chain["right"].isin(_RIGHTS), " or ".join(_RIGHTS))
    if problems:
        raise ChainSchemaError("; ".join(problems))
    return normalized


def enrich_chain(quotes: pd.DataFrame, now: datetime, carry: Mapping[str, Carry]) -> pd.DataFrame:
    """Add mid, DTE, time to expiry, carry (parity forward preferred), IV solved from the mid and greeks.

    `carry` is the market-data provider's rate and dividend yield per underlying at `now`. Time to expiry
    runs to each root's settlement (an AM-settled SPX monthly settles at Friday's open); ETF options are
    valued as American, index options as European (core/valuation.py).
    """
    chain = quotes.copy()
    expirations = pd.to_datetime(chain["expiration"])
    roots = occ_roots(chain["occ_symbol"])
    today = now.astimezone(ET).date()
    chain["mid"] = (chain["bid"] + chain["ask"]) / 2
    chain["dte"] = expirations.map({e: days_to_expiry(today, e.date()) for e in expirations.unique()})
    pairs = pd.DataFrame({"expiration": expirations.to_numpy(), "root": roots.to_numpy()})
    unique = pairs.drop_duplicates().copy()
    unique["t_years"] = [
        years_to_expiry(now, e.date(), root)
        for e, root in zip(unique["expiration"], unique["root"], strict=True)
    ]
    chain["t_years"] = pairs.merge(unique, on=["expiration", "root"], how="left")["t_years"].to_numpy()
    chain[list(CARRY_COLUMNS)] = chain_carry(chain, carry)
    american = roots.map({root: is_american(root) for root in roots.unique()}).to_numpy(dtype=bool)
    valuation = value_chain(
        chain["mid"].to_numpy(dtype=float),
        chain["underlying_price"].to_numpy(dtype=float),
        chain["strike"].to_numpy(dtype=float),
        chain["t_years"].to_numpy(dtype=float),
        chain["rate"].to_numpy(dtype=float),
        chain["div_yield"].to_numpy(dtype=float),
        (chain["right"] == "C").to_numpy(),
        american,
    )
    for name in ("iv", "delta", "gamma", "vega", "theta"):
        chain[name] = getattr(valuation, name)
    chain["iv_reason"] = valuation.reason
    chain["root"] = roots.to_numpy()
    # One block per dtype instead of one per added column: every later row selection is cheaper.
    return chain.copy()


class MissingLegError(LookupError):
    """A contract of a structure has no quote in the chain; the message names the symbols."""


def leg_rows(chain: pd.DataFrame, legs: tuple[Leg, ...]) -> pd.DataFrame:
    """The chain rows of a structure's legs, in leg order, indexed by OCC symbol."""
    symbols = [leg.contract.occ_symbol for leg in legs]
    # The first row of each symbol, found with numpy: indexing the whole chain per call cost ~4 ms.
    listed = chain["occ_symbol"].to_numpy()
    first = {symbol: np.flatnonzero(listed == symbol)[:1] for symbol in dict.fromkeys(symbols)}
    missing = [symbol for symbol in symbols if not len(first[symbol])]
    if missing:
        raise MissingLegError(f"no quote for {', '.join(missing)}")
    rows = chain.iloc[[int(first[symbol][0]) for symbol in symbols]]
    return rows.set_index(pd.Index(symbols, name="occ_symbol"))


def leg_quotes(rows: pd.DataFrame) -> tuple[LegQuote, ...]:
    """Bid and ask of each row (as from `leg_rows`), as exact decimals for pricing structures."""
    return tuple(LegQuote(bid, ask) for bid, ask in zip(rows["bid"], rows["ask"], strict=True))
