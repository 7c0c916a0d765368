"""Choosing expirations and strikes from an enriched chain: the one strike-selection routine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from trading_pipeline.core.instruments import OptionContract, Right

#: Deltas and spreads are compared after rounding, so float noise never decides a tie or a limit.
_COMPARE_DECIMALS = 10


class SelectionError(LookupError):
    """No expiration or strike in the chain satisfies the request."""


def spread_pct(rows: pd.DataFrame) -> pd.Series:
    """Bid-ask spread as a percentage of the mid, per row (rows need `bid`, `ask` and `mid`)."""
    return pd.Series(spread_pct_array(rows), index=rows.index)


def spread_pct_array(rows: pd.DataFrame) -> np.ndarray:
    """`spread_pct` as a numpy array (no mid: inf or NaN, which no limit passes)."""
    bid, ask, mid = (rows[c].to_numpy(dtype=float) for c in ("bid", "ask", "mid"))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.round(100 * (ask - bid) / mid, _COMPARE_DECIMALS)


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    return rows[name].to_numpy(dtype=float)


@dataclass(frozen=True)
class LiquidityFloor:
    """The least a contract must offer to be traded: open interest, and a bid-ask spread as % of its mid."""

    min_open_interest: float
    max_spread_pct: float

    def __str__(self) -> str:
        return f"open interest >= {self.min_open_interest:g}, spread <= {self.max_spread_pct:g}% of mid"

    def passes(self, rows: pd.DataFrame) -> pd.Series:
        """Per row: a bid, enough open interest and a spread no wider than the limit."""
        return pd.Series(self.passes_array(rows), index=rows.index)

    def passes_array(self, rows: pd.DataFrame) -> np.ndarray:
        """`passes` as a numpy boolean array (the selection hot path works on arrays)."""
        with np.errstate(invalid="ignore"):
            return (
                (_column(rows, "bid") > 0)
                & (_column(rows, "open_interest") >= self.min_open_interest)
                & (spread_pct_array(rows) <= self.max_spread_pct)
            )


def _at_the_money_positions(strikes: np.ndarray, spots: np.ndarray, rights: np.ndarray) -> np.ndarray:
    """Positions of the put and the call of the listed strike nearest spot (the first row of each right)."""
    nearest = np.abs(strikes - spots).argmin()
    at_strike = np.flatnonzero(strikes == strikes[nearest])
    _, first = np.unique(rights[at_strike], return_index=True)  # the first row of each right
    return np.sort(at_strike[first])


def _at_the_money(rows: pd.DataFrame) -> pd.DataFrame:
    """The put and the call of the listed strike nearest spot (one row per right that is quoted there)."""
    positions = _at_the_money_positions(
        _column(rows, "strike"), _column(rows, "underlying_price"), rows["right"].to_numpy()
    )
    return rows.iloc[positions]


def _illiquid_at_the_money(rows: pd.DataFrame, liquidity: LiquidityFloor) -> str | None:
    """Why one expiration's at-the-money put and call fail the floor, or None when both pass."""
    atm = _at_the_money(rows)
    failing = atm[~liquidity.passes(atm)]
    missing = sorted(set("PC") - set(atm["right"]))
    if failing.empty and not missing:
        return None
    shortfalls = [
        f"{right} {strike:g} open interest {interest:g}, bid {bid:g}, spread {spread:.1f}% of mid"
        for right, strike, interest, bid, spread in zip(
            failing["right"],
            failing["strike"],
            failing["open_interest"],
            failing["bid"],
            spread_pct(failing),
            strict=True,
        )
    ]
    return "; ".join([*(f"{right} not quoted" for right in missing), *shortfalls])


def choose_expiration(
    chain: pd.DataFrame, dte_min: int, dte_max: int, dte_target: int, liquidity: LiquidityFloor
) -> date:
    """The expiration inside [dte_min, dte_max] days closest to dte_target (earlier on ties) among those
    whose at-the-money put and call pass the liquidity floor.

    Open interest builds after listing, and the money is where it builds first: an expiration thin even at
    the money (a just-listed weekly) loses to a liquid one further from the target, such as the monthly.
    """
    # numpy, not DataFrame operations: it runs for every strategy on every tick (benchmarks/bench_decision.py)
    expirations = chain["expiration"].to_numpy()
    listed, first = np.unique(expirations, return_index=True)  # sorted by expiration
    dtes = chain["dte"].to_numpy()[first]
    inside = (dtes >= dte_min) & (dtes <= dte_max)
    if not inside.any():
        raise SelectionError(
            f"no expiration with DTE in [{dte_min}, {dte_max}]; listed DTEs: {sorted(int(d) for d in dtes)}"
        )
    order = np.argsort(np.abs(dtes[inside] - dte_target), kind="stable")
    strikes, spots, rights = (
        _column(chain, "strike"),
        _column(chain, "underlying_price"),
        chain["right"].to_numpy(),
    )
    passing = liquidity.passes_array(chain)
    refused = []
    for expiration, dte in zip(listed[inside][order], dtes[inside][order], strict=True):
        of_expiration = np.flatnonzero(expirations == expiration)
        atm = of_expiration[
            _at_the_money_positions(strikes[of_expiration], spots[of_expiration], rights[of_expiration])
        ]
        if len(atm) == 2 and passing[atm].all():  # a put and a call, both liquid: no frame is built
            return pd.Timestamp(expiration).date()
        why = _illiquid_at_the_money(chain.iloc[of_expiration], liquidity)
        refused.append(f"{pd.Timestamp(expiration).date().isoformat()} ({int(dte)} DTE): {why}")
    raise SelectionError(
        f"no expiration with DTE in [{dte_min}, {dte_max}] is liquid at the money ({liquidity}): "
        + " | ".join(refused)
    )


