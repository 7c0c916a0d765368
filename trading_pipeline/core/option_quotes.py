"""Quotes around a theoretical price: bid/ask on the tick grid, displayed sizes, open interest and volume.

Pure and vectorized; per-contract quantities are hashed from integer keys (no RNG state), so a contract
shows the same open interest all day and the same size within a minute, whatever else is asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]

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
PRICE_DECIMALS = 2
_TICK_EPSILON = 1e-9


@dataclass(frozen=True)
class QuoteRules:
    """How one underlying's options are quoted: ticks (small below `tick_threshold`), sizes and open interest;
    `round_strike` is the spacing whose multiples draw extra open interest."""

    small_tick: float
    large_tick: float
    tick_threshold: float
    max_display_size: int
    open_interest_scale: float
    round_strike: float


QUOTE_RULES: dict[str, QuoteRules] = {
    "SPY": QuoteRules(0.01, 0.01, 0.0, 500, 20_000.0, 5.0),
    "QQQ": QuoteRules(0.01, 0.01, 0.0, 300, 12_000.0, 5.0),
    "IWM": QuoteRules(0.01, 0.01, 0.0, 300, 10_000.0, 5.0),
    "SPX": QuoteRules(0.05, 0.10, 3.0, 100, 8_000.0, 25.0),
}
DEFAULT_QUOTE_RULES = QuoteRules(0.01, 0.01, 0.0, 100, 2_000.0, 5.0)


def bid_ask(theo: Floats, std_moneyness: Floats, t: Floats, rules: QuoteRules) -> tuple[Floats, Floats]:
    """Bid and ask on the tick grid around `theo`: never negative, never crossed, wider in wings."""
    widening = (1.0 + WING_SPREAD_PER_SD * np.abs(std_moneyness)) * (1.0 + MATURITY_SPREAD_PER_YEAR * t)
    half = 0.5 * (MIN_SPREAD_TICKS * rules.small_tick + RELATIVE_SPREAD * theo) * widening
    bid = np.maximum(_floor_to_tick(theo - half, rules), 0.0)
    ask = _ceil_to_tick(theo + half, rules)
    worthless = theo < rules.small_tick
    bid = np.where(worthless, 0.0, bid)
    ask = np.where(worthless, rules.small_tick, ask)
    return np.round(bid, PRICE_DECIMALS), np.round(ask, PRICE_DECIMALS)


def tick_size(price: ArrayLike, rules: QuoteRules) -> Floats:
    """Minimum price increment at a price level (SPX: 0.05 below $3, 0.10 above)."""
    return np.where(np.asarray(price) >= rules.tick_threshold, rules.large_tick, rules.small_tick)


def _floor_to_tick(price: Floats, rules: QuoteRules) -> Floats:
    return np.floor(price / tick_size(price, rules) + _TICK_EPSILON) * tick_size(price, rules)


def _ceil_to_tick(price: Floats, rules: QuoteRules) -> Floats:
    fine = np.ceil(price / rules.small_tick - _TICK_EPSILON) * rules.small_tick
    coarse = np.ceil(price / rules.large_tick - _TICK_EPSILON) * rules.large_tick
    return np.where(fine > rules.tick_threshold, coarse, fine)


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
    std_moneyness: Floats, t: Floats, strike: Floats, rules: QuoteRules, noise: Floats
) -> NDArray[np.int64]:
    """Open interest: concentrated near the money, at round strikes and in nearer expirations."""
    shape = np.exp(-0.5 * (std_moneyness / OI_DECAY_SD) ** 2) / (1.0 + t)
    round_strike = np.isclose(np.mod(strike, rules.round_strike), 0.0)
    boost = np.where(round_strike, ROUND_STRIKE_OI_BOOST, 1.0)
    return np.floor(rules.open_interest_scale * shape * boost * (0.3 + 1.4 * noise)).astype(np.int64)


def session_volume(
    oi: NDArray[np.int64], t: Floats, session_progress: float, noise: Floats
) -> NDArray[np.int64]:
    """Contracts traded so far in the session: a share of open interest, heavier in short maturities."""
    turnover = DAILY_TURNOVER * np.exp(-TURNOVER_DECAY_PER_YEAR * t) + MIN_TURNOVER
    return np.floor(oi * turnover * (0.5 + noise) * session_progress).astype(np.int64)


def display_sizes(std_moneyness: Floats, rules: QuoteRules, noise: Floats) -> NDArray[np.int64]:
    """Quoted size: larger near the money, at least one contract."""
    closeness = np.exp(-0.5 * (std_moneyness / SIZE_DECAY_SD) ** 2)
    return 1 + np.floor(rules.max_display_size * closeness * noise).astype(np.int64)
