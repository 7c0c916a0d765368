"""American option prices, greeks and implied vol under BSM with a continuous dividend yield (compiled).

The early-exercise boundary of a put is solved by the Andersen-Lake-Offengenden fixed-point method
(Chebyshev interpolation in sqrt(time), Gauss-Legendre integrals, one Jacobi-Newton step then plain
fixed-point steps); the price is the European value plus the early-exercise premium integral. Calls
use the put-call symmetry C(S, K, r, q) = P(K, S, q, r). Every iteration count is fixed, so a price is
a smooth function of its inputs: greeks by bumping and the implied-vol secant steps stay clean.
docs/pricing.md gives the method and its measured error against QuantLib's finite-difference engine.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from trading_pipeline.core.iv_kernel import implied_vol_one, norm_cdf, norm_pdf
from trading_pipeline.core.jit import compiled
from trading_pipeline.core.pricing import MAX_VOL, MIN_VOL, Greeks, bsm_greeks, flat_arrays

#: Chebyshev nodes of the boundary (n + 1 points), fixed-point iterations (the first a Jacobi-Newton
#: step), and Gauss-Legendre points of the fixed-point and of the premium integrals. Chosen by
#: measurement against QuantLib (docs/pricing.md).
CHEBYSHEV_N = 10
FIXED_POINT_STEPS = 4
FIXED_POINT_POINTS = 24
PREMIUM_POINTS = 48
_QD_NEWTON_STEPS = 8
_BUMP_VOL = 1e-4
_BUMP_RATE = 1e-5
_IV_MAX_STEPS = 40
_FALLBACK_START_VOL = 0.3
#: A chain's boundary table holds the boundary at vols MIN_VOL x BOUNDARY_VOL_RATIO^j, each solved once when
#: first needed, and interpolates its coefficients / vol^2 (cubic in ln vol) between them: at this ratio
#: prices move by under 1e-4 per share at spot 400 against the exact solve (measured, docs/pricing.md).
BOUNDARY_VOL_RATIO = 1.2
_GRID_LOG_MIN = math.log(MIN_VOL)
_GRID_LOG_STEP = math.log(BOUNDARY_VOL_RATIO)
#: A chain contract whose early-exercise premium at its European vol is below this fraction of its time
#: value and below EUROPEAN_ENOUGH_PER_SHARE keeps the European vol and greeks (the vol then differs by less
#: than that premium / vega, and the American price at it by less than half the 1e-3 pricing tolerance).
EUROPEAN_ENOUGH = 1e-4
EUROPEAN_ENOUGH_PER_SHARE = 5e-4
BOUNDARY_NODES = math.ceil(math.log(MAX_VOL / MIN_VOL) / _GRID_LOG_STEP) + 1

_FP_X, _FP_W = np.polynomial.legendre.leggauss(FIXED_POINT_POINTS)
_PREMIUM_X, _PREMIUM_W = np.polynomial.legendre.leggauss(PREMIUM_POINTS)
_CHEB_Z = np.cos(np.arange(CHEBYSHEV_N + 1) * np.pi / CHEBYSHEV_N)
_CHEB_COS = np.cos(np.outer(np.arange(CHEBYSHEV_N + 1), np.arange(CHEBYSHEV_N + 1)) * np.pi / CHEBYSHEV_N)


@compiled
def _chebyshev_coefficients(y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Coefficients (end terms pre-halved) of the interpolant through y at the Chebyshev extrema."""
    n = CHEBYSHEV_N
    a = np.empty(n + 1)
    for k in range(n + 1):
        total = 0.5 * (y[0] + y[n] * _CHEB_COS[k, n])
        for i in range(1, n):
            total += y[i] * _CHEB_COS[k, i]
        a[k] = total * 2.0 / n
    a[0] *= 0.5
    a[n] *= 0.5
    return a


@compiled
def _chebyshev_value(a: NDArray[np.float64], z: float) -> float:
    """Clenshaw evaluation of sum a_k T_k(z)."""
    b1 = 0.0
    b2 = 0.0
    for k in range(a.size - 1, 0, -1):
        b1, b2 = 2.0 * z * b1 - b2 + a[k], b1
    return z * b1 - b2 + a[0]


