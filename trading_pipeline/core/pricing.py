"""Vectorized Black-Scholes-Merton prices, greeks and implied volatility (continuous dividend yield).

Every argument broadcasts as a numpy array, so a whole option chain prices in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

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
    """Implied volatility in [MIN_VOL, MAX_VOL] by bracketed Halley steps; NaN where no vol fits.

    Prices outside the no-arbitrage bounds (at or below discounted intrinsic, at or above the
    forward bound), expired options and prices that need a vol outside the range return NaN.
    A solved vol reprices the option to within `tol` (absolute, in price units).
    """
    p, s, k, tt, r, q, c = _arrays(price, spot, strike, t, rate, div_yield, is_call)
    call = c.astype(bool)
    out = np.full(p.shape, np.nan)
    with np.errstate(all="ignore"):
        t_safe = np.where(tt > 0, tt, 1.0)
        disc_s = s * np.exp(-q * t_safe)
        disc_k = k * np.exp(-r * t_safe)
        lower = np.where(call, np.maximum(disc_s - disc_k, 0.0), np.maximum(disc_k - disc_s, 0.0))
        upper = np.where(call, disc_s, disc_k)
        solvable = (tt > 0) & (s > 0) & (k > 0) & np.isfinite(p) & (p > lower) & (p < upper)
        p, tt, disc_s, disc_k, lower = (a[solvable] for a in (p, tt, disc_s, disc_k, lower))
        # Normalised Black problem for the out-of-the-money twin (put-call parity): the time
        # value `beta` of an OTM call with log-moneyness h <= 0, solved for x = vol * sqrt(t).
        scale = np.sqrt(disc_s * disc_k)
        h = -np.abs(np.log(disc_s / disc_k))
        beta = (p - lower) / scale
        sqrt_t = np.sqrt(tt)
        x_inflection = np.sqrt(-2.0 * h)
        upper_branch = beta >= _otm_value(h, x_inflection)
        start = np.where(
            upper_branch,
            np.maximum(x_inflection, 2.0 * ndtri(0.5 * (beta + 1.0))),  # ATM value is an upper bound
            np.minimum(x_inflection, -h / np.sqrt(-2.0 * np.log(beta))),
        )
        lo, hi = MIN_VOL * sqrt_t, MAX_VOL * sqrt_t
        x = np.full(p.shape, np.nan)
        for branch in (True, False):
            m = upper_branch == branch
            x[m] = _solve_normalised(
                h[m],
                beta[m],
                np.clip(start[m], lo[m], hi[m]),
                lo[m],
                hi[m],
                np.maximum(tol, 1e-15 * p[m]) / scale[m],
                branch,
                max_iter,
            )
        out[solvable] = x / sqrt_t
    return out


def _otm_value(h: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Normalised OTM call value at log-moneyness h <= 0 and total vol x (0 where x is 0)."""
    with np.errstate(all="ignore"):
        value = np.exp(0.5 * h) * ndtr(h / x + 0.5 * x) - np.exp(-0.5 * h) * ndtr(h / x - 0.5 * x)
    return np.where(x > 0, value, 0.0)


def _solve_normalised(
    h: NDArray[np.float64],
    beta: NDArray[np.float64],
    x: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    tol: NDArray[np.float64],
    upper_branch: bool,
    max_iter: int,
) -> NDArray[np.float64]:
    """Halley iterations on a well-conditioned objective, only over unconverged options.

    Below the inflection point the objective is 1/ln(value); above it ln(max value - value), the
    two transformations that make the normalised Black price nearly linear in total vol.
    """
    e_pos, e_neg = np.exp(0.5 * h), np.exp(-0.5 * h)
    target = np.log(e_pos - beta) if upper_branch else 1.0 / np.log(beta)
    lo, hi = lo.copy(), hi.copy()
    result = np.full(h.shape, np.nan)
    active = np.arange(h.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        ha, ea, ena = h[active], e_pos[active], e_neg[active]
        d1 = ha / x + 0.5 * x
        d2 = d1 - x
        vega = np.exp(-0.5 * d1 * d1 + 0.5 * ha) / _SQRT_2PI
        vega_x = vega * (ha * ha / (x * x * x) - 0.25 * x)
        if upper_branch:
            gap = ea * ndtr(-d1) + ena * ndtr(d2)  # max value - value, without cancellation
            diff = (ea - gap) - beta[active]
            g1 = -vega / gap
            f, f1, f2 = np.log(gap) - target[active], g1, -vega_x / gap - g1 * g1
        else:
            value = ea * ndtr(d1) - ena * ndtr(d2)
            diff = value - beta[active]
            g1 = vega / value
            ln_v = np.log(value)
            ln_v2 = ln_v * ln_v
            f = 1.0 / ln_v - target[active]
            f1 = -g1 / ln_v2
            f2 = (g1 * g1 - vega_x / value) / ln_v2 + 2.0 * g1 * g1 / (ln_v2 * ln_v)
        converged = np.abs(diff) <= tol[active]
        lo_a = np.where(diff < 0, x, lo[active])
        hi_a = np.where(diff > 0, x, hi[active])
        lo[active], hi[active] = lo_a, hi_a
        newton = f / f1
        halley = 1.0 - 0.5 * newton * f2 / f1
        step = x - np.where(halley > 0.5, newton / halley, newton)
        step = np.where(np.isfinite(step) & (step > lo_a) & (step < hi_a), step, 0.5 * (lo_a + hi_a))
        result[active[converged]] = x[converged]
        keep = ~converged & (hi_a - lo_a > 1e-15 * hi_a)
        active, x = active[keep], step[keep]
    return result
