"""Compiled (numba) Black-Scholes-Merton implied volatility: a tabulated start, then bracketed Halley
steps, per option (`implied_vol_one`) or a block of options at a time (`implied_vols`).

Every option is first normalised to an out-of-the-money call (log-moneyness h <= 0, value beta). The
start is a bicubic spline of the total vol over transformed (h, beta) coordinates, tabulated at import
by bisection on `bsm_price` (interpolating the implied-vol function in coordinates that absorb its
asymptotics is the idea of Glau, Herold, Madan and Poetz, "The Chebyshev method for the implied
volatility", J. Comput. Finance 23(3), 2019). It is within 3e-6 of the solution wherever options are
quoted, so one Halley step, accepted without repricing by its cubic convergence, solves almost every
option. Outside the table (far wings, total vol above ~3.4) the start is `_initial_total_vol`'s asymptotes.
docs/pricing.md has the method.

Importing this module imports numba (~0.2-0.4 s) and tabulates the start (~10 ms, numpy); the first
solve loads the cached machine code: callers import it where they solve, not at package import.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from trading_pipeline.core.jit import compiled
from trading_pipeline.core.pricing import MAX_VOL, MIN_VOL, bsm_price

_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_WINITZKI_A = 0.147
_ALMOST_ONE = 1.0 - 1e-16
_LN_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

_CONTINUE, _SOLVED, _FAILED = 0, 1, 2
_MAX_STEPS = 100
_BLOCK = 1024  # options `implied_vols` solves together: their stage arrays (~100 KB) stay in cache
#: A Halley step from a relative residual r of the objective leaves at most ~1.1 r^3 (measured on
#: 900,000 random problems, |h| <= 5, total vol 1e-5..8, r 1e-3..3e-2, where the new residual stands
#: above rounding noise). A step is accepted without repricing when 10 r^3 is within the tolerance, and
#: only from r <= 1e-2, where the cubic term dominates.
_CUBIC_FACTOR = 10.0
_CUBIC_RANGE = 1e-2
_ROUNDING = 4e-16  # relative rounding error of each of the two terms of the value

#: The start table: total vol x = w f(u, s), f a bicubic spline (uniform knots, not-a-knot ends), in
#: coordinates of the normalised problem: eps = |h| / (sqrt(2 pi) beta), kappa = sqrt(ln(1 + eps^2))
#: (like |h| / x far out of the money), w = (|h| / kappa) / sqrt(1 - beta / exp(h / 2)) (x to within a
#: factor 0.4..1.9; exactly x as h -> 0 and x -> 0), compacted by u = kappa / (kappa + 2) and
#: s = w / (w + 2).
_KAPPA_MAX = 26.0  # eps^2 = exp(kappa^2) - 1 stays finite (beta down to ~1e-150)
_W_MAX = 8.0  # total vol up to ~3.4 at the money, more out of it
_U_MAX = _KAPPA_MAX / (_KAPPA_MAX + 2.0)
_S_MAX = _W_MAX / (_W_MAX + 2.0)
_U_KNOTS, _S_KNOTS = 48, 32
_U_STEP = _U_MAX / (_U_KNOTS - 1)  # knots at 0, ..., _U_MAX
_S_STEP = _S_MAX / (_S_KNOTS - 0.5)  # knots at _S_STEP / 2, ..., _S_MAX (w -> 0 extrapolates half a step)
_TABLE_ROW = _S_KNOTS + 2  # spline coefficients a row


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


@compiled
def _start_outside_table(h: float, beta: float, e_pos: float) -> tuple[float, bool]:
    """(start, upper branch?) from the asymptotes, where the start table does not reach."""
    x_inflection = math.sqrt(-2.0 * h)
    value_at_inflection = 0.5 * e_pos - _norm_cdf_given_gauss(-x_inflection, e_pos * e_pos) / e_pos  # d1 = 0
    upper_branch = x_inflection == 0.0 or beta >= value_at_inflection
    return _initial_total_vol(h, beta, upper_branch), upper_branch


@compiled
def _normalise(
    price: float, spot: float, strike: float, t: float, rate: float, div_yield: float, is_call: bool
) -> tuple[bool, float, float, float, float]:
    """(inside the no-arbitrage bounds?, h, beta, scale, exp(h / 2)): the option as the normalised OTM call.

    Put-call parity maps every option onto an out-of-the-money call of log-moneyness h <= 0 whose value,
    in units of scale = sqrt(discounted spot x discounted strike), is beta (at most exp(h / 2)).
    """
    if not (t > 0.0 and spot > 0.0 and strike > 0.0 and math.isfinite(price)):
        return False, 0.0, 0.0, 1.0, 1.0
    disc_s = spot * math.exp(-div_yield * t)
    disc_k = strike * math.exp(-rate * t)  # as bsm_price has it: a price at intrinsic gives beta = 0
    h = -abs(math.log(spot / strike) + (rate - div_yield) * t)  # -|ln(disc_s / disc_k)|
    larger = max(disc_s, disc_k)
    e_pos = math.sqrt(min(disc_s, disc_k) / larger)  # exp(h / 2)
    scale = larger * e_pos  # sqrt(disc_s disc_k)
    forward_value = disc_s - disc_k if is_call else disc_k - disc_s
    lower = max(forward_value, 0.0)
    upper = disc_s if is_call else disc_k
    return lower < price < upper, h, (price - lower) / scale, scale, e_pos


@compiled
def _log1p(r: float) -> float:
    """ln(1 + r): four terms of the series near 0 (error < r^5 / 5, under 1e-16 relative), else libm."""
    if abs(r) < 1e-3:
        return r * (1.0 - r * (0.5 - r * (1.0 / 3.0 - 0.25 * r)))
    return math.log1p(r)


@compiled
def _evaluate(h: float, e_pos: float, upper_branch: bool, x: float) -> tuple[float, float, float, float]:
    """(value, or max value - value above the inflection point; vega; (d vega / dx) / vega; the rounding
    error of the residual) at x."""
    inv_x = 1.0 / x
    h_over_x = h * inv_x
    d1 = h_over_x + 0.5 * x
    d2 = d1 - x
    gauss = math.exp(-0.5 * d1 * d1)  # exp(-d2^2 / 2) = gauss exp(h)
    cdf_1 = _norm_cdf_given_gauss(-d1 if upper_branch else d1, gauss)
    cdf_2 = _norm_cdf_given_gauss(d2, gauss * e_pos * e_pos)
    term_1, term_2 = e_pos * cdf_1, cdf_2 / e_pos
    level = term_1 + term_2 if upper_branch else term_1 - term_2
    rounding = _ROUNDING * (term_1 + term_2 + (e_pos if upper_branch else 0.0))  # e_pos - beta above
    return level, e_pos * gauss * _INV_SQRT_2PI, h_over_x * h_over_x * inv_x - 0.25 * x, rounding


@compiled
def _halley_step(
    beta: float,
    tol: float,
    upper_branch: bool,
    e_pos: float,
    level: float,
    vega: float,
    curvature: float,
    rounding: float,
    x: float,
    lo: float,
    hi: float,
) -> tuple[int, float, float, float]:
    """One bracketed Halley step from x, given `_evaluate` at x: (_SOLVED, x, ...), (_FAILED, ...) or
    (_CONTINUE, next x, lo, hi).

    The objective is ln(value / beta) below the inflection point sqrt(-2h) and ln(gap / target gap)
    above it, gap = max value - value (Jaeckel's upper transformation; below, his 1/ln(value) is not
    needed from a close start), taken as ln(1 + r) of the relative residual r, by series near the
    solution. `tol` is absolute (normalised); the step is final without repricing once the residual it
    leaves, _CUBIC_FACTOR |r|^3 x (beta, or the target gap) (Halley converges cubically) plus the
    rounding of an evaluation, is within it.
    """
    if upper_branch:
        scale = e_pos - beta  # the target gap
        diff = scale - level
        log_ratio = _log1p(-diff / scale)  # ln(gap / target gap), the objective
        newton = -log_ratio * level / vega
        halley = 1.0 - 0.5 * newton * (curvature + vega / level)
    else:
        scale = beta
        diff = level - beta
        log_ratio = _log1p(diff / beta)  # ln(value / beta), the objective
        newton = log_ratio * level / vega
        halley = 1.0 - 0.5 * newton * (curvature - vega / level)
    residual = abs(diff)
    if residual <= tol:
        return _SOLVED, x, lo, hi
    if diff < 0.0:
        lo = x
    else:
        hi = x
    if hi - lo <= 1e-15 * hi:
        return _FAILED, x, lo, hi
    step = x - (newton / halley if halley > 0.5 else newton)
    if not lo < step < hi:  # also catches NaN steps (value underflowed to 0)
        return _CONTINUE, 0.5 * (lo + hi), lo, hi
    relative = residual / scale  # the objective's residual
    final = (
        relative <= _CUBIC_RANGE and _CUBIC_FACTOR * relative * relative * relative * scale + rounding <= tol
    )
    return (_SOLVED if final else _CONTINUE), step, lo, hi


@compiled
def _table_coordinates(h: float, beta: float, e_pos: float) -> tuple[float, float, float]:
    """(u, s, w) of the start table for the normalised problem (h, beta)."""
    eps = -h / (_SQRT_2PI * beta)
    eps_sq = eps * eps
    kappa = math.sqrt(math.log1p(eps_sq))
    root_gap = math.sqrt(1.0 - beta / e_pos)
    # |h| / kappa -> sqrt(2 pi) beta as h -> 0
    w = -h / (kappa * root_gap) if eps_sq > 1e-12 else _SQRT_2PI * beta / root_gap
    inv = 1.0 / ((kappa + 2.0) * (w + 2.0))
    return kappa * (w + 2.0) * inv, w * (kappa + 2.0) * inv, w


@compiled
def _cubic_bspline_weights(t: float) -> tuple[float, float, float, float]:
    """Weights of the four uniform cubic B-splines that overlap a knot interval, at fraction t of it."""
    s = 1.0 - t
    t2 = t * t
    t3 = t2 * t
    return (
        s * s * s * (1.0 / 6.0),
        0.5 * t3 - t2 + 2.0 / 3.0,
        0.5 * (t + t2 - t3) + 1.0 / 6.0,
        t3 * (1.0 / 6.0),
    )


def _table_knots() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(h, beta, w) of the normalised problem at every (u, s) knot: `_table_coordinates` inverted, by
    bisection for |h| / kappa in (0, w]."""
    u = _U_STEP * np.arange(_U_KNOTS)[:, None]
    s = _S_STEP * (np.arange(_S_KNOTS) + 0.5)[None, :]
    kappa, w = np.broadcast_arrays(2.0 * u / (1.0 - u), 2.0 * s / (1.0 - s))
    with np.errstate(divide="ignore", invalid="ignore"):  # kappa = 0: h = 0, beta = w / sqrt(2 pi)
        beta_per_x0 = np.where(kappa > 0.0, kappa / np.sqrt(np.expm1(kappa * kappa)), 1.0) / _SQRT_2PI
        lo, hi = np.zeros_like(w), w.copy()
        for _ in range(64):
            x0 = 0.5 * (lo + hi)
            y = x0 * beta_per_x0 * np.exp(0.5 * x0 * kappa)
            below = (y < 1.0) & (x0 / np.sqrt(1.0 - y) < w)
            lo, hi = np.where(below, x0, lo), np.where(below, hi, x0)
    x0 = 0.5 * (lo + hi)
    return -x0 * kappa, x0 * beta_per_x0, w


