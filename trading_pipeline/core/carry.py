"""Carry of an underlying on a date: the risk-free rate and dividend yield that price its options.

One carry source feeds simulation, replay, implied vol and greeks (ARCHITECTURE: "Carry"). A market-data
provider answers `carry(underlying, as_of)`; when a chain of European options is present, the forward
implied by put-call parity near the money overrides the provider's dividend yield per expiration (it is what
the market prices). American (ETF) options keep the provider's carry: their early-exercise premium breaks
parity (on a 42-day chain at a 4% rate it moved the implied yield enough to shift IVs by up to 0.55 vol
points).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from trading_pipeline.core.instruments import is_american, occ_roots

#: Days to maturity of the 3-month Treasury bill behind FRED's DTB3 series (13 weeks).
TBILL_DAYS = 91
#: Strikes nearest the money (by |call mid - put mid|) whose parity forwards are averaged (median).
PARITY_STRIKES = 5
#: A parity forward further than this from spot (log) is a bad quote, not carry; the provider's is used.
MAX_PARITY_LOG_BASIS = 0.05
#: Widest call or put spread, as a share of its mid, that may enter a parity forward.
MAX_PARITY_SPREAD = 0.25
TRAILING_DIVIDEND_DAYS = 365
CARRY_COLUMNS: tuple[str, ...] = ("rate", "div_yield", "forward", "carry_source")
PARITY_SOURCE = "put-call parity"


@dataclass(frozen=True)
class Carry:
    """Continuously compounded annual rate and dividend yield (decimals), and where they came from."""

    rate: float
    dividend_yield: float
    source: str


def continuous_rate_from_discount(discount_pct: float, days: int = TBILL_DAYS) -> float:
    """A T-bill quote on the bank-discount basis (percent, ACT/360) as a continuous ACT/365 rate.

    The bill's price is 1 - d * days / 360; the continuous rate is -ln(price) * 365 / days.
    """
    price = 1.0 - discount_pct / 100.0 * days / 360.0
    if not price > 0:
        raise ValueError(f"T-bill discount {discount_pct}% over {days} days gives a price {price} <= 0")
    return float(-np.log(price) * 365.0 / days)


def trailing_dividend_yield(dividends: pd.Series, as_of: date, spot: float) -> float:
    """Continuous yield of the cash dividends that went ex in the year up to `as_of`, over `spot`.

    `dividends`: cash amounts per share indexed by ex-date. The trailing year stands in for the next one.
    """
    if not spot > 0:
        raise ValueError(f"spot must be > 0 to turn dividends into a yield, got {spot}")
    ex_dates = pd.to_datetime(dividends.index)
    window = (ex_dates > pd.Timestamp(as_of - timedelta(days=TRAILING_DIVIDEND_DAYS))) & (
        ex_dates <= pd.Timestamp(as_of)
    )
    cash = float(dividends.to_numpy(dtype=float)[window].sum())
    return float(np.log1p(cash / spot))


def parity_forward(expiry_quotes: pd.DataFrame, rate: float, t: float) -> float | None:
    """Forward of one expiration implied by put-call parity near the money, or None without a usable pair.

    F = K + e^{rt} (C - P) at mids, over the PARITY_STRIKES strikes where calls and puts are closest in
    price, each with a two-sided quote no wider than MAX_PARITY_SPREAD of its mid; the median is robust
    to one bad quote. For American options the early-exercise premium is small near the money.
    """
    if not t > 0:
        return None
    quoted = expiry_quotes[
        (expiry_quotes["bid"] > 0)
        & (expiry_quotes["ask"] > expiry_quotes["bid"])
        & (
            (expiry_quotes["ask"] - expiry_quotes["bid"])
            <= MAX_PARITY_SPREAD * (expiry_quotes["bid"] + expiry_quotes["ask"]) / 2
        )
    ]
    mids = quoted.assign(mid=(quoted["bid"] + quoted["ask"]) / 2).pivot_table(
        index="strike", columns="right", values="mid", aggfunc="first"
    )
    if "C" not in mids.columns or "P" not in mids.columns:
        return None
    pairs = mids.dropna(subset=["C", "P"])
    if pairs.empty:
        return None
    nearest = pairs.assign(gap=(pairs["C"] - pairs["P"]).abs()).nsmallest(PARITY_STRIKES, "gap")
    forwards = (
        nearest.index.to_numpy(dtype=float) + np.exp(rate * t) * (nearest["C"] - nearest["P"]).to_numpy()
    )
    return float(np.median(forwards))


def implied_dividend_yield(forward: float, spot: float, rate: float, t: float) -> float:
    """The continuous dividend yield that makes spot carry to `forward` over `t` years at `rate`."""
    return float(rate - np.log(forward / spot) / t)


def chain_carry(chain: pd.DataFrame, carry: Mapping[str, Carry]) -> pd.DataFrame:
    """Per row: rate, dividend yield, forward and the carry's source, one value per expiration and root.

    Needs the chain's `t_years`. For European roots the parity forward is preferred where the expiration has
    usable quotes near the money and lands within MAX_PARITY_LOG_BASIS of spot; else (and for American roots)
    the provider's carry gives the forward.
    An underlying missing from `carry` is an error naming it: a silent zero rate would mis-price everything.
    """
    missing = sorted(set(chain["underlying"]) - set(carry))
    if missing:
        raise KeyError(f"no carry for underlyings {missing}; carry given for {sorted(carry)}")
    out = pd.DataFrame(index=chain.index, columns=list(CARRY_COLUMNS))
    roots = occ_roots(chain["occ_symbol"])  # SPX and SPXW share expirations, not quotes
    for (underlying, _, root), rows in chain.groupby(["underlying", "expiration", roots], sort=False):
        base = carry[str(underlying)]
        t = float(rows["t_years"].iloc[0])
        spot = float(rows["underlying_price"].iloc[0])
        forward = None if is_american(str(root)) else parity_forward(rows, base.rate, t)
        usable = forward is not None and spot > 0 and abs(np.log(forward / spot)) <= MAX_PARITY_LOG_BASIS
        if usable:
            values = (base.rate, implied_dividend_yield(forward, spot, base.rate, t), forward, PARITY_SOURCE)
        else:
            carried = spot * np.exp((base.rate - base.dividend_yield) * max(t, 0.0))
            values = (base.rate, base.dividend_yield, float(carried), base.source)
        out.loc[rows.index, list(CARRY_COLUMNS)] = [values] * len(rows)
    return out.astype({"rate": float, "div_yield": float, "forward": float, "carry_source": str})
