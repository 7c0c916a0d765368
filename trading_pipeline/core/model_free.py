"""Model-free 30-day implied variance of a chain by the Cboe VIX method (docs/model_free_variance.md).

Per expiration the Cboe strip of out-of-the-money mids; two expirations bracketing 30 days interpolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from trading_pipeline.core.calendar import expiration_datetime, is_am_settled
from trading_pipeline.core.instruments import occ_roots

MINUTES_PER_DAY = 1440.0
MINUTES_PER_YEAR = 365.0 * MINUTES_PER_DAY
TARGET_DAYS = 30.0
#: The near-term expiration must be more than a week away: Cboe's own roll rule before SPX Weeklys
#: (1990s-2014) and a guard against the last days' noise; with weeklies or dailies the nearest expirations
#: around 30 days are used instead of Cboe's 23-37 day window, which daily listings always satisfy anyway.
MIN_NEAR_DAYS = 7.0
#: The quoted column names the walk reads; the chain may carry more.
_QUOTE_FIELDS = ("strike", "right", "bid", "ask")


class NoBracketingExpirationsError(ValueError):
    """A chain without a near-term (more than MIN_NEAR_DAYS, at most 30 days) and a next-term expiration."""


@dataclass(frozen=True)
class ExpirationVariance:
    """One expiration's model-free variance and the figures that make it up (Cboe VIX white paper, step 2)."""

    t_years: float
    rate: float
    forward: float
    k0: float
    #: The strip: strike, type ("P", "C" or "P/C" at K0), mid Q, delta_k and contribution dK/K^2 e^{RT} Q.
    strip: pd.DataFrame
    sigma2: float

    @property
    def strikes_used(self) -> int:
        return len(self.strip)

    @property
    def contribution_sum(self) -> float:
        return float(self.strip["contribution"].sum())


@dataclass(frozen=True)
class ModelFreeVol:
    """The 30-day model-free vol (a decimal, VIX / 100) and the near- and next-term figures behind it."""

    vol: float
    near_expiration: date
    next_expiration: date
    near_root: str
    next_root: str
    t1: float
    t2: float
    f1: float
    f2: float
    k0_1: float
    k0_2: float
    sigma2_1: float
    sigma2_2: float
    strikes_1: int
    strikes_2: int


def _mids(quotes: pd.DataFrame, right: str) -> pd.DataFrame:
    """Bid, ask and mid of one right by strike (one row per strike; the first quote wins on duplicates)."""
    side = quotes.loc[quotes["right"] == right, ["strike", "bid", "ask"]]
    side = side.groupby("strike").first()
    return side.assign(mid=(side["bid"] + side["ask"]) / 2)


def parity_forward_at_closest_strike(calls: pd.DataFrame, puts: pd.DataFrame, t: float, rate: float) -> float:
    """F = K + e^{RT}(C - P) at the strike where |call mid - put mid| is smallest, both legs bid."""
    both = calls[["mid", "bid"]].add_suffix("_c").join(puts[["mid", "bid"]].add_suffix("_p"), how="inner")
    both = both[(both["bid_c"] > 0) & (both["bid_p"] > 0)]
    if both.empty:
        raise ValueError("no strike has both a bid call and a bid put, so the forward is unknown")
    gap = (both["mid_c"] - both["mid_p"]).abs()
    strike = float(gap.idxmin())
    return strike + float(np.exp(rate * t)) * float(both.at[strike, "mid_c"] - both.at[strike, "mid_p"])


def walk_wing(bids: pd.Series, strikes: list[float]) -> list[float]:
    """Strikes kept walking away from K0 in `strikes` order: zero bids skipped, two in a row end the wing.
    `bids` is indexed by strike; a listed strike without a quote on this side counts as a zero bid."""
    kept: list[float] = []
    zeros_in_a_row = 0
    for strike in strikes:
        bid = bids.get(strike, 0.0)
        if pd.notna(bid) and bid > 0:
            kept.append(strike)
            zeros_in_a_row = 0
            continue
        zeros_in_a_row += 1
        if zeros_in_a_row == 2:
            break
    return kept


def strike_intervals(strikes: np.ndarray) -> np.ndarray:
    """Delta K of a sorted strip: half the gap between neighbours, the one-sided gap at each end."""
    if len(strikes) < 2:
        raise ValueError(f"a strip needs at least two strikes, got {list(strikes)}")
    interval = np.empty(len(strikes))
    interval[1:-1] = (strikes[2:] - strikes[:-2]) / 2
    interval[0] = strikes[1] - strikes[0]
    interval[-1] = strikes[-1] - strikes[-2]
    return interval


def expiration_variance(quotes: pd.DataFrame, t_years: float, rate: float) -> ExpirationVariance:
    """Model-free variance of one expiration from its quotes (strike, right 'C'/'P', bid, ask), T and R."""
    if not t_years > 0:
        raise ValueError(f"time to expiration must be positive, got {t_years}")
    quotes = quotes.loc[:, list(_QUOTE_FIELDS)]
    calls, puts = _mids(quotes, "C"), _mids(quotes, "P")
    forward = parity_forward_at_closest_strike(calls, puts, t_years, rate)
    listed = np.sort(quotes["strike"].unique().astype(float))
    at_or_below = listed[listed <= forward]
    if at_or_below.size == 0:
        raise ValueError(f"no strike at or below the forward {forward:.4f}")
    k0 = float(at_or_below[-1])
    if k0 not in calls.index or k0 not in puts.index:
        raise ValueError(f"K0 {k0} needs both a call and a put quote")
    put_strikes = walk_wing(puts["bid"], [float(k) for k in listed[listed < k0][::-1]])
    call_strikes = walk_wing(calls["bid"], [float(k) for k in listed[listed > k0]])
    strikes = np.array(sorted([*put_strikes, k0, *call_strikes]))
    kind = np.where(strikes < k0, "P", np.where(strikes > k0, "C", "P/C"))
    mid = np.where(
        strikes < k0,
        puts["mid"].reindex(strikes).to_numpy(),
        calls["mid"].reindex(strikes).to_numpy(),
    )
    mid[strikes == k0] = (calls.at[k0, "mid"] + puts.at[k0, "mid"]) / 2
    delta_k = strike_intervals(strikes)
    contribution = delta_k / strikes**2 * np.exp(rate * t_years) * mid
    strip = pd.DataFrame(
        {"strike": strikes, "type": kind, "mid": mid, "delta_k": delta_k, "contribution": contribution}
    )
    sigma2 = float(2 / t_years * contribution.sum() - (forward / k0 - 1) ** 2 / t_years)
    return ExpirationVariance(t_years, rate, forward, k0, strip, sigma2)