def _table_values() -> NDArray[np.float64]:
    """x / w at every knot, by bisection of ln(x / w) in [-ln 10, ln 10] on the normalised call value:
    `bsm_price` with forward exp(h / 2), strike exp(-h / 2) and total vol x."""
    h, beta, w = _table_knots()
    lo, hi = np.full_like(h, -math.log(10.0)), np.full_like(h, math.log(10.0))
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = bsm_price(np.exp(0.5 * h), np.exp(-0.5 * h), 1.0, 0.0, 0.0, w * np.exp(mid), True) < beta
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.exp(0.5 * (lo + hi))


def _not_a_knot_system(knots: int) -> NDArray[np.float64]:
    """Uniform cubic B-spline coefficients -> (values at the knots, third-derivative jumps at the 2nd and
    next-to-last knots): solving it with zero jumps gives the not-a-knot interpolating spline."""
    system = np.zeros((knots + 2, knots + 2))
    for m in range(knots):
        system[m, m : m + 3] = (1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0)
    system[knots, 0:5] = system[knots + 1, knots - 3 : knots + 2] = (-1.0, 4.0, -6.0, 4.0, -1.0)
    return system


def _start_table() -> NDArray[np.float64]:
    """Bicubic spline coefficients of x / w over the (u, s) knots (numpy, a few ms at import)."""
    values = np.zeros((_U_KNOTS + 2, _S_KNOTS + 2))
    values[:_U_KNOTS, :_S_KNOTS] = _table_values()
    along_u = np.linalg.solve(_not_a_knot_system(_U_KNOTS), values)
    return np.ascontiguousarray(np.linalg.solve(_not_a_knot_system(_S_KNOTS), along_u.T).T)