@compiled
def _boundary(a: NDArray[np.float64], x_max: float, tau: float, maturity: float) -> float:
    """Put exercise boundary at time to expiry tau from the interpolant of ln(B / x_max)^2 in sqrt(tau)."""
    z = 2.0 * math.sqrt(max(tau, 0.0) / maturity) - 1.0
    return x_max * math.exp(-math.sqrt(max(_chebyshev_value(a, z), 0.0)))


@compiled
def _d_plus(t: float, moneyness: float, rate: float, div_yield: float, vol: float) -> float:
    v = vol * math.sqrt(t)
    return (math.log(moneyness) + (rate - div_yield) * t) / v + 0.5 * v


@compiled
def _qd_plus_boundary(
    strike: float, rate: float, div_yield: float, vol: float, tau: float, x_max: float
) -> float:
    """Li's QD+ approximation of the put boundary at tau (fixed Newton steps from x_max): the start."""
    v = vol * math.sqrt(tau)
    var = vol * vol
    dr, dq = math.exp(-rate * tau), math.exp(-div_yield * tau)
    omega = 2.0 * (rate - div_yield) / var
    root = math.sqrt((omega - 1.0) ** 2 + 8.0 * rate / (var * (1.0 - dr)))
    lam = 0.5 * (-(omega - 1.0) - root)
    lam_prime = 2.0 * rate / (var * (1.0 - dr) ** 2 * root)
    alpha = 2.0 * dr * rate / (var * (2.0 * lam + omega - 1.0))
    beta = alpha * (1.0 / (1.0 - dr) + lam_prime / (2.0 * lam + omega - 1.0)) - lam
    s = x_max
    for _ in range(_QD_NEWTON_STEPS):
        dp = math.log(s * dq / (strike * dr)) / v + 0.5 * v
        dm = dp - v
        cdf_mdp, cdf_mdm, pdf_dp = norm_cdf(-dp), norm_cdf(-dm), norm_pdf(dp)
        european = dr * strike * cdf_mdm - s * dq * cdf_mdp
        theta = (
            rate * strike * dr * cdf_mdm - div_yield * s * dq * cdf_mdp - var * s / (2.0 * v) * dq * pdf_dp
        )
        charm = -dq * (pdf_dp * ((rate - div_yield) / v - dm / (2.0 * tau)) + div_yield * cdf_mdp)
        f = (1.0 - dq * cdf_mdp) * s - beta * (strike - s - european) + alpha * theta / (dr * rate)
        f1 = 1.0 - dq * cdf_mdp + dq * pdf_dp / v + beta * (1.0 - dq * cdf_mdp) + alpha * charm / (rate * dr)
        s = min(max(s - f / f1, 1e-3 * x_max), x_max)
    return s


@compiled
def _fixed_point(
    a: NDArray[np.float64],
    strike: float,
    rate: float,
    div_yield: float,
    vol: float,
    tau: float,
    b: float,
    x_max: float,
    maturity: float,
    newton: bool,
) -> float:
    """One update K e^{-(r-q) tau} N / D of the boundary value b at tau (ALO's equation "A").

    The integrals run over u = tau (1 + y)^2 / 4, which removes their 1/sqrt(tau - u) singularity;
    `newton` takes a Jacobi-Newton step on b = f(b) instead of the plain fixed-point step.
    """
    v = vol * math.sqrt(tau)
    dp = _d_plus(tau, b / strike, rate, div_yield, vol)
    dm = dp - v
    stv = math.sqrt(tau) / vol
    n_sum = 0.0
    d_sum = 0.0
    for j in range(FIXED_POINT_POINTS):
        y = _FP_X[j]
        m = 0.25 * tau * (1.0 + y) ** 2
        ep = _d_plus(m, b / _boundary(a, x_max, tau - m, maturity), rate, div_yield, vol)
        em = ep - vol * math.sqrt(m)
        d_sum += (
            _FP_W[j]
            * math.exp(div_yield * (tau - m))
            * (0.5 * tau * (y + 1.0) * norm_cdf(ep) + stv * norm_pdf(ep))
        )
        n_sum += _FP_W[j] * stv * math.exp(rate * (tau - m)) * norm_pdf(em)
    big_n = norm_pdf(dm) / v + rate * n_sum
    big_d = norm_pdf(dp) / v + norm_cdf(dp) + div_yield * d_sum
    scale = strike * math.exp(-(rate - div_yield) * tau)
    value = scale * big_n / big_d
    if not newton:
        return value
    n_prime = -norm_pdf(dm) * dm / (b * vol * vol * tau)
    d_prime = -norm_pdf(dp) * dp / (b * vol * vol * tau) + norm_pdf(dp) / (b * v)
    slope = scale * (n_prime / big_d - d_prime * big_n / (big_d * big_d))
    stepped = b - (value - b) / (slope - 1.0)
    return stepped if 0.0 < stepped < math.inf else value


