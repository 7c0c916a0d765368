"""Implied vol and greeks of a whole chain from its prices, American or European per contract.

The one call chain enrichment makes: every contract gets an IV and greeks, or NaN and the reason it has
none (never a silent zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trading_pipeline.core.pricing import MAX_VOL, MIN_VOL, bsm_greeks, bsm_price, flat_arrays, implied_vol

SOLVED = ""
EXPIRED = "expired"
INVALID_INPUTS = "spot, strike or carry not usable"
NO_QUOTE = "no two-sided quote"
BELOW_INTRINSIC = "price below intrinsic"
ABOVE_UPPER_BOUND = "price above upper bound"
VOL_BELOW_RANGE = "vol below range"
VOL_ABOVE_RANGE = "vol above range"
NO_CONVERGENCE = "no convergence"
_REASON_DTYPE = f"<U{max(len(r) for r in (INVALID_INPUTS, ABOVE_UPPER_BOUND, BELOW_INTRINSIC))}"


@dataclass(frozen=True)
class ChainValuation:
    """IV and per-share greeks (vega per 1.00 vol, theta per year) of each contract, NaN where unsolved.

    `reason` is "" where the IV solved, else why not; expired contracts keep delta +-1 or 0 by moneyness
    and zero gamma, vega and theta.
    """

    iv: NDArray[np.float64]
    delta: NDArray[np.float64]
    gamma: NDArray[np.float64]
    vega: NDArray[np.float64]
    theta: NDArray[np.float64]
    reason: NDArray[np.str_]


def value_chain(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    is_call: ArrayLike,
    american: ArrayLike,
) -> ChainValuation:
    """IV solved from `price` (NaN where the quote is not two-sided) and greeks at that IV, per contract.

    `american` selects the exercise style per contract (instruments.is_american of its root). Arguments
    broadcast; the result has their shape.
    """
    # Imported here: the compiled kernels import numba (~0.4 s), which only IV solving needs.
    from trading_pipeline.core.american import american_chain, american_price

    shape, (p, s, k, tt, r, q, am), call = flat_arrays(
        price, spot, strike, t, rate, div_yield, american, is_call=is_call
    )
    american_style = am.astype(bool)
    reason = _unsolvable_reason(p, s, k, tt, r, q, call, american_style)
    iv = np.full(p.shape, np.nan)
    delta, gamma, vega, theta = (np.full(p.shape, np.nan) for _ in range(4))

    expired = reason == EXPIRED
    payoff = bsm_greeks(s[expired], k[expired], 0.0, 0.0, 0.0, np.nan, call[expired])
    delta[expired], gamma[expired], vega[expired], theta[expired] = (
        payoff.delta,
        payoff.gamma,
        payoff.vega,
        payoff.theta,
    )

    for is_american in (False, True):
        todo = (reason == SOLVED) & (american_style == is_american)
        args = (s[todo], k[todo], tt[todo], r[todo], q[todo])
        if is_american:
            solved, d, g, th, v = american_chain(p[todo], *args, call[todo])
            model_price = american_price
        else:
            solved = implied_vol(p[todo], *args, call[todo])
            greeks = bsm_greeks(*args, solved, call[todo])
            d, g, th, v = greeks.delta, greeks.gamma, greeks.theta, greeks.vega
            model_price = bsm_price
        iv[todo], delta[todo], gamma[todo], theta[todo], vega[todo] = solved, d, g, th, v
        failed = np.isnan(solved)
        if failed.any():
            fail_args = tuple(a[failed] for a in args)
            at_min = model_price(*fail_args, MIN_VOL, call[todo][failed])
            at_max = model_price(*fail_args, MAX_VOL, call[todo][failed])
            quoted = p[todo][failed]
            reason[np.flatnonzero(todo)[failed]] = np.where(
                quoted <= at_min, VOL_BELOW_RANGE, np.where(quoted >= at_max, VOL_ABOVE_RANGE, NO_CONVERGENCE)
            )

    return ChainValuation(
        iv=iv.reshape(shape),
        delta=delta.reshape(shape),
        gamma=gamma.reshape(shape),
        vega=vega.reshape(shape),
        theta=theta.reshape(shape),
        reason=reason.reshape(shape),
    )


def _unsolvable_reason(
    price: NDArray[np.float64],
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    is_call: NDArray[np.bool_],
    american: NDArray[np.bool_],
) -> NDArray[np.str_]:
    """Why no IV can exist, by the first failing check ("" where the price lies inside the model's bounds).

    European bounds are the discounted forward intrinsic and the discounted spot (call) or strike (put);
    American ones the larger of that and the exercise value, and the spot (call) or strike (put).
    """
    with np.errstate(all="ignore"):
        disc_s = spot * np.exp(-div_yield * np.maximum(t, 0.0))
        disc_k = strike * np.exp(-rate * np.maximum(t, 0.0))
        forward_intrinsic = np.maximum(np.where(is_call, disc_s - disc_k, disc_k - disc_s), 0.0)
        exercise_value = np.maximum(np.where(is_call, spot - strike, strike - spot), 0.0)
        lower = np.where(american, np.maximum(forward_intrinsic, exercise_value), forward_intrinsic)
        upper = np.where(is_call, np.where(american, spot, disc_s), np.where(american, strike, disc_k))
        usable = (spot > 0) & (strike > 0) & np.isfinite(rate) & np.isfinite(div_yield) & np.isfinite(t)
        conditions = [
            ~usable,
            t <= 0,
            ~np.isfinite(price) | (price <= 0),
            price <= lower,
            price >= upper,
        ]
    choices = [INVALID_INPUTS, EXPIRED, NO_QUOTE, BELOW_INTRINSIC, ABOVE_UPPER_BOUND]
    return np.select(conditions, choices, default=SOLVED).astype(_REASON_DTYPE)
