"""Data-quality measurements on option chains, shared by the blocking asset checks."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

NEAR_MONEY_PCT = 0.05


def crossed_quotes(chain: pd.DataFrame) -> pd.DataFrame:
    """Rows whose bid is above their ask."""
    return chain[chain["bid"] > chain["ask"]]


def max_quote_age_seconds(chain: pd.DataFrame, now: datetime) -> float:
    """Age of the oldest quote at `now`, in seconds (0 for an empty chain)."""
    if chain.empty:
        return 0.0
    oldest = pd.to_datetime(chain["quote_time"], utc=True).min()
    return (pd.Timestamp(now) - oldest).total_seconds()


def strikes_each_side(chain: pd.DataFrame) -> pd.DataFrame:
    """Per underlying and expiration, the number of quoted strikes below and above spot."""
    strike, spot = chain["strike"], chain["underlying_price"]
    frame = chain.assign(below=strike.where(strike < spot), above=strike.where(strike > spot))
    counts = frame.groupby(["underlying", "expiration"])[["below", "above"]].nunique()
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
        return pd.DataFrame(columns=["underlying", "expiration", "gap_spacings"])
    gaps = chain.groupby(["underlying", "expiration"])[["strike", "underlying_price"]].apply(_spot_gap)
    return gaps.rename("gap_spacings").reset_index()


def unsolvable_near_money(chain: pd.DataFrame) -> tuple[int, int]:
    """(near-the-money quotes with no solvable IV, near-the-money quotes): strikes within 5% of spot."""
    near = chain[(chain["strike"] / chain["underlying_price"] - 1).abs() < NEAR_MONEY_PCT]
    near = near[near["dte"] > 0]
    return int(near["iv"].isna().sum()), len(near)
