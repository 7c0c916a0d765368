"""Data-quality measurements on option chains, shared by the blocking asset checks.

Each measurement returns the offending rows, so a check can say which contracts or expirations failed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from trading_pipeline.core.chain import MAX_LISTED, ChainSchemaError

NEAR_MONEY_PCT = 0.05
#: Clock skew tolerated between a provider's quote stamps and the decision time.
QUOTE_CLOCK_SKEW_SECONDS = 1.0
_EXPIRATION_KEYS = ["underlying", "expiration"]


def listing(rows: pd.DataFrame, columns: Sequence[str]) -> dict[str, Any]:
    """The total number of rows and the first MAX_LISTED of them (`columns` only) as JSON-ready records."""
    shown = rows.head(MAX_LISTED)[list(columns)].to_json(orient="records", date_format="iso")
    return {"total": len(rows), "shown": json.loads(shown)}


def crossed_or_locked_quotes(chain: pd.DataFrame) -> pd.DataFrame:
    """Rows whose ask is not above their bid: crossed (bid > ask) or locked at zero width (bid == ask)."""
    return chain[~(chain["ask"] > chain["bid"])]


def quote_ages_seconds(chain: pd.DataFrame, now: datetime) -> pd.Series:
    """Age of each quote at `now`, in seconds; negative for a quote stamped after `now`.

    Quote times must be timezone-aware (as normalize_chain leaves them): a naive stamp read as UTC would
    shift every age by the provider's UTC offset, so it is refused, never assumed.
    """
    stamps = chain["quote_time"]
    if not isinstance(stamps.dtype, pd.DatetimeTZDtype):
        first = [
            f"{stamp!r} for {symbol!r}"
            for symbol, stamp in chain[["occ_symbol", "quote_time"]].head(1).to_numpy()
        ]
        raise ChainSchemaError(
            f"option chain field 'quote_time' must hold timezone-aware timestamps, got dtype {stamps.dtype} "
            f"(first: {', '.join(first) or 'no rows'})"
        )
    return (pd.Timestamp(now) - stamps).dt.total_seconds()


def max_quote_age_seconds(chain: pd.DataFrame, now: datetime) -> float:
    """Age of the oldest quote at `now`, in seconds (0 for an empty chain)."""
    return 0.0 if chain.empty else float(quote_ages_seconds(chain, now).max())


def newest_quote_age_seconds(chain: pd.DataFrame, now: datetime) -> float | None:
    """Age of the newest quote at `now`, in seconds (None for an empty chain): how long the feed has
    been silent when every quote is old."""
    return None if chain.empty else float(quote_ages_seconds(chain, now).min())


def stale_quotes(chain: pd.DataFrame, now: datetime, max_age_seconds: float) -> pd.DataFrame:
    """Rows quoted more than `max_age_seconds` before `now`."""
    return chain[quote_ages_seconds(chain, now) > max_age_seconds]


def future_quotes(chain: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Rows stamped after `now` by more than the tolerated clock skew: not yet knowable at `now`."""
    return chain[quote_ages_seconds(chain, now) < -QUOTE_CLOCK_SKEW_SECONDS]


def strikes_each_side(chain: pd.DataFrame) -> pd.DataFrame:
    """Per underlying and expiration, the number of quoted strikes below and above spot."""
    strike, spot = chain["strike"], chain["underlying_price"]
    frame = chain.assign(below=strike.where(strike < spot), above=strike.where(strike > spot))
    counts = frame.groupby(_EXPIRATION_KEYS)[["below", "above"]].nunique()
    return counts.reset_index()


def _spot_gap(group: pd.DataFrame) -> float:
    strikes = pd.Series(sorted(group["strike"].unique()))
    spot = float(group["underlying_price"].iloc[0])
    below, above = strikes[strikes <= spot], strikes[strikes > spot]
    near = strikes[(strikes / spot - 1).abs() < NEAR_MONEY_PCT]
    spacing = near.diff().median() if len(near) > 1 else float("nan")
    if below.empty or above.empty or not spacing > 0:
        return float("inf")
    return float((above.iloc[0] - below.iloc[-1]) / spacing)


def gap_around_spot(chain: pd.DataFrame) -> pd.DataFrame:
    """Per underlying and expiration, the distance between the strikes bracketing spot, in units of
    the usual strike spacing near the money: 1 on a complete grid, larger when strikes are missing."""
    if chain.empty:
        return chain[_EXPIRATION_KEYS].assign(gap_spacings=pd.Series(dtype=float))
    gaps = chain.groupby(_EXPIRATION_KEYS)[["strike", "underlying_price"]].apply(_spot_gap)
    return gaps.rename("gap_spacings").reset_index()


def expiration_coverage(chain: pd.DataFrame) -> pd.DataFrame:
    """Per underlying and expiration: strikes below and above spot, and the gap around spot."""
    return strikes_each_side(chain).merge(gap_around_spot(chain), on=_EXPIRATION_KEYS, how="outer")


def incomplete_expirations(
    coverage: pd.DataFrame, min_strikes_each_side: int, max_spot_gap_spacings: float
) -> pd.DataFrame:
    """Rows of `expiration_coverage` with too few strikes on a side of spot or a hole around spot."""
    return coverage[
        (coverage["below"] < min_strikes_each_side)
        | (coverage["above"] < min_strikes_each_side)
        | (coverage["gap_spacings"] > max_spot_gap_spacings)
    ]


def missing_underlyings(chain: pd.DataFrame, underlyings: Iterable[str]) -> list[str]:
    """The expected underlyings that have no quote at all in the chain."""
    return sorted(set(underlyings) - set(chain["underlying"]))


def unsolvable_near_money(chain: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """(near-the-money quotes with no solvable IV, number of near-the-money quotes): strikes within 5%
    of spot, expiring after today."""
    near = chain[(chain["strike"] / chain["underlying_price"] - 1).abs() < NEAR_MONEY_PCT]
    near = near[near["dte"] > 0]
    return near[near["iv"].isna()], len(near)