_START_TABLE = _start_table().ravel()  # row-major


@compiled
def _in_table(u: float, s: float) -> bool:
    """Whether table coordinates fall inside the start table (NaN ones do not)."""
    return u <= _U_MAX and s <= _S_MAX


@compiled
def _table_start(u: float, s: float, w: float) -> float:
    """The start x = w f(u, s), f the start table's bicubic spline (coordinates inside the table)."""
    pu = u * (1.0 / _U_STEP)
    cell_u = min(int(pu), _U_KNOTS - 2)
    ps = s * (1.0 / _S_STEP) - 0.5
    cell_s = min(int(ps), _S_KNOTS - 2)  # int() of -0.5 <= ps < 0 is 0: extrapolates the first cell
    wu0, wu1, wu2, wu3 = _cubic_bspline_weights(pu - cell_u)
    ws0, ws1, ws2, ws3 = _cubic_bspline_weights(ps - cell_s)
    c = _START_TABLE
    i = cell_u * _TABLE_ROW + cell_s
    j, k, m = i + _TABLE_ROW, i + 2 * _TABLE_ROW, i + 3 * _TABLE_ROW
    return w * (
        wu0 * (ws0 * c[i] + ws1 * c[i + 1] + ws2 * c[i + 2] + ws3 * c[i + 3])
        + wu1 * (ws0 * c[j] + ws1 * c[j + 1] + ws2 * c[j + 2] + ws3 * c[j + 3])
        + wu2 * (ws0 * c[k] + ws1 * c[k + 1] + ws2 * c[k + 2] + ws3 * c[k + 3])
        + wu3 * (ws0 * c[m] + ws1 * c[m + 1] + ws2 * c[m + 2] + ws3 * c[m + 3])
    )


