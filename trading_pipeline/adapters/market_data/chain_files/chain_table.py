"""From a layout's vendor rows to the project's chain: canonical OCC symbols, settlement, flags and drops.

Rows are keyed by OCC root as well as expiry and strike, so the AM-settled SPX monthly and the PM-settled
SPXW on a shared third Friday stay two contracts.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.chain_files.recorded import (
    CHAIN_COLUMNS,
    RecordedChain,
    VendorChain,
)
from trading_pipeline.adapters.market_data.chain_files.vendor_table import line_error
from trading_pipeline.core.calendar import UTC, expiration_datetime
from trading_pipeline.core.expirations import (
    INDEX_QUARTERLY_ROOT_BEFORE_2014,
    INDEX_UNDERLYING,
    INDEX_WEEKLY_ROOT,
    on_or_before_session,
    settlement_of,
)
from trading_pipeline.core.instruments import format_occ_symbol

#: Reasons a row is dropped, in the order they are tested (a row counts under its first reason).
DROPPED = ("nonstandard", "expired", "crossed", "no_quote")
#: Reasons a kept row is counted.
FLAGGED = ("zero_bid", "missing_vendor_iv", "missing_vendor_greeks", "saturday_expiration")
SATURDAY = 5
#: Roots that differ from their underlying's symbol other than by an adjustment digit.
_ROOT_UNDERLYINGS = {
    INDEX_WEEKLY_ROOT: INDEX_UNDERLYING,
    INDEX_QUARTERLY_ROOT_BEFORE_2014: INDEX_UNDERLYING,
    "VIXW": "VIX",
}


def last_trading_day(expiration: date) -> date:
    """The date the project keys an expiration by. Until February 2015 OCC dated standard monthlies on the
    Saturday after the third Friday, but they last traded (and were valued) on that Friday, or on the
    session before it when the Friday was a holiday."""
    if expiration.weekday() != SATURDAY:
        return expiration
    return on_or_before_session(expiration - timedelta(days=1))


def is_adjusted_root(root: str) -> bool:
    """OCC gives a non-standard series (adjusted after a corporate action) a root ending in a digit: SPY7."""
    return root[-1].isdigit()


def underlying_of_root(root: str) -> str:
    """The underlying an OCC root's options are on: SPX for SPXW (and SPXQ), VIX for VIXW, SPY for SPY7."""
    return _ROOT_UNDERLYINGS.get(root, root.rstrip(string.digits))


def per_root(roots: pd.Series, rule: Callable[[str], object]) -> pd.Series:
    """`rule` applied once per distinct root (a handful per file) and spread to every row."""
    return roots.map({root: rule(root) for root in roots.unique()})


def recorded_chain(path: Path, layout: str, vendor: VendorChain) -> RecordedChain:
    """The vendor rows as a RecordedChain: nonstandard, expired, crossed and unquoted rows dropped and
    counted, zero bids and missing vendor IV or greeks kept and counted."""
    contracts, moved = _keyed_by_last_trading_day(vendor.contracts)
    _require_unique(path, contracts, vendor.lines)
    table = contracts.assign(
        underlying=vendor.underlying,
        quote_time=pd.Timestamp(vendor.quote_time).tz_convert(UTC),
        settlement=per_root(contracts["root"], settlement_of),
        **_vendor_measures(vendor.values),
    )
    drop_reason = _drop_reasons(table, vendor.quote_time)
    kept = (drop_reason == "").to_numpy()
    flags = {
        "zero_bid": (table["bid"] == 0).to_numpy(),
        "missing_vendor_iv": table["vendor_iv"].isna().to_numpy(),
        "missing_vendor_greeks": table[["vendor_delta", "vendor_gamma"]].isna().any(axis=1).to_numpy(),
        "saturday_expiration": moved,
    }
    flagged = {reason: int((drop_reason == reason).sum()) for reason in DROPPED}
    flagged |= {reason: int((flags[reason] & kept).sum()) for reason in FLAGGED}
    quotes = table[kept].sort_values(["expiration", "root", "strike", "right"], kind="stable")
    return RecordedChain(
        underlying=vendor.underlying,
        layout=layout,
        path=path,
        quote_time=vendor.quote_time.astimezone(UTC),
        spot=vendor.spot,
        quotes=quotes[list(CHAIN_COLUMNS)].reset_index(drop=True),
        flagged=flagged,
    )


def _keyed_by_last_trading_day(contracts: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Contracts re-dated (symbol too) from a Saturday expiration to its last trading day, and which moved."""
    moved = (contracts["expiration"].dt.day_of_week == SATURDAY).to_numpy()
    if not moved.any():
        return contracts, moved
    contracts = contracts.copy()
    days = contracts.loc[moved, "expiration"].dt.date.map(last_trading_day)
    contracts.loc[moved, "expiration"] = pd.to_datetime(days)
    rows = contracts.loc[moved, ["root", "right", "strike"]]
    contracts.loc[moved, "occ_symbol"] = [
        format_occ_symbol(root, day, right, strike)
        for root, day, right, strike in zip(rows["root"], days, rows["right"], rows["strike"], strict=True)
    ]
    return contracts, moved


def _require_unique(path: Path, table: pd.DataFrame, lines: list[int]) -> None:
    """One row per contract: a repeated (root, expiry, strike, right) is an error naming its second line."""
    repeated = table["occ_symbol"].duplicated().to_numpy()
    if repeated.any():
        position = int(repeated.argmax())
        symbol = table["occ_symbol"].iloc[position]
        raise line_error(path, lines[position], "occ_symbol", symbol, "one row per contract")


def _vendor_measures(values: pd.DataFrame) -> dict[str, np.ndarray]:
    """Quotes as given; vendor IV missing when not positive, greeks missing with it or when zero, the
    vendor forward missing when not positive."""
    measures = {column: values[column].to_numpy(dtype=float) for column in values.columns}
    iv = measures["vendor_iv"]
    has_iv = iv > 0
    measures["vendor_iv"] = np.where(has_iv, iv, np.nan)
    for greek in ("vendor_delta", "vendor_gamma"):
        measures[greek] = np.where(has_iv & (measures[greek] != 0), measures[greek], np.nan)
    forward = measures["vendor_forward"]
    measures["vendor_forward"] = np.where(forward > 0, forward, np.nan)
    return measures


def _drop_reasons(table: pd.DataFrame, quote_time: datetime) -> pd.Series:
    """Each row's first reason to drop it ("" to keep): an expired row was quoted after its expiry (the
    09:30 ET open for AM-settled roots, the close for PM-settled ones)."""
    series = table[["expiration", "root"]].drop_duplicates()
    series["expired"] = [
        quote_time > expiration_datetime(expiration.date(), root)
        for expiration, root in series.itertuples(index=False)
    ]
    expired = table[["expiration", "root"]].merge(series, on=["expiration", "root"], how="left")["expired"]
    tests = {
        "nonstandard": per_root(table["root"], is_adjusted_root).to_numpy(dtype=bool),
        "expired": expired.to_numpy(dtype=bool),
        "crossed": (table["bid"] > table["ask"]).to_numpy(),
        "no_quote": ((table["bid"] == 0) & (table["ask"] == 0)).to_numpy(),
    }
    reason = np.full(len(table), "", dtype=object)
    for name in reversed(DROPPED):
        reason[tests[name]] = name
    return pd.Series(reason, index=table.index, dtype=str)
