"""Vectorized Black-Scholes-Merton prices, greeks and implied volatility (continuous dividend yield).

Every argument broadcasts as a numpy array, so a whole option chain prices in one call.
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
    call = c.astype(bool)
    intrinsic = np.where(call, np.maximum(s - k, 0.0), np.maximum(k - s, 0.0))
    live = tt > 0
    t_safe = np.where(live, tt, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d1, d2 = _d1_d2(s, k, t_safe, r, q, np.maximum(v, 1e-12))
    disc_s = s * np.exp(-q * t_safe)
    disc_k = k * np.exp(-r * t_safe)
    call_px = disc_s * ndtr(d1) - disc_k * ndtr(d2)
    put_px = disc_k * ndtr(-d2) - disc_s * ndtr(-d1)
    return np.where(live, np.where(call, call_px, put_px), intrinsic)


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
    """Analytic BSM greeks for live options (t > 0); expired options get zero greeks."""
    s, k, tt, r, q, v, c = _arrays(spot, strike, t, rate, div_yield, vol, is_call)
    call = c.astype(bool)
    live = (tt > 0) & (v > 0)
    t_safe = np.where(live, tt, 1.0)
    v_safe = np.where(live, v, 1.0)
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
    zero = np.zeros_like(s)
    return Greeks(
        delta=np.where(live, delta, zero),
        gamma=np.where(live, gamma, zero),
        vega=np.where(live, vega, zero),
        theta=np.where(live, theta, zero),
        rho=np.where(live, rho, zero),
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
    """Implied volatility by safeguarded Newton (bisection fallback); NaN where no vol fits.

    Prices outside the no-arbitrage bounds (below discounted intrinsic or above the forward bound)
    and expired options return NaN, so callers can tell "unsolvable" from a real number.
    """
    p, s, k, tt, r, q, c = _arrays(price, spot, strike, t, rate, div_yield, is_call)
    call = c.astype(bool)
    t_safe = np.where(tt > 0, tt, 1.0)
    disc_s = s * np.exp(-q * t_safe)
    disc_k = k * np.exp(-r * t_safe)
    lower = np.where(call, np.maximum(disc_s - disc_k, 0.0), np.maximum(disc_k - disc_s, 0.0))
    upper = np.where(call, disc_s, disc_k)
    solvable = (tt > 0) & np.isfinite(p) & (p > lower) & (p < upper)

    lo = np.full_like(p, MIN_VOL)
    hi = np.full_like(p, MAX_VOL)
    # Brenner-Subrahmanyam style start, clipped into the bracket.
    vol = np.clip(np.sqrt(2.0 * np.pi / t_safe) * p / np.maximum(s, 1e-12), 0.05, 2.0)
    active = solvable.copy()
    for _ in range(max_iter):
        if not active.any():
            break
        model = bsm_price(s, k, t_safe, r, q, vol, call)
        diff = model - p
        lo = np.where(active & (diff < 0), vol, lo)
        hi = np.where(active & (diff > 0), vol, hi)
        vega = bsm_greeks(s, k, t_safe, r, q, vol, call).vega
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = vol - diff / vega
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi)
        step = np.where(inside, newton, 0.5 * (lo + hi))
        converged = np.abs(diff) < tol * np.maximum(1.0, p)
        vol = np.where(active & ~converged, step, vol)
        active &= ~converged & ((hi - lo) > 1e-14)
    return np.where(solvable, vol, np.nan)
