"""Choosing expirations and strikes from an enriched chain: the one strike-selection routine."""

from __future__ import annotations

from datetime import date

import pandas as pd

from trading_pipeline.core.instruments import Right


class SelectionError(LookupError):
    """No expiration or strike in the chain satisfies the request."""


def choose_expiration(chain: pd.DataFrame, dte_min: int, dte_max: int, dte_target: int) -> date:
    """The listed expiration inside [dte_min, dte_max] days closest to dte_target (earlier on ties)."""
    dtes = chain[["expiration", "dte"]].drop_duplicates().sort_values("expiration")
    window = dtes[(dtes["dte"] >= dte_min) & (dtes["dte"] <= dte_max)]
    if window.empty:
        listed = sorted(int(d) for d in dtes["dte"].unique())
        raise SelectionError(f"no expiration with DTE in [{dte_min}, {dte_max}]; listed DTEs: {listed}")
    best = window.iloc[(window["dte"] - dte_target).abs().argsort(kind="stable").iloc[0]]
    return pd.Timestamp(best["expiration"]).date()


def strike_by_delta(chain: pd.DataFrame, expiration: date, right: Right, target_delta: float) -> pd.Series:
    """The quoted contract of one expiration whose |delta| is closest to target_delta.

    Only contracts with a bid, a solved IV and a delta are eligible; ties go to the further OTM strike.
    """
    rows = chain[
        (chain["expiration"] == pd.Timestamp(expiration))
        & (chain["right"] == right.value)
        & (chain["bid"] > 0)
        & chain["delta"].notna()
        & chain["iv"].notna()
    ]
    if rows.empty:
        raise SelectionError(f"no quoted {right.name.lower()}s with a bid for {expiration.isoformat()}")
    distance = (rows["delta"].abs() - target_delta).abs()
    otm_first = rows["strike"] if right is Right.CALL else -rows["strike"]
    order = pd.DataFrame({"distance": distance.round(10), "otm": -otm_first}).sort_values(
        ["distance", "otm"], kind="stable"
    )
    return rows.loc[order.index[0]]
