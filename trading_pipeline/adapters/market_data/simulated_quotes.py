"""The simulated market's option model: strike grids, an IV surface from the VIX, bid/ask and sizes.

Pure, vectorized functions of their arguments; `simulated.SimulatedMarket` feeds them market state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]

#: Long-run ATM vol that the term structure converges to for long maturities (VIX-like units).
LONG_RUN_VOL = 0.19
#: Mean-reversion speed (per year) of variance in the term structure.
TERM_REVERSION_PER_YEAR = 4.0
VIX_HORIZON_YEARS = 30.0 / 365.0
#: Smile in standardized moneyness m = ln(K/F) / (atm * sqrt(T)): vol = atm * (1 + SKEW m + CURVE m^2).
SKEW = -0.22
CURVE = 0.025
SMILE_RATIO_BOUNDS = (0.5, 3.0)
VOL_BOUNDS = (0.04, 3.0)
#: Strike range: fine strikes within NEAR, coarse strikes out to FAR (standard deviations or a floor).
NEAR_SD, NEAR_MIN_LOG, NEAR_MAX_LOG = 0.6, 0.03, 0.05
FAR_SD, FAR_MIN_LOG, FAR_MAX_LOG = 4.0, 0.08, 0.6
#: Beyond this maturity coarse strikes are LONG_DATED_STEP_MULTIPLIER times farther apart.
LONG_DATED_YEARS = 0.25
LONG_DATED_STEP_MULTIPLIER = 2.0
#: Bid/ask: spread = (MIN_SPREAD_TICKS ticks + RELATIVE_SPREAD * theo) * wing factor * maturity factor.
MIN_SPREAD_TICKS = 1.0
RELATIVE_SPREAD = 0.004
WING_SPREAD_PER_SD = 0.15
MATURITY_SPREAD_PER_YEAR = 0.5
#: Display sizes, open interest and volume shapes.
SIZE_DECAY_SD = 3.0
OI_DECAY_SD = 2.0
ROUND_STRIKE_OI_BOOST = 1.8
DAILY_TURNOVER = 0.3
TURNOVER_DECAY_PER_YEAR = 4.0
MIN_TURNOVER = 0.02
_PRICE_DECIMALS = 2
_TICK_EPSILON = 1e-9


@dataclass(frozen=True)
class OptionSpec:
    """How one underlying's options are listed and quoted in the simulation."""

    vol_multiplier: float
    near_step: float
    far_step: float
    small_tick: float
    large_tick: float
    tick_threshold: float
    max_display_size: int
    open_interest_scale: float


def atm_vol(vix: float, t: ArrayLike, vol_multiplier: float) -> Floats:
    """ATM vol by maturity: 30-day variance = (VIX/100)^2 reverting to LONG_RUN_VOL^2 with T."""
    tt = np.maximum(np.asarray(t, dtype=np.float64), 1e-6)
    k = TERM_REVERSION_PER_YEAR
    weight = -np.expm1(-k * tt) / (k * tt) / (-np.expm1(-k * VIX_HORIZON_YEARS) / (k * VIX_HORIZON_YEARS))
    variance = LONG_RUN_VOL**2 + ((vix / 100.0) ** 2 - LONG_RUN_VOL**2) * weight
    return vol_multiplier * np.sqrt(np.maximum(variance, VOL_BOUNDS[0] ** 2))


def smile_vol(atm: ArrayLike, t: ArrayLike, log_moneyness: ArrayLike) -> Floats:
    """Vol at log-forward-moneyness ln(K/F): put skew plus smile in standardized moneyness."""
    m = standardized_moneyness(atm, t, log_moneyness)
    ratio = np.clip(1.0 + SKEW * m + CURVE * m * m, *SMILE_RATIO_BOUNDS)
    return np.clip(np.asarray(atm) * ratio, *VOL_BOUNDS)


def standardized_moneyness(atm: ArrayLike, t: ArrayLike, log_moneyness: ArrayLike) -> Floats:
    """ln(K/F) in units of the ATM standard deviation to expiry."""
    return np.asarray(log_moneyness) / (np.asarray(atm) * np.sqrt(np.maximum(t, 1e-6)))