@compiled
def _put_boundary(
    strike: float, rate: float, div_yield: float, vol: float, maturity: float, x_max: float
) -> NDArray[np.float64]:
    """Chebyshev coefficients of ln(B / x_max)^2 for the put boundary B on [0, maturity]."""
    n = CHEBYSHEV_N
    y = np.zeros(n + 1)
    taus = np.empty(n + 1)
    for i in range(n):  # node n is tau = 0, where B = x_max
        taus[i] = 0.25 * maturity * (1.0 + _CHEB_Z[i]) ** 2
        y[i] = math.log(_qd_plus_boundary(strike, rate, div_yield, vol, taus[i], x_max) / x_max) ** 2
    a = _chebyshev_coefficients(y)
    for step in range(FIXED_POINT_STEPS):
        for i in range(n):
            b = _boundary(a, x_max, taus[i], maturity)
            updated = _fixed_point(a, strike, rate, div_yield, vol, taus[i], b, x_max, maturity, step == 0)
            # The boundary lies in (0, x_max]; within minutes of expiry a plain step can overshoot x_max,
            # which the squared log would fold back below it.
            y[i] = math.log(min(max(updated, 1e-3 * x_max), x_max) / x_max) ** 2
        a = _chebyshev_coefficients(y)
    return a


@compiled
def _no_table() -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """An empty boundary table: every price solves its own boundary."""
    return np.empty((0, CHEBYSHEV_N + 1)), np.zeros(0, dtype=np.bool_)


@compiled
def _new_table() -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A boundary table for one (maturity, rate, dividend yield, right) with no node solved yet."""
    return np.empty((BOUNDARY_NODES, CHEBYSHEV_N + 1)), np.zeros(BOUNDARY_NODES, dtype=np.bool_)


@compiled
def _unit_boundary(
    rate: float,
    div_yield: float,
    vol: float,
    maturity: float,
    x_unit: float,
    table: NDArray[np.float64],
    ready: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Boundary coefficients of a unit-strike put (B scales with the strike): solved at `vol` when the
    table is empty, else interpolated (cubic) in ln(vol) between the four table nodes around it."""
    if table.shape[0] == 0:
        return _put_boundary(1.0, rate, div_yield, vol, maturity, x_unit)
    position = min(max((math.log(vol) - _GRID_LOG_MIN) / _GRID_LOG_STEP, 1.0), table.shape[0] - 2.0)
    j = min(int(position), table.shape[0] - 3)
    for node in range(j - 1, j + 3):
        if not ready[node]:
            node_vol = math.exp(_GRID_LOG_MIN + node * _GRID_LOG_STEP)
            table[node] = _put_boundary(1.0, rate, div_yield, node_vol, maturity, x_unit) / node_vol**2
            ready[node] = True
    w = position - j  # cubic Lagrange weights of nodes j - 1 .. j + 2
    return (
        vol
        * vol
        * (
            -w * (w - 1.0) * (w - 2.0) / 6.0 * table[j - 1]
            + (w + 1.0) * (w - 1.0) * (w - 2.0) / 2.0 * table[j]
            - (w + 1.0) * w * (w - 2.0) / 2.0 * table[j + 1]
            + (w + 1.0) * w * (w - 1.0) / 6.0 * table[j + 2]
        )
    )


@compiled
def _european_put(
    spot: float, strike: float, rate: float, div_yield: float, vol: float, maturity: float
) -> tuple[float, float, float]:
    """European put (price, delta, gamma); a European call is the put at (K, S, q, r) by symmetry."""
    v = vol * math.sqrt(maturity)
    dr, dq = math.exp(-rate * maturity), math.exp(-div_yield * maturity)
    d1 = (math.log(spot / strike) + (rate - div_yield) * maturity) / v + 0.5 * v
    d2 = d1 - v
    price = strike * dr * norm_cdf(-d2) - spot * dq * norm_cdf(-d1)
    return price, -dq * norm_cdf(-d1), dq * norm_pdf(d1) / (spot * v)


