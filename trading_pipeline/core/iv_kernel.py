"""Compiled (numba) Black-Scholes-Merton implied volatility, one bracketed Halley step function driven
per option (`implied_vol_one`) or pass-wise over arrays (`implied_vols`). docs/pricing.md has the method.

Importing this module imports numba (~0.2-0.4 s) and loads the cached machine code: callers import it
where they solve, not at package import.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from trading_pipeline.core.jit import compiled
from trading_pipeline.core.pricing import MAX_VOL, MIN_VOL

_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_WINITZKI_A = 0.147
_ALMOST_ONE = 1.0 - 1e-16
_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@compiled
def norm_cdf(x: float) -> float:
    """Standard normal CDF, accurate in relative terms far into the lower tail."""
    return 0.5 * math.erfc(-x * _INV_SQRT_2)


@compiled
def norm_pdf(x: float) -> float:
    """Standard normal density."""
    return math.exp(-0.5 * x * x) * _INV_SQRT_2PI


#: W. J. Cody's rational Chebyshev approximations of erfc (Math. Comp. 23, 1969), as used by Jaeckel's
#: "Let's Be Rational": erf for |y| <= 0.46875, exp(y^2) erfc(y) on (0.46875, 4] and beyond 4.
_CODY_A = (
    3.1611237438705656,
    113.864154151050156,
    377.485237685302021,
    3209.37758913846947,
    0.185777706184603153,
)
_CODY_B = (23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062)
_CODY_C = (
    0.564188496988670089,
    8.88314979438837594,
    66.1191906371416295,
    298.635138197400131,
    881.95222124176909,
    1712.04761263407058,
    2051.07837782607147,
    1230.33935479799725,
    2.15311535474403846e-8,
)
_CODY_D = (
    15.7449261107098347,
    117.693950891312499,
    537.181101862009858,
    1621.38957456669019,
    3290.79923573345963,
    4362.61909014324716,
    3439.36767414372164,
    1230.33935480374942,
)
_CODY_P = (
    0.305326634961232344,
    0.360344899949804439,
    0.125781726111229246,
    0.0160837851487422766,
    6.58749161529837803e-4,
    0.0163153871373020978,
)
_CODY_Q = (
    2.56852019228982242,
    1.87295284992346047,
    0.527905102951428412,
    0.0605183413124413191,
    0.00233520497626869185,
)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


@compiled
def _norm_cdf_given_gauss(d: float, gauss: float) -> float:
    """Normal CDF at d given gauss = exp(-d^2 / 2), so one exp serves several CDFs and a density."""
    y = abs(d) * _INV_SQRT_2
    if y <= 0.46875:
        ysq = y * y
        num = _CODY_A[4] * ysq
        den = ysq
        for i in range(3):
            num = (num + _CODY_A[i]) * ysq
            den = (den + _CODY_B[i]) * ysq
        return 0.5 + 0.5 * d * _INV_SQRT_2 * (num + _CODY_A[3]) / (den + _CODY_B[3])
    if y <= 4.0:
        num = _CODY_C[8] * y
        den = y
        for i in range(7):
            num = (num + _CODY_C[i]) * y
            den = (den + _CODY_D[i]) * y
        scaled = (num + _CODY_C[7]) / (den + _CODY_D[7])
    else:
        inv = 1.0 / (y * y)
        num = _CODY_P[5] * inv
        den = inv
        for i in range(4):
            num = (num + _CODY_P[i]) * inv
            den = (den + _CODY_Q[i]) * inv
        scaled = (_INV_SQRT_PI - inv * (num + _CODY_P[4]) / (den + _CODY_Q[4])) / y
    tail = 0.5 * gauss * scaled  # Phi(-|d|)
    return tail if d < 0.0 else 1.0 - tail


@compiled
def _otm_value(h: float, x: float) -> float:
    """Normalised out-of-the-money call value at log-moneyness h <= 0 and total vol x > 0."""
    d1 = h / x + 0.5 * x
    return math.exp(0.5 * h) * norm_cdf(d1) - math.exp(-0.5 * h) * norm_cdf(d1 - x)


@compiled
def _approx_erfinv(y: float) -> float:
    """Inverse error function on [0, 1) to ~2e-3 relative (Winitzki): a starting point, not a result."""
    ln = math.log1p(-y * y)
    first = 2.0 / (math.pi * _WINITZKI_A) + 0.5 * ln
    return math.sqrt(math.sqrt(first * first - ln / _WINITZKI_A) - first)


@compiled
def _initial_total_vol(h: float, beta: float, upper_branch: bool) -> float:
    """Starting point on the right side of the inflection point sqrt(-2h).

    Above it, the at-the-money inverse (an upper bound); below it, near the money (total vol > 2|h|) the
    at-the-money inverse of beta + |h| / 2 (first order in h), else the small-vol asymptote
    ln(beta) ~ -h^2 / (2 x^2) + 3 ln(x) - 2 ln|h| - ln(sqrt(2 pi)), refined twice.
    """
    x_inflection = math.sqrt(-2.0 * h)
    if upper_branch:
        return max(x_inflection, 2.0 * math.sqrt(2.0) * _approx_erfinv(beta))
    near_money = 2.0 * math.sqrt(2.0) * _approx_erfinv(min(beta - 0.5 * h, _ALMOST_ONE))
    if near_money > -2.0 * h:
        return min(x_inflection, near_money)
    ln_beta = math.log(beta)
    x = -h / math.sqrt(-2.0 * ln_beta)
    offset = ln_beta + 2.0 * math.log(-h) + _LN_SQRT_2PI
    for _ in range(2):
        exponent = offset - 3.0 * math.log(x)
        if exponent >= 0.0:
            break
        x = -h / math.sqrt(-2.0 * exponent)
    return min(x_inflection, x)


_CONTINUE, _SOLVED, _FAILED = 0, 1, 2
_MAX_STEPS = 100


@compiled
def _normalise(
    price: float, spot: float, strike: float, t: float, rate: float, div_yield: float, is_call: bool
) -> tuple[bool, float, float, float]:
    """(inside the no-arbitrage bounds?, h, beta, scale): the option as the normalised OTM call problem.

    Put-call parity maps every option onto an out-of-the-money call of log-moneyness h <= 0 whose value,
    in units of scale = sqrt(discounted spot x discounted strike), is beta.
    """
    if not (t > 0.0 and spot > 0.0 and strike > 0.0 and math.isfinite(price)):
        return False, 0.0, 0.0, 1.0
    disc_s = spot * math.exp(-div_yield * t)
    disc_k = strike * math.exp(-rate * t)
    forward_value = disc_s - disc_k if is_call else disc_k - disc_s
    lower = max(forward_value, 0.0)
    upper = disc_s if is_call else disc_k
    scale = math.sqrt(disc_s * disc_k)
    inside = lower < price < upper
    return inside, -abs(math.log(disc_s / disc_k)), (price - lower) / scale, scale


@compiled
def _start(h: float, beta: float, tol: float) -> tuple[float, bool, float, float, float]:
    """(exp(h / 2), upper branch?, transformed target, residual under which a step is final, start)."""
    e_pos = math.exp(0.5 * h)
    x_inflection = math.sqrt(-2.0 * h)
    value_at_inflection = 0.5 * e_pos - _norm_cdf_given_gauss(-x_inflection, e_pos * e_pos) / e_pos  # d1 = 0
    upper_branch = x_inflection == 0.0 or beta >= value_at_inflection
    target = math.log(e_pos - beta) if upper_branch else 1.0 / math.log(beta)
    return (
        e_pos,
        upper_branch,
        target,
        (tol * tol * beta) ** (1.0 / 3.0),
        _initial_total_vol(h, beta, upper_branch),
    )


@compiled
def _halley_step(
    h: float,
    e_pos: float,
    beta: float,
    tol: float,
    upper_branch: bool,
    target: float,
    final_residual: float,
    x: float,
    lo: float,
    hi: float,
) -> tuple[int, float, float, float]:
    """One bracketed Halley step: (_SOLVED, x, ...), (_FAILED, ...) or (_CONTINUE, next x, lo, hi).

    The objective makes the value nearly linear in x: 1/ln(value) below the inflection point,
    ln(max value - value) above it (Jaeckel's transformations). Once the residual is below
    sqrt(tol x beta), the step (cubic convergence) is final without repricing.
    """
    e_neg = 1.0 / e_pos
    h_over_x = h / x
    d1 = h_over_x + 0.5 * x
    d2 = d1 - x
    gauss = math.exp(-0.5 * d1 * d1)  # exp(-d2^2 / 2) = gauss exp(h)
    vega = e_pos * gauss * _INV_SQRT_2PI
    vega_x = vega * (h_over_x * h_over_x / x - 0.25 * x)
    cdf_1 = _norm_cdf_given_gauss(-d1 if upper_branch else d1, gauss)
    cdf_2 = _norm_cdf_given_gauss(d2, gauss * e_pos * e_pos)
    if upper_branch:
        gap = e_pos * cdf_1 + e_neg * cdf_2  # max value - value, without cancellation
        diff = (e_pos - gap) - beta
        g1 = -vega / gap
        f, f1, f2 = math.log(gap) - target, g1, -vega_x / gap - g1 * g1
    else:
        value = e_pos * cdf_1 - e_neg * cdf_2
        diff = value - beta
        g1 = vega / value
        ln_v = math.log(value)
        ln_v2 = ln_v * ln_v
        f = 1.0 / ln_v - target
        f1 = -g1 / ln_v2
        f2 = (g1 * g1 - vega_x / value) / ln_v2 + 2.0 * g1 * g1 / (ln_v2 * ln_v)
    if abs(diff) <= tol:
        return _SOLVED, x, lo, hi
    if diff < 0.0:
        lo = x
    else:
        hi = x
    if hi - lo <= 1e-15 * hi:
        return _FAILED, x, lo, hi
    newton = f / f1
    halley = 1.0 - 0.5 * newton * f2 / f1
    step = x - (newton / halley if halley > 0.5 else newton)
    if not lo < step < hi:  # also catches NaN steps (value underflowed to 0)
        return _CONTINUE, 0.5 * (lo + hi), lo, hi
    return (_SOLVED if abs(diff) <= final_residual else _CONTINUE), step, lo, hi


@compiled
def implied_vol_one(
    price: float,
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div_yield: float,
    is_call: bool,
    tol: float,
) -> float:
    """BSM implied vol of one option repricing within `tol` x price, NaN when none in [MIN_VOL, MAX_VOL]."""
    inside, h, beta, scale = _normalise(price, spot, strike, t, rate, div_yield, is_call)
    if not inside:
        return math.nan
    sqrt_t = math.sqrt(t)
    tol_n = tol * price / scale
    lo, hi = MIN_VOL * sqrt_t, MAX_VOL * sqrt_t
    e_pos, upper_branch, target, final_residual, x = _start(h, beta, tol_n)
    x = min(max(x, lo), hi)
    for _ in range(_MAX_STEPS):
        state, x, lo, hi = _halley_step(
            h, e_pos, beta, tol_n, upper_branch, target, final_residual, x, lo, hi
        )
        if state == _SOLVED:
            return min(max(x / sqrt_t, MIN_VOL), MAX_VOL)  # the clip only undoes rounding
        if state == _FAILED:
            break
    return math.nan


@compiled
def implied_vols(
    price: NDArray[np.float64],
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    is_call: NDArray[np.bool_],
    tol: float,
    max_iter: int,
) -> NDArray[np.float64]:
    """`implied_vol_one` (but with `max_iter` steps) over flat arrays, one step per unsolved option per pass.

    Options are independent within a pass, so the CPU overlaps their (latency-bound) steps; one option
    after the other it could not.
    """
    n = price.size
    out = np.full(n, math.nan)
    h, e_pos, beta, tol_n = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    target, final_residual = np.empty(n), np.empty(n)
    x, lo, hi = np.empty(n), np.empty(n), np.empty(n)
    upper_branch = np.empty(n, dtype=np.bool_)
    active = np.empty(n, dtype=np.int64)
    n_active = 0
    for i in range(n):
        inside, h[i], beta[i], scale = _normalise(
            price[i], spot[i], strike[i], t[i], rate[i], div_yield[i], is_call[i]
        )
        if not inside:
            continue
        sqrt_t = math.sqrt(t[i])
        tol_n[i] = tol * price[i] / scale
        lo[i], hi[i] = MIN_VOL * sqrt_t, MAX_VOL * sqrt_t
        e_pos[i], upper_branch[i], target[i], final_residual[i], start = _start(h[i], beta[i], tol_n[i])
        x[i] = min(max(start, lo[i]), hi[i])
        active[n_active] = i
        n_active += 1
    for _ in range(max_iter):
        kept = 0
        for k in range(n_active):
            i = active[k]
            state, x[i], lo[i], hi[i] = _halley_step(
                h[i],
                e_pos[i],
                beta[i],
                tol_n[i],
                upper_branch[i],
                target[i],
                final_residual[i],
                x[i],
                lo[i],
                hi[i],
            )
            if state == _SOLVED:
                out[i] = min(max(x[i] / math.sqrt(t[i]), MIN_VOL), MAX_VOL)  # the clip only undoes rounding
            elif state == _CONTINUE:
                active[kept] = i
                kept += 1
        n_active = kept
        if n_active == 0:
            break
    return out