def strike_grid(spot: float, atm: float, t: float, spec: OptionSpec) -> Floats:
    """Listed strikes: fine steps near the money, coarse steps out to ~FAR_SD standard deviations."""
    sd = atm * np.sqrt(t)
    near = min(max(NEAR_SD * sd, NEAR_MIN_LOG), NEAR_MAX_LOG)
    far = min(max(FAR_SD * sd, FAR_MIN_LOG), FAR_MAX_LOG)
    fine = _steps(spot * np.exp(-near), spot * np.exp(near), spec.near_step)
    far_step = spec.far_step * (LONG_DATED_STEP_MULTIPLIER if t > LONG_DATED_YEARS else 1.0)
    coarse = _steps(spot * np.exp(-far), spot * np.exp(far), far_step)
    return np.union1d(fine, coarse)


def _steps(low: float, high: float, step: float) -> Floats:
    first = max(np.ceil(low / step), 1.0)
    return np.arange(first, np.floor(high / step) + 1.0) * step


def bid_ask(theo: Floats, std_moneyness: Floats, t: Floats, spec: OptionSpec) -> tuple[Floats, Floats]:
    """Bid and ask on the tick grid around `theo`: never negative, never crossed, wider in wings."""
    widening = (1.0 + WING_SPREAD_PER_SD * np.abs(std_moneyness)) * (1.0 + MATURITY_SPREAD_PER_YEAR * t)
    half = 0.5 * (MIN_SPREAD_TICKS * spec.small_tick + RELATIVE_SPREAD * theo) * widening
    bid = np.maximum(_floor_to_tick(theo - half, spec), 0.0)
    ask = _ceil_to_tick(theo + half, spec)
    worthless = theo < spec.small_tick
    bid = np.where(worthless, 0.0, bid)
    ask = np.where(worthless, spec.small_tick, ask)
    return np.round(bid, _PRICE_DECIMALS), np.round(ask, _PRICE_DECIMALS)


def tick_size(price: Floats, spec: OptionSpec) -> Floats:
    """Minimum price increment at a price level (SPX: 0.05 below $3, 0.10 above)."""
    return np.where(price >= spec.tick_threshold, spec.large_tick, spec.small_tick)


def _floor_to_tick(price: Floats, spec: OptionSpec) -> Floats:
    return np.floor(price / tick_size(price, spec) + _TICK_EPSILON) * tick_size(price, spec)


def _ceil_to_tick(price: Floats, spec: OptionSpec) -> Floats:
    fine = np.ceil(price / spec.small_tick - _TICK_EPSILON) * spec.small_tick
    coarse = np.ceil(price / spec.large_tick - _TICK_EPSILON) * spec.large_tick
    return np.where(fine > spec.tick_threshold, coarse, fine)


def hash_uniform(*keys: ArrayLike) -> Floats:
    """Uniforms in [0, 1) from integer keys by splitmix64: stable per contract, no RNG state."""
    mixed = np.zeros(np.broadcast_shapes(*(np.shape(k) for k in keys)), dtype=np.uint64)
    for key in keys:
        mixed = _splitmix64(mixed ^ np.asarray(key).astype(np.int64).astype(np.uint64))
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = np.atleast_1d(x) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def open_interest(
    std_moneyness: Floats, t: Floats, strike: Floats, spec: OptionSpec, noise: Floats
) -> NDArray[np.int64]:
    """Open interest: concentrated near the money, at round strikes and in nearer expirations."""
    shape = np.exp(-0.5 * (std_moneyness / OI_DECAY_SD) ** 2) / (1.0 + t)
    round_strike = np.isclose(np.mod(strike, spec.far_step), 0.0)
    boost = np.where(round_strike, ROUND_STRIKE_OI_BOOST, 1.0)
    return np.floor(spec.open_interest_scale * shape * boost * (0.3 + 1.4 * noise)).astype(np.int64)


def session_volume(
    oi: NDArray[np.int64], t: Floats, session_progress: float, noise: Floats
) -> NDArray[np.int64]:
    """Contracts traded so far in the session: a share of open interest, heavier in short maturities."""
    turnover = DAILY_TURNOVER * np.exp(-TURNOVER_DECAY_PER_YEAR * t) + MIN_TURNOVER
    return np.floor(oi * turnover * (0.5 + noise) * session_progress).astype(np.int64)


def display_sizes(std_moneyness: Floats, spec: OptionSpec, noise: Floats) -> NDArray[np.int64]:
    """Quoted size: larger near the money, at least one contract."""
    closeness = np.exp(-0.5 * (std_moneyness / SIZE_DECAY_SD) ** 2)
    return 1 + np.floor(spec.max_display_size * closeness * noise).astype(np.int64)