@compiled
def _put(
    spot: float,
    strike: float,
    rate: float,
    div_yield: float,
    vol: float,
    maturity: float,
    table: NDArray[np.float64],
    ready: NDArray[np.bool_],
) -> tuple[float, float, float, bool]:
    """American put (price, delta, gamma, exercised now?) for t, vol > 0; European if exercise never pays."""
    price, delta, gamma = _european_put(spot, strike, rate, div_yield, vol, maturity)
    if rate <= 0.0:  # a put is never exercised early without a positive rate (q < r < 0 is not handled)
        return price, delta, gamma, False
    x_unit = min(1.0, rate / div_yield) if div_yield > 0.0 else 1.0
    x_max = strike * x_unit
    a = _unit_boundary(rate, div_yield, vol, maturity, x_unit, table, ready)
    if spot <= _boundary(a, x_max, maturity, maturity):
        return strike - spot, -1.0, 0.0, True
    half = 0.5 * math.sqrt(maturity)
    for j in range(PREMIUM_POINTS):
        z = half * (_PREMIUM_X[j] + 1.0)
        t = z * z
        b = _boundary(a, x_max, maturity - t, maturity)
        vt = vol * z
        drt, dqt = math.exp(-rate * t), math.exp(-div_yield * t)
        dp = math.log(spot * dqt / (b * drt)) / vt + 0.5 * vt
        dm = dp - vt
        w = _PREMIUM_W[j] * half * 2.0 * z
        rk, qs = rate * strike * drt, div_yield * dqt
        price += w * (rk * norm_cdf(-dm) - qs * spot * norm_cdf(-dp))
        delta += w * (-rk * norm_pdf(dm) / (spot * vt) - qs * norm_cdf(-dp) + qs * norm_pdf(dp) / vt)
        gamma += w * (
            rk * norm_pdf(dm) * (1.0 + dm / vt) / (spot * spot * vt)
            + qs * norm_pdf(dp) * (1.0 - dp / vt) / (spot * vt)
        )
    return price, delta, gamma, False


@compiled
def _valid(spot: float, strike: float, rate: float, div_yield: float) -> bool:
    return spot > 0.0 and strike > 0.0 and math.isfinite(rate) and math.isfinite(div_yield)


@compiled
def _solvable(
    price: float, spot: float, strike: float, t: float, rate: float, div_yield: float, is_call: bool
) -> bool:
    """Whether an American vol can exist: valid inputs, time left, and a price above the exercise value
    and below the spot (call) or strike (put)."""
    if not (_valid(spot, strike, rate, div_yield) and t > 0.0 and math.isfinite(price)):
        return False
    intrinsic = max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
    return intrinsic < price < (spot if is_call else strike)


@compiled
def american_one(
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div_yield: float,
    vol: float,
    is_call: bool,
    table: NDArray[np.float64],
    ready: NDArray[np.bool_],
) -> tuple[float, float, float, float]:
    """(price, delta, gamma, theta per year) of one American option; its payoff at or past expiry.

    `table` (from `_new_table`, for this option's maturity, carry and right) or an empty one (`_no_table`).
    """
    if not (_valid(spot, strike, rate, div_yield) and (t <= 0.0 or vol > 0.0)):
        return math.nan, math.nan, math.nan, math.nan
    if t <= 0.0:
        sign = 1.0 if is_call else -1.0
        in_the_money = sign * (spot - strike) > 0.0
        return max(sign * (spot - strike), 0.0), sign if in_the_money else 0.0, 0.0, 0.0
    if is_call:  # C(S, K, r, q) = P(K, S, q, r); P is homogeneous of degree one in (S, K)
        price, put_delta, put_gamma, exercised = _put(strike, spot, div_yield, rate, vol, t, table, ready)
        delta = (price - strike * put_delta) / spot
        gamma = strike * strike * put_gamma / (spot * spot)
    else:
        price, delta, gamma, exercised = _put(spot, strike, rate, div_yield, vol, t, table, ready)
    if exercised:
        return price, delta, gamma, 0.0
    theta = (
        rate * price - (rate - div_yield) * spot * delta - 0.5 * vol * vol * spot * spot * gamma
    )  # BSM PDE
    return price, delta, gamma, theta