def strike_by_delta(
    chain: pd.DataFrame,
    expiration: date,
    right: Right,
    target_delta: float,
    max_delta_error: float,
    liquidity: LiquidityFloor,
) -> pd.Series:
    """The contract of one expiration whose |delta| is closest to target_delta, at most max_delta_error away.

    Only contracts with a bid, a solved IV and a delta that pass the liquidity floor are eligible; ties go to
    the further OTM strike. A best match outside the tolerance is an error, never a "16-delta" 21-delta.
    """
    name = right.name.lower()
    delta = _column(chain, "delta")
    quoted = (
        (chain["expiration"].to_numpy() == np.datetime64(pd.Timestamp(expiration)))
        & (chain["right"].to_numpy() == right.value)
        & (_column(chain, "bid") > 0)
        & ~np.isnan(delta)
        & ~np.isnan(_column(chain, "iv"))
    )
    if not quoted.any():
        raise SelectionError(f"no quoted {name}s with a bid for {expiration.isoformat()}")
    eligible = np.flatnonzero(quoted & liquidity.passes_array(chain))
    if not len(eligible):
        raise SelectionError(
            f"none of the {int(quoted.sum())} quoted {name}s for {expiration.isoformat()} passes the "
            f"liquidity floor ({liquidity})"
        )
    distance = np.round(np.abs(np.abs(delta[eligible]) - target_delta), _COMPARE_DECIMALS)
    strikes = _column(chain, "strike")[eligible]
    further_otm = strikes if right is Right.CALL else -strikes
    position = np.lexsort((-further_otm, distance))[0]
    best = chain.iloc[eligible[position]]
    if distance[position] > round(max_delta_error, _COMPARE_DECIMALS):
        raise SelectionError(
            f"no liquid {name} for {expiration.isoformat()} within {max_delta_error:g} of target delta "
            f"{target_delta:g}: the closest is {str(best['occ_symbol']).strip()} (strike {best['strike']:g}) "
            f"at delta {best['delta']:.3f}, tolerance {max_delta_error:g}"
        )
    return best


def rows_of(chain: pd.DataFrame, underlying: str) -> pd.DataFrame:
    """The chain rows of `underlying` (the chain itself, uncopied, when it holds that underlying only)."""
    mask = chain["underlying"].to_numpy() == underlying
    return chain if mask.all() else chain[mask]


def occ_roots(rows: pd.DataFrame) -> pd.Series:
    """The OCC root of each row's contract (SPX and SPXW apart: AM- and PM-settled on one date)."""
    if "root" in rows.columns:  # enriched chains carry it (core/chain.py): no string work per call
        return rows["root"]
    return rows["occ_symbol"].str[:6].str.strip()


def chain_contract(row: pd.Series, underlying: str) -> OptionContract:
    """The contract of a chain row, refused when it is not an option on `underlying` (SPXW counts as SPX)."""
    contract = OptionContract.from_occ(str(row["occ_symbol"]))
    if contract.root.rstrip("W") != underlying.rstrip("W"):
        raise SelectionError(f"chain row {row['occ_symbol']!r} is not an option on {underlying}")
    return contract


def expected_move(rows: pd.DataFrame) -> float:
    """One standard deviation of the underlying by expiry, in points: spot x at-the-money IV x sqrt(years),
    from one expiration's rows (the IV of the strike nearest spot, puts and calls averaged)."""
    atm = _at_the_money(rows)
    ivs = _column(atm, "iv")
    if not np.isfinite(ivs).any():
        raise SelectionError("no at-the-money implied vol to size the expected move from")
    spot, years = float(atm["underlying_price"].iloc[0]), float(atm["t_years"].iloc[0])
    return spot * float(np.nanmean(ivs)) * float(np.sqrt(max(years, 0.0)))


def strike_by_expected_move(
    chain: pd.DataFrame, expiration: date, right: Right, multiple: float, liquidity: LiquidityFloor
) -> pd.Series:
    """The liquid contract of one expiration whose strike is nearest `multiple` expected moves out of the
    money (ties: further out); none within a quarter move of that strike is an error."""
    name = right.name.lower()
    same = chain[chain["expiration"].to_numpy() == np.datetime64(pd.Timestamp(expiration))]
    if same.empty:
        raise SelectionError(f"no quotes for {expiration.isoformat()}")
    move = expected_move(same)
    spot = float(same["underlying_price"].iloc[0])
    target = spot - multiple * move if right is Right.PUT else spot + multiple * move
    eligible = np.flatnonzero(
        (same["right"].to_numpy() == right.value)
        & ~np.isnan(_column(same, "delta"))
        & ~np.isnan(_column(same, "iv"))
        & liquidity.passes_array(same)
    )
    if not len(eligible):
        raise SelectionError(f"no liquid {name}s for {expiration.isoformat()} ({liquidity})")
    strikes = _column(same, "strike")[eligible]
    miss = np.round(np.abs(strikes - target), _COMPARE_DECIMALS)
    further_otm = strikes if right is Right.CALL else -strikes
    position = np.lexsort((-further_otm, miss))[0]
    if miss[position] > move / 4:
        raise SelectionError(
            f"no liquid {name} for {expiration.isoformat()} near {multiple:g} expected moves ({target:.2f}, "
            f"move {move:.2f}): the closest is strike {strikes[position]:g}"
        )
    return same.iloc[eligible[position]]