def interpolated_variance(
    t1: float, sigma2_1: float, t2: float, sigma2_2: float, days: float = TARGET_DAYS
) -> float:
    """Annualized variance at `days`, linear in total variance between the terms (time in minutes)."""
    n1, n2, n_target = t1 * MINUTES_PER_YEAR, t2 * MINUTES_PER_YEAR, days * MINUTES_PER_DAY
    total = t1 * sigma2_1 * (n2 - n_target) / (n2 - n1) + t2 * sigma2_2 * (n_target - n1) / (n2 - n1)
    return total * MINUTES_PER_YEAR / n_target


def _series(chain: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """Each listed (expiration, root) with its minutes to settlement; on a date listed under two roots
    (SPX and SPXW on the third Friday) the AM-settled standard root is kept, as Cboe's VIX does."""
    roots = occ_roots(chain["occ_symbol"])
    pairs = pd.DataFrame({"expiration": pd.to_datetime(chain["expiration"]).dt.date, "root": roots})
    pairs = pairs.drop_duplicates().reset_index(drop=True)
    pairs["am"] = [is_am_settled(root) for root in pairs["root"]]
    pairs = pairs.sort_values(["expiration", "am"], ascending=[True, False]).drop_duplicates("expiration")
    pairs["minutes"] = [
        (expiration_datetime(expiration, root) - now).total_seconds() / 60
        for expiration, root in zip(pairs["expiration"], pairs["root"], strict=True)
    ]
    return pairs.reset_index(drop=True)


def bracketing_expirations(
    chain: pd.DataFrame, now: datetime, min_near_days: float = MIN_NEAR_DAYS
) -> tuple[pd.Series, pd.Series]:
    """The latest expiration more than `min_near_days` and at most 30 days away, and the first one after.

    With monthly expirations only (before weeklies) none may lie in between: then the two nearest beyond
    30 days are used and the variance extrapolated back, as the VIX methodology did before 2014.
    NoBracketingExpirationsError names every listed expiration with its days to settlement otherwise."""
    series = _series(chain, now)
    target = TARGET_DAYS * MINUTES_PER_DAY
    near = series[(series["minutes"] > min_near_days * MINUTES_PER_DAY) & (series["minutes"] <= target)]
    later = series[series["minutes"] > target]
    if near.empty and len(later) >= 2:
        return later.iloc[0], later.iloc[1]
    if near.empty or later.empty:
        listed = ", ".join(
            f"{row.expiration.isoformat()} {row.root} ({row.minutes / MINUTES_PER_DAY:.2f} days)"
            for row in series.itertuples()
        )
        raise NoBracketingExpirationsError(
            f"no two expirations bracket {TARGET_DAYS:g} days (near term needs more than {min_near_days:g} "
            f"days) at {now.isoformat()}; listed: {listed or 'none'}"
        )
    return near.iloc[-1], later.iloc[0]


def _rate_for(rates: Mapping[date, float] | float, expiration: date) -> float:
    if isinstance(rates, Mapping):
        if expiration not in rates:
            raise KeyError(
                f"no rate for expiration {expiration.isoformat()}; rates given for {sorted(rates)}"
            )
        return float(rates[expiration])
    return float(rates)


def model_free_vol_30d(
    chain: pd.DataFrame,
    now: datetime,
    rates: Mapping[date, float] | float,
    min_near_days: float = MIN_NEAR_DAYS,
) -> ModelFreeVol:
    """The 30-day model-free implied vol of a chain (VIX / 100 for SPX) and its intermediate figures;
    `rates` is one continuously compounded rate or one per expiration date, `now` an aware datetime."""
    near, later = bracketing_expirations(chain, now, min_near_days)
    roots = occ_roots(chain["occ_symbol"])
    expirations = pd.to_datetime(chain["expiration"]).dt.date
    terms = []
    for series in (near, later):
        quotes = chain[(expirations == series["expiration"]) & (roots == series["root"])]
        t = float(series["minutes"]) / MINUTES_PER_YEAR
        terms.append(expiration_variance(quotes, t, _rate_for(rates, series["expiration"])))
    first, second = terms
    variance = interpolated_variance(first.t_years, first.sigma2, second.t_years, second.sigma2)
    if not variance > 0:
        raise ValueError(f"interpolated 30-day variance is not positive: {variance}")
    return ModelFreeVol(
        vol=float(np.sqrt(variance)),
        near_expiration=near["expiration"],
        next_expiration=later["expiration"],
        near_root=near["root"],
        next_root=later["root"],
        t1=first.t_years,
        t2=second.t_years,
        f1=first.forward,
        f2=second.forward,
        k0_1=first.k0,
        k0_2=second.k0,
        sigma2_1=first.sigma2,
        sigma2_2=second.sigma2,
        strikes_1=first.strikes_used,
        strikes_2=second.strikes_used,
    )