@compiled
def _european_one(
    spot: float, strike: float, t: float, rate: float, div_yield: float, vol: float, is_call: bool
) -> float:
    if is_call:
        return _european_put(strike, spot, div_yield, rate, vol, t)[0]
    return _european_put(spot, strike, rate, div_yield, vol, t)[0]


@compiled
def american_implied_vol_one(
    price: float,
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div_yield: float,
    is_call: bool,
    tol: float,
    table: NDArray[np.float64],
    ready: NDArray[np.bool_],
) -> float:
    """American implied vol in [MIN_VOL, MAX_VOL] repricing within `tol` x price; NaN when none does.

    De-Americanisation gives the start: the European vol of the price is an upper bound, and the European
    vol of the price less that vol's early-exercise premium is the next point; then bracketed secant steps
    on the American price.
    """
    if not _solvable(price, spot, strike, t, rate, div_yield, is_call):
        return math.nan
    european_vol = implied_vol_one(price, spot, strike, t, rate, div_yield, is_call, tol)
    x = european_vol if math.isfinite(european_vol) else _FALLBACK_START_VOL
    model = american_one(spot, strike, t, rate, div_yield, x, is_call, table, ready)[0]
    return _american_vol_from(
        price, spot, strike, t, rate, div_yield, is_call, tol, table, ready, european_vol, x, model
    )


@compiled
def _american_vol_from(
    price: float,
    spot: float,
    strike: float,
    t: float,
    rate: float,
    div_yield: float,
    is_call: bool,
    tol: float,
    table: NDArray[np.float64],
    ready: NDArray[np.bool_],
    european_vol: float,
    x: float,
    model: float,
) -> float:
    """The secant search of `american_implied_vol_one` from its first point x (the European vol, when
    finite) and the American price there."""
    lo, hi = MIN_VOL, MAX_VOL
    f_lo, f_hi = math.nan, math.nan
    x_prev, f_prev = math.nan, math.nan
    for step in range(_IV_MAX_STEPS):
        if step > 0:
            model = american_one(spot, strike, t, rate, div_yield, x, is_call, table, ready)[0]
        f = model - price
        if abs(f) <= tol * price:
            return x
        if f > 0.0:
            hi, f_hi = x, f
        else:
            lo, f_lo = x, f
        if hi - lo <= 1e-14 * hi:
            break
        if step == 0 and math.isfinite(european_vol):
            premium = model - _european_one(spot, strike, t, rate, div_yield, x, is_call)
            nxt = implied_vol_one(price - premium, spot, strike, t, rate, div_yield, is_call, tol)
        else:
            nxt = x - f * (x - x_prev) / (f - f_prev)
        if not lo < nxt < hi:
            if math.isfinite(f_lo) and math.isfinite(f_hi):
                nxt = 0.5 * (lo + hi)
            elif f > 0.0:
                nxt = lo if x <= 2.0 * lo else 0.5 * x  # no point below the price yet: walk down
            else:
                nxt = hi if x >= 0.5 * hi else 2.0 * x
        x_prev, f_prev, x = x, f, nxt
    return math.nan


@compiled
def _prices(
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    vol: NDArray[np.float64],
    is_call: NDArray[np.bool_],
) -> NDArray[np.float64]:
    table, ready = _no_table()
    out = np.empty(spot.size)
    for i in range(spot.size):
        out[i] = american_one(
            spot[i], strike[i], t[i], rate[i], div_yield[i], vol[i], is_call[i], table, ready
        )[0]
    return out


