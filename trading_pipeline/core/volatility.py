"""Implied-volatility term structure, IV rank/percentile and realized volatility, as pure functions.

Times are ACT/365 year fractions, the convention of `calendar.years_to_expiry` and the chain's
`t_years`; realized vol annualizes by trading periods (252 a year by default).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DAYS_PER_YEAR = 365.0
#: Expirations closer than two days are dropped from the term structure: their IV is mostly noise.
MIN_EXPIRY_YEARS = 2.0 / DAYS_PER_YEAR
#: About ten months of daily sessions: fewer makes IV rank too sensitive to one regime.
DEFAULT_MIN_OBSERVATIONS = 200

_CHAIN_COLUMNS = ("expiration", "strike", "right", "iv", "t_years", "underlying_price")


class VolatilityError(ValueError):
    """Volatility inputs that cannot produce a value; the message names what is missing or bad."""


class InsufficientHistoryError(VolatilityError):
    """Too few finite history observations for a meaningful IV rank or percentile."""


#: Strikes within this fraction of spot are all an ATM IV needs: valuing only them keeps a chain's ATM IV
#: cheap where contracts are American (core/american.py) and a history needs hundreds of chains.
ATM_BAND = 0.05


def near_the_money(quotes: pd.DataFrame, band: float = ATM_BAND) -> pd.DataFrame:
    """The quotes whose strike lies within `band` (a fraction) of their underlying price."""
    return quotes.loc[(quotes["strike"] / quotes["underlying_price"] - 1.0).abs() <= band]


def atm_iv_by_expiry(chain: pd.DataFrame) -> pd.DataFrame:
    """At-the-money IV per expiration, interpolated in strike between the strikes around spot.

    Call and put IVs at a strike are averaged, NaN IVs ignored; an expiration whose strikes do
    not bracket the underlying price is left out. Columns: expiration, t_years, atm_iv.
    """
    missing = [c for c in _CHAIN_COLUMNS if c not in chain.columns]
    if missing:
        raise VolatilityError(f"option chain is missing columns {missing}")
    quoted = chain.loc[chain["iv"].notna()]
    rows = []
    for expiration, group in quoted.groupby("expiration", sort=True):
        spot = float(group["underlying_price"].median())
        iv_by_strike = group.groupby("strike", sort=True)["iv"].mean()
        strikes = iv_by_strike.index.to_numpy(dtype=float)
        if strikes[0] <= spot <= strikes[-1]:
            atm_iv = float(np.interp(spot, strikes, iv_by_strike.to_numpy(dtype=float)))
            rows.append((expiration, float(group["t_years"].iloc[0]), atm_iv))
    return pd.DataFrame(rows, columns=["expiration", "t_years", "atm_iv"])


def constant_maturity_atm_iv(chain: pd.DataFrame, target_days: int = 30) -> float:
    """ATM IV at a fixed maturity, interpolated linearly in total variance (iv² · t).

    Total variance is what adds up over time, so it interpolates without calendar arbitrage.
    Outside the listed range the nearest expiration's ATM IV is used as it is.
    """
    if target_days < 1:
        raise VolatilityError(f"target_days must be >= 1, got {target_days}")
    by_expiry = atm_iv_by_expiry(chain)
    usable = by_expiry.loc[by_expiry["t_years"] >= MIN_EXPIRY_YEARS].sort_values("t_years")
    if usable.empty:
        raise VolatilityError(
            f"no usable expiration for a {target_days}-day ATM IV: the chain has "
            f"{chain['expiration'].nunique()} expirations, {len(by_expiry)} with finite IVs on "
            f"strikes bracketing the underlying price, none at least {MIN_EXPIRY_YEARS * 365:.0f} "
            "days from expiry"
        )
    t = usable["t_years"].to_numpy(dtype=float)
    iv = usable["atm_iv"].to_numpy(dtype=float)
    target = target_days / DAYS_PER_YEAR
    if target <= t[0]:
        return float(iv[0])
    if target >= t[-1]:
        return float(iv[-1])
    total_variance = np.interp(target, t, iv * iv * t)
    return float(np.sqrt(total_variance / target))


def _finite_history(history: Sequence[float] | pd.Series, min_observations: int) -> np.ndarray:
    values = np.asarray(history, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) < min_observations:
        raise InsufficientHistoryError(
            f"IV history has {len(values)} finite observations; at least {min_observations} needed"
        )
    return values


def _finite_current(current: float) -> float:
    if not np.isfinite(current):
        raise VolatilityError(f"current IV must be finite, got {current!r}")
    return float(current)


def iv_rank(
    history: Sequence[float] | pd.Series,
    current: float,
    min_observations: int = DEFAULT_MIN_OBSERVATIONS,
) -> float:
    """Where `current` sits between the low and high of history plus current, from 0 to 100.

    A flat history (high equals low) has no range to rank in and gives 0.
    """
    current = _finite_current(current)
    values = _finite_history(history, min_observations)
    low, high = min(values.min(), current), max(values.max(), current)
    if high == low:
        return 0.0
    return float((current - low) / (high - low) * 100.0)


def iv_percentile(
    history: Sequence[float] | pd.Series,
    current: float,
    min_observations: int = DEFAULT_MIN_OBSERVATIONS,
) -> float:
    """Percent of history observations strictly below `current`, from 0 to 100."""
    current = _finite_current(current)
    values = _finite_history(history, min_observations)
    return float(np.mean(values < current) * 100.0)


def realized_vol(closes: pd.Series, window: int = 20, periods_per_year: int = 252) -> pd.Series:
    """Annualized close-to-close volatility: rolling sample std of log returns × sqrt(periods)."""
    if window < 2:
        raise VolatilityError(f"realized vol window must be >= 2 returns, got {window}")
    non_positive = closes.loc[closes <= 0]
    if not non_positive.empty:
        raise VolatilityError(
            f"close must be positive, got {float(non_positive.iloc[0])} at {non_positive.index[0]}"
        )
    log_returns = np.log(closes).diff()
    return log_returns.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(periods_per_year)