@compiled
def _start(h: float, beta: float, e_pos: float) -> tuple[float, bool]:
    """(start x, upper branch?): the start table where it reaches, else the asymptotes."""
    u, s, w = _table_coordinates(h, beta, e_pos)
    if not _in_table(u, s):
        return _start_outside_table(h, beta, e_pos)
    x = _table_start(u, s, w)
    return x, x * x > -2.0 * h


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
    inside, h, beta, scale, e_pos = _normalise(price, spot, strike, t, rate, div_yield, is_call)
    if not inside:
        return math.nan
    sqrt_t = math.sqrt(t)
    tol_n = tol * price / scale
    lo, hi = MIN_VOL * sqrt_t, MAX_VOL * sqrt_t
    x, upper_branch = _start(h, beta, e_pos)
    x = min(max(x, lo), hi)
    for _ in range(_MAX_STEPS):
        level, vega, curvature, rounding = _evaluate(h, e_pos, upper_branch, x)
        state, x, lo, hi = _halley_step(
            beta, tol_n, upper_branch, e_pos, level, vega, curvature, rounding, x, lo, hi
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
    """`implied_vol_one` (but with `max_iter` steps) over flat arrays, a block of options at a time.

    Each stage (normalise, table coordinates, start, then one step per unsolved option per pass) runs
    over the whole block before the next: the options are independent, so the CPU overlaps their
    latency-bound work, which it cannot within one option's long chain. Unsolved options stay packed in
    slots 0..n_active-1 of the block arrays, which stay in cache.
    """
    n = price.size
    out = np.full(n, math.nan)
    m = max(min(n, _BLOCK), 1)  # block size (no options: one empty block)
    index = np.empty(m, dtype=np.int64)
    h, e_pos, beta, tol_n = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    x, lo, hi, u, s = np.empty(m), np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    upper_branch = np.empty(m, dtype=np.bool_)
    level, vega, curvature, rounding = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    for first in range(0, n, m):
        n_active = 0
        for i in range(first, min(first + m, n)):
            inside, h_i, beta_i, scale, e_pos_i = _normalise(
                price[i], spot[i], strike[i], t[i], rate[i], div_yield[i], is_call[i]
            )
            if inside:
                sqrt_t = math.sqrt(t[i])
                index[n_active], h[n_active], beta[n_active], e_pos[n_active] = i, h_i, beta_i, e_pos_i
                tol_n[n_active] = tol * price[i] / scale
                lo[n_active], hi[n_active] = MIN_VOL * sqrt_t, MAX_VOL * sqrt_t
                n_active += 1
        for k in range(n_active):
            u[k], s[k], x[k] = _table_coordinates(h[k], beta[k], e_pos[k])  # x holds w
        for k in range(n_active):
            if _in_table(u[k], s[k]):
                x_k = _table_start(u[k], s[k], x[k])
                upper_branch[k] = x_k * x_k > -2.0 * h[k]
            else:
                x_k, upper_branch[k] = _start_outside_table(h[k], beta[k], e_pos[k])
            x[k] = min(max(x_k, lo[k]), hi[k])
        for _ in range(max_iter):
            kept = 0
            for k in range(n_active):
                level[k], vega[k], curvature[k], rounding[k] = _evaluate(
                    h[k], e_pos[k], upper_branch[k], x[k]
                )
            for k in range(n_active):
                state, x_k, lo_k, hi_k = _halley_step(
                    beta[k],
                    tol_n[k],
                    upper_branch[k],
                    e_pos[k],
                    level[k],
                    vega[k],
                    curvature[k],
                    rounding[k],
                    x[k],
                    lo[k],
                    hi[k],
                )
                if state == _SOLVED:  # the clip only undoes rounding
                    out[index[k]] = min(max(x_k / math.sqrt(t[index[k]]), MIN_VOL), MAX_VOL)
                elif state == _CONTINUE:  # kept, packed
                    index[kept], h[kept], e_pos[kept], beta[kept] = index[k], h[k], e_pos[k], beta[k]
                    tol_n[kept], upper_branch[kept] = tol_n[k], upper_branch[k]
                    x[kept], lo[kept], hi[kept] = x_k, lo_k, hi_k
                    kept += 1
            n_active = kept
            if n_active == 0:
                break
    return out