@compiled
def _sensitivities(
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    vol: NDArray[np.float64],
    is_call: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Rows of (price, delta, gamma, theta, vega); vega by a central bump of the vol."""
    table, ready = _no_table()
    out = np.empty((spot.size, 5))
    for i in range(spot.size):
        out[i] = _sensitivity_row(
            spot[i], strike[i], t[i], rate[i], div_yield[i], vol[i], is_call[i], table, ready
        )
    return out


@compiled
def _sensitivity_row(
    s: float,
    k: float,
    t: float,
    r: float,
    q: float,
    v: float,
    c: bool,
    table: NDArray[np.float64],
    ready: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """(price, delta, gamma, theta, vega) of one option; vega by a central bump of the vol."""
    price, delta, gamma, theta = american_one(s, k, t, r, q, v, c, table, ready)
    vega = 0.0
    if t > 0.0:
        up = american_one(s, k, t, r, q, v + _BUMP_VOL, c, table, ready)[0]
        down = american_one(s, k, t, r, q, v - _BUMP_VOL, c, table, ready)[0]
        vega = (up - down) / (2.0 * _BUMP_VOL)
    return np.array([price, delta, gamma, theta, vega])


@compiled
def _implied_vols(
    price: NDArray[np.float64],
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    is_call: NDArray[np.bool_],
    tol: float,
) -> NDArray[np.float64]:
    table, ready = _no_table()
    out = np.empty(price.size)
    for i in range(price.size):
        out[i] = american_implied_vol_one(
            price[i], spot[i], strike[i], t[i], rate[i], div_yield[i], is_call[i], tol, table, ready
        )
    return out


@compiled
def _chain_group(
    price: NDArray[np.float64],
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: float,
    rate: float,
    div_yield: float,
    is_call: bool,
    tol: float,
) -> NDArray[np.float64]:
    """Rows of (iv, delta, gamma, theta, vega, European?) of options sharing maturity, carry and right,
    through one boundary table; NaN rows where no vol fits.

    Where the early-exercise premium at the European vol is within EUROPEAN_ENOUGH of the time value and
    EUROPEAN_ENOUGH_PER_SHARE, the European vol and greeks stand (flag 1: greeks left NaN for the caller):
    the American vol differs by less than that premium over vega.
    """
    table, ready = _new_table()
    out = np.full((price.size, 6), np.nan)
    for i in range(price.size):
        p, s, k = price[i], spot[i], strike[i]
        if not _solvable(p, s, k, t, rate, div_yield, is_call):
            continue
        european_vol = implied_vol_one(p, s, k, t, rate, div_yield, is_call, tol)
        x = european_vol if math.isfinite(european_vol) else _FALLBACK_START_VOL
        model = american_one(s, k, t, rate, div_yield, x, is_call, table, ready)[0]
        time_value = p - (max(s - k, 0.0) if is_call else max(k - s, 0.0))
        enough = min(EUROPEAN_ENOUGH * time_value, EUROPEAN_ENOUGH_PER_SHARE)
        if math.isfinite(european_vol) and model - p <= enough:
            out[i, 0], out[i, 5] = european_vol, 1.0
            continue
        iv = _american_vol_from(
            p, s, k, t, rate, div_yield, is_call, tol, table, ready, european_vol, x, model
        )
        if math.isfinite(iv):
            row = _sensitivity_row(s, k, t, rate, div_yield, iv, is_call, table, ready)
            out[i, 0], out[i, 1:5], out[i, 5] = iv, row[1:], 0.0
    return out


@compiled
def _group_prices(
    spot: NDArray[np.float64],
    strike: NDArray[np.float64],
    t: float,
    rate: float,
    div_yield: float,
    vol: NDArray[np.float64],
    is_call: bool,
) -> NDArray[np.float64]:
    table, ready = _new_table()
    out = np.empty(spot.size)
    for i in range(spot.size):
        out[i] = american_one(spot[i], strike[i], t, rate, div_yield, vol[i], is_call, table, ready)[0]
    return out


def american_price(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> NDArray[np.float64]:
    """American option price per share (broadcast arrays); the payoff at or past expiry, NaN for vol <= 0."""
    shape, (s, k, tt, r, q, v), call = flat_arrays(spot, strike, t, rate, div_yield, vol, is_call=is_call)
    return _prices(s, k, tt, r, q, v, call).reshape(shape)


def american_sensitivities(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> tuple[NDArray[np.float64], ...]:
    """(price, delta, gamma, theta, vega) per share in bsm_greeks' units, without rho's two extra solves."""
    shape, (s, k, tt, r, q, v), call = flat_arrays(spot, strike, t, rate, div_yield, vol, is_call=is_call)
    rows = _sensitivities(s, k, tt, r, q, v, call)
    return tuple(rows[:, j].reshape(shape) for j in range(5))


def american_greeks(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> Greeks:
    """American greeks per share: delta and gamma exact on the solved boundary, theta from the BSM PDE,
    vega and rho by central bumps (per 1.00 change), theta per year; at expiry as bsm_greeks."""
    _, delta, gamma, theta, vega = american_sensitivities(spot, strike, t, rate, div_yield, vol, is_call)
    up = american_price(spot, strike, t, np.add(rate, _BUMP_RATE), div_yield, vol, is_call)
    down = american_price(spot, strike, t, np.subtract(rate, _BUMP_RATE), div_yield, vol, is_call)
    rho = np.where(np.asarray(t) > 0, (up - down) / (2.0 * _BUMP_RATE), 0.0)
    return Greeks(delta=delta, gamma=gamma, vega=vega, theta=theta, rho=rho)


def american_implied_vol(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    is_call: ArrayLike,
    *,
    tol: float = 1e-10,
) -> NDArray[np.float64]:
    """American implied vol in [MIN_VOL, MAX_VOL] repricing within `tol` x price (relative), else NaN.

    NaN at or below intrinsic, at or above the upper bound (spot for a call, strike for a put), at or
    past expiry, and where no vol in the range fits.
    """
    shape, (p, s, k, tt, r, q), call = flat_arrays(price, spot, strike, t, rate, div_yield, is_call=is_call)
    return _implied_vols(p, s, k, tt, r, q, call, tol).reshape(shape)


def american_chain(
    price: ArrayLike,
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    is_call: ArrayLike,
    *,
    tol: float = 1e-10,
) -> tuple[NDArray[np.float64], ...]:
    """(iv, delta, gamma, theta, vega) of a chain's American options, NaN where no vol fits.

    Options sharing a maturity, carry and right share one boundary table, so a chain costs a few boundary
    solves per expiration instead of several per contract (`american_implied_vol` solves each exactly).
    """
    shape, (p, s, k, tt, r, q), call = flat_arrays(price, spot, strike, t, rate, div_yield, is_call=is_call)
    out = np.full((p.size, 6), np.nan)
    for rows, (t_g, r_g, q_g, call_g) in _table_groups(tt, r, q, call):
        out[rows] = _chain_group(p[rows], s[rows], k[rows], t_g, r_g, q_g, call_g, tol)
    european = out[:, 5] == 1.0
    greeks = bsm_greeks(
        s[european], k[european], tt[european], r[european], q[european], out[european, 0], call[european]
    )
    out[european, 1:5] = np.column_stack([greeks.delta, greeks.gamma, greeks.theta, greeks.vega])
    return tuple(out[:, j].reshape(shape) for j in range(5))


def american_chain_prices(
    spot: ArrayLike,
    strike: ArrayLike,
    t: ArrayLike,
    rate: ArrayLike,
    div_yield: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
) -> NDArray[np.float64]:
    """`american_price` of a chain, options sharing a maturity, carry and right through one boundary table."""
    shape, (s, k, tt, r, q, v), call = flat_arrays(spot, strike, t, rate, div_yield, vol, is_call=is_call)
    out = np.full(s.size, np.nan)
    for rows, (t_g, r_g, q_g, call_g) in _table_groups(tt, r, q, call):
        out[rows] = _group_prices(s[rows], k[rows], t_g, r_g, q_g, v[rows], call_g)
    return out.reshape(shape)


def _table_groups(
    t: NDArray[np.float64],
    rate: NDArray[np.float64],
    div_yield: NDArray[np.float64],
    is_call: NDArray[np.bool_],
) -> list[tuple[NDArray[np.int64], tuple[float, float, float, bool]]]:
    """The row indices of each (maturity, rate, dividend yield, right) with those values: one table each."""
    keys = np.column_stack([t, rate, div_yield, is_call.astype(float)])
    groups, group_of = np.unique(keys, axis=0, return_inverse=True)
    order = np.argsort(group_of.ravel(), kind="stable")
    bounds = np.searchsorted(group_of.ravel()[order], np.arange(len(groups) + 1))
    return [
        (order[bounds[g] : bounds[g + 1]], (float(t_g), float(r_g), float(q_g), bool(c_g)))
        for g, (t_g, r_g, q_g, c_g) in enumerate(groups)
    ]
