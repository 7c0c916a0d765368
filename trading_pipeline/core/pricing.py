"""Vectorized Black-Scholes-Merton prices, greeks and implied volatility (continuous dividend yield).

Every argument broadcasts as a numpy array, so a whole option chain prices in one call. European
exercise; core/american.py prices American (ETF) options and core/valuation.py values whole chains.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr

_SQRT_2PI = np.sqrt(2.0 * np.pi)
MIN_VOL = 1e-4
MAX_VOL = 5.0


def _norm_pdf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.exp(-0.5 * x * x) / _SQRT_2PI


def _arrays(*values: ArrayLike) -> list[NDArray[np.float64]]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(*values)]


def _d1_d2(
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    vol: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    sig_sqrt_t = vol * np.sqrt(t)
    d1 = (np.log(spot / strike) + (rate - div_yield + 0.5 * vol * vol) * t) / sig_sqrt_t
    return d1, d1 - sig_sqrt_t


def bsm_price(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> NDArray[np.float64]:
    """European option price; at or past expiry (t <= 0) it is the intrinsic value."""
    s, k, tt, r, q, v, c = _arrays(spot, strike, t, rate, div_yield, vol, is_call)
    sign = np.where(c.astype(bool), 1.0, -1.0)  # call: S N(d1) - K N(d2); put: K N(-d2) - S N(-d1)
    live = tt > 0
    t_safe = np.where(live, tt, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d2 = _d1_d2(s, k, t_safe, r, q, np.maximum(v, 1e-12))
    disc_s = s * np.exp(-q * t_safe)
    disc_k = k * np.exp(-r * t_safe)
    live_px = sign * (disc_s * ndtr(sign * d1) - disc_k * ndtr(sign * d2))
    return np.where(live, live_px, np.maximum(sign * (s - k), 0.0))


@dataclass(frozen=True)
class Greeks:
    """Per-share greeks; vega and rho per 1.00 change (not per point), theta per calendar year."""

    delta: NDArray[np.float64]
    gamma: NDArray[np.float64]
    vega: NDArray[np.float64]
    theta: NDArray[np.float64]
    rho: NDArray[np.float64]


def bsm_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> Greeks:
    """Analytic BSM greeks; NaN where a live option's vol is NaN or <= 0.

    At or past expiry (t <= 0) the option is its payoff: delta +1 (call) or -1 (put) in the money, 0
    otherwise (at the money included), and zero gamma, vega, theta and rho.
    """
    s, k, tt, r, q, v, c = _arrays(spot, strike, t, rate, div_yield, vol, is_call)
    call = c.astype(bool)
    live = tt > 0
    valid = v > 0
    t_safe = np.where(live, tt, 1.0)
    v_safe = np.where(valid, v, 1.0)
    d1, d2 = _d1_d2(s, k, t_safe, r, q, v_safe)
    sqrt_t = np.sqrt(t_safe)
    dq = np.exp(-q * t_safe)
    dr = np.exp(-r * t_safe)
    pdf = _norm_pdf(d1)
    delta = np.where(call, dq * ndtr(d1), -dq * ndtr(-d1))
    gamma = dq * pdf / (s * v_safe * sqrt_t)
    vega = s * dq * pdf * sqrt_t
    common = -s * dq * pdf * v_safe / (2.0 * sqrt_t)
    theta = np.where(
        call,
        common - r * k * dr * ndtr(d2) + q * s * dq * ndtr(d1),
        common + r * k * dr * ndtr(-d2) - q * s * dq * ndtr(-d1),
    )
    rho = np.where(call, k * t_safe * dr * ndtr(d2), -k * t_safe * dr * ndtr(-d2))
    in_the_money = np.where(call, s > k, s < k)
    payoff_delta = np.where(in_the_money, np.where(call, 1.0, -1.0), 0.0)

    def at_expiry(
        live_value: NDArray[np.float64], expired_value: NDArray[np.float64] | float
    ) -> NDArray[np.float64]:
        return np.where(live, np.where(valid, live_value, np.nan), expired_value)

    return Greeks(
        delta=at_expiry(delta, payoff_delta),
        gamma=at_expiry(gamma, 0.0),
        vega=at_expiry(vega, 0.0),
        theta=at_expiry(theta, 0.0),
        rho=at_expiry(rho, 0.0),
    )


def implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    is_call: ArrayLike,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> NDArray[np.float64]:
    """European implied vol in [MIN_VOL, MAX_VOL]; NaN where no vol in that range reprices the option.

    A solved vol reprices the option to within `tol` x price (relative, so a $4,500 index and a $20
    stock solve alike), in at most `max_iter` Halley steps. Prices outside the no-arbitrage bounds (at or
    below the discounted intrinsic, at or above the forward bound) and expired options (t <= 0) give NaN.
    Compiled: core/iv_kernel.py.
    """
    from trading_pipeline.core.iv_kernel import implied_vols  # numba import (~0.4 s) only where IV is solved

    shape, (p, s, k, tt, r, q), call = flat_arrays(price, spot, strike, t, rate, div_yield, is_call=is_call)
    return implied_vols(p, s, k, tt, r, q, call, tol, max_iter).reshape(shape)


def flat_arrays(
    *values: ArrayLike, is_call: ArrayLike
) -> tuple[tuple[int, ...], list[NDArray[np.float64]], NDArray[np.bool_]]:
    """Broadcast shape, then the values as flat contiguous float64 arrays and the call flags as booleans.

    Only arguments of another shape are broadcast (and so copied): numpy deprecates writing through the
    views `broadcast_arrays` returns, and numba would warn on every call.
    """
    arrays = [np.asarray(v, dtype=np.float64) for v in values] + [np.asarray(is_call, dtype=bool)]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    flat = [
        np.ascontiguousarray(a if a.shape == shape else np.broadcast_to(a, shape)).ravel() for a in arrays
    ]
    return shape, flat[:-1], flat[-1]
