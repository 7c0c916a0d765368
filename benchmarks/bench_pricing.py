"""Benchmark vectorized BSM pricing and implied vol against a per-option `vollib` loop.

Run: `.venv/bin/python benchmarks/bench_pricing.py [--n 10000] [--repeats 5] [--seed 20261121]`.
Both sides run in the same process on the same inputs; timings are best of `--repeats`.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable

import numpy as np
from vollib.black_scholes_merton import black_scholes_merton
from vollib.black_scholes_merton.implied_volatility import implied_volatility

from trading_pipeline.core.pricing import bsm_price, implied_vol

ROADMAP_SPEEDUP = 50.0
PRICE_TOLERANCE = 1e-8


def realistic_inputs(n: int, seed: int) -> dict[str, np.ndarray]:
    """Seeded chain-like inputs: strikes within +-30% of spot, 1 day to 2 years, vols 8%-90%."""
    rng = np.random.default_rng(seed)
    spot = rng.uniform(20.0, 600.0, n)
    return {
        "spot": spot,
        "strike": np.round(spot * rng.uniform(0.7, 1.3, n), 1),
        "t": np.exp(rng.uniform(np.log(1.0 / 365.0), np.log(2.0), n)),
        "rate": rng.uniform(0.0, 0.06, n),
        "div_yield": rng.uniform(0.0, 0.03, n),
        "vol": rng.uniform(0.08, 0.9, n),
        "is_call": rng.random(n) < 0.5,
    }


def best_of(repeats: int, func: Callable[[], object]) -> float:
    """Best wall time of `repeats` calls, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def vollib_prices(x: dict[str, np.ndarray]) -> np.ndarray:
    """Per-option loop over vollib's BSM price."""
    flags = np.where(x["is_call"], "c", "p")
    return np.array(
        [
            black_scholes_merton(f, s, k, t, r, v, q)
            for f, s, k, t, r, v, q in zip(
                flags,
                x["spot"],
                x["strike"],
                x["t"],
                x["rate"],
                x["vol"],
                x["div_yield"],
                strict=True,
            )
        ]
    )


def vollib_ivs(prices: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """Per-option loop over vollib's implied volatility (NaN where vollib raises)."""
    flags = np.where(x["is_call"], "c", "p")
    out = np.empty_like(prices)
    rows = zip(prices, x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], flags, strict=True)
    for i, (p, s, k, t, r, q, f) in enumerate(rows):
        try:
            out[i] = implied_volatility(p, s, k, t, r, q, f)
        except Exception:  # vollib signals unsolvable prices with exceptions
            out[i] = np.nan
    return out


def ours_prices(x: dict[str, np.ndarray]) -> np.ndarray:
    """Our vectorized price for the whole array."""
    return bsm_price(x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], x["vol"], x["is_call"])


def ours_ivs(prices: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """Our vectorized implied vol for the whole array."""
    return implied_vol(prices, x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], x["is_call"])


def price_space_error(ivs: np.ndarray, prices: np.ndarray, x: dict[str, np.ndarray]) -> float:
    """Max |BSM(solved vol) - input price| over the solved options."""
    repriced = bsm_price(x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], ivs, x["is_call"])
    return float(np.nanmax(np.abs(repriced - prices)))


def main() -> None:
    """Time both implementations, print figures and ratios, and check accuracy."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()
    x = realistic_inputs(args.n, args.seed)

    ref_prices = vollib_prices(x)
    our_prices = ours_prices(x)
    price_err = float(np.max(np.abs(our_prices - ref_prices)))
    ref_ivs = vollib_ivs(ref_prices, x)
    our_ivs = ours_ivs(ref_prices, x)
    our_iv_err = price_space_error(our_ivs, ref_prices, x)
    ref_iv_err = price_space_error(ref_ivs, ref_prices, x)

    t_price_ref = best_of(args.repeats, lambda: vollib_prices(x))
    t_price_ours = best_of(args.repeats, lambda: ours_prices(x))
    t_iv_ref = best_of(args.repeats, lambda: vollib_ivs(ref_prices, x))
    t_iv_ours = best_of(args.repeats, lambda: ours_ivs(ref_prices, x))

    print(f"python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}")
    print(f"N = {args.n} options, seed {args.seed}, best of {args.repeats} repeats")
    print(f"{'':12}{'vollib loop':>14}{'vectorized':>14}{'speedup':>10}")
    for name, ref, ours in (("price", t_price_ref, t_price_ours), ("implied vol", t_iv_ref, t_iv_ours)):
        print(f"{name:12}{ref * 1e3:11.2f} ms{ours * 1e3:11.2f} ms{ref / ours:9.1f}x")
    print(f"max |price - vollib price|             = {price_err:.2e}")
    print(f"max IV round-trip price error (ours)   = {our_iv_err:.2e}")
    print(f"max IV round-trip price error (vollib) = {ref_iv_err:.2e}")
    print(f"unsolved (NaN): ours {int(np.isnan(our_ivs).sum())}, vollib {int(np.isnan(ref_ivs).sum())}")
    worst = min(t_price_ref / t_price_ours, t_iv_ref / t_iv_ours)
    accurate = max(price_err, our_iv_err) <= PRICE_TOLERANCE
    meets = worst >= ROADMAP_SPEEDUP and accurate
    print(
        f"roadmap target (>= {ROADMAP_SPEEDUP:.0f}x at {PRICE_TOLERANCE:g} price accuracy): "
        f"{'MET' if meets else 'NOT MET'} (worst speedup {worst:.1f}x)"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
