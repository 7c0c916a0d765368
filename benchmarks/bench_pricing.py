"""Benchmark the pricing core: European implied vol against per-option vollib and QuantLib loops, the
compiled kernel's import and compile costs, the American model against QuantLib's FD engine, and whole
American chains through shared boundary tables against the exact per-option solve.

Run: `.venv/bin/python benchmarks/bench_pricing.py [--n 100000] [--repeats 3] [--seed 20261121]`.
Every contender runs in the same process on the same inputs; timings are best of `--repeats`.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import QuantLib as ql
from vollib.black_scholes_merton import black_scholes_merton
from vollib.black_scholes_merton.implied_volatility import implied_volatility

from trading_pipeline.core.american import (
    american_chain,
    american_implied_vol,
    american_price,
    american_sensitivities,
)
from trading_pipeline.core.pricing import bsm_price, implied_vol

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the tests' QuantLib reference is imported from the repo root
from trading_pipeline_tests.quantlib_reference import COARSE_GRID, FINE_GRID, fd_american  # noqa: E402

PRICE_TOLERANCE = 1e-8  # relative
TARGET_VS_VOLLIB = 100.0
TARGET_VS_QUANTLIB = 10.0
TARGET_FLOOR_MULTIPLE = 3.0
AMERICAN_TOLERANCE = 1e-3  # absolute, per share
AMERICAN_SPOT = 400.0
AMERICAN_MONEYNESS = (0.8, 1.0, 1.25, 1.6)  # strike / spot; puts deep in the money at 1.6
AMERICAN_DAYS = (30, 365, 730)
AMERICAN_VOLS = (0.15, 0.5)
AMERICAN_CARRY = ((0.05, 0.0), (0.05, 0.03), (0.01, 0.04))  # (rate, dividend yield)
CHAIN_DAYS = (2, 9, 30, 45, 60, 120, 365, 700)  # a chain's expirations
CHAIN_CARRY = (0.04, 0.015)  # one (rate, dividend yield) for the whole chain


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


def _rows(prices: np.ndarray, x: dict[str, np.ndarray]) -> zip[tuple[float, ...]]:
    """Per-option rows as Python floats (the fastest way to feed a per-option loop)."""
    columns = (prices, x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], x["is_call"])
    return zip(*(c.tolist() for c in columns), strict=True)


def vollib_prices(x: dict[str, np.ndarray]) -> np.ndarray:
    """Per-option loop over vollib's BSM price."""
    return np.array(
        [
            black_scholes_merton("c" if c else "p", s, k, t, r, v, q)
            for _, s, k, t, r, q, c, v in (
                (*row, v) for row, v in zip(_rows(x["vol"], x), x["vol"].tolist(), strict=True)
            )
        ]
    )


def vollib_ivs(prices: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """Per-option loop over vollib's implied volatility (NaN where vollib raises)."""
    out = []
    for p, s, k, t, r, q, c in _rows(prices, x):
        try:
            out.append(implied_volatility(p, s, k, t, r, q, "c" if c else "p"))
        except Exception:  # vollib signals unsolvable prices with exceptions
            out.append(math.nan)
    return np.array(out)


def quantlib_ivs(prices: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """Per-option loop over QuantLib's blackFormulaImpliedStdDev (forward and discount per option)."""
    call, put, solve = ql.Option.Call, ql.Option.Put, ql.blackFormulaImpliedStdDev
    out = []
    for p, s, k, t, r, q, c in _rows(prices, x):
        try:
            std_dev = solve(call if c else put, k, s * math.exp((r - q) * t), p, math.exp(-r * t))
            out.append(std_dev / math.sqrt(t))
        except RuntimeError:  # QuantLib signals unsolvable prices with exceptions
            out.append(math.nan)
    return np.array(out)


def ours_prices(x: dict[str, np.ndarray]) -> np.ndarray:
    """Our vectorized price for the whole array (numpy)."""
    return bsm_price(x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], x["vol"], x["is_call"])


def ours_ivs(prices: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """Our compiled implied vol for the whole array."""
    return implied_vol(prices, x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], x["is_call"])


def relative_price_error(ivs: np.ndarray, prices: np.ndarray, x: dict[str, np.ndarray]) -> float:
    """Max |BSM(solved vol) - price| / price over the solved options with a positive price."""
    repriced = bsm_price(x["spot"], x["strike"], x["t"], x["rate"], x["div_yield"], ivs, x["is_call"])
    solved = np.isfinite(ivs) & (prices > 0)
    return float(np.max(np.abs(repriced - prices)[solved] / prices[solved]))


def identifiable(prices: np.ndarray, x: dict[str, np.ndarray]) -> np.ndarray:
    """Options whose time value is more than 1e-9 of their price (below that it is lost to rounding)."""
    disc_s = x["spot"] * np.exp(-x["div_yield"] * x["t"])
    disc_k = x["strike"] * np.exp(-x["rate"] * x["t"])
    intrinsic = np.maximum(np.where(x["is_call"], disc_s - disc_k, disc_k - disc_s), 0.0)
    return prices - intrinsic > 1e-9 * prices


def kernel_costs() -> dict[str, float]:
    """Seconds to import the compiled modules, and to the first IV with a cold and with a warm cache."""
    script = (
        "import time; t0 = time.perf_counter(); import trading_pipeline.core.american; "
        "t1 = time.perf_counter(); "
        "from trading_pipeline.core.valuation import value_chain; "
        "value_chain([5.0, 12.0], 100.0, [100.0, 110.0], 0.5, 0.04, 0.01, False, [False, True]); "
        "print(t1 - t0, time.perf_counter() - t1)"
    )
    with tempfile.TemporaryDirectory() as cache_dir:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
        runs = [
            subprocess.run(
                [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
            )
            for _ in range(2)
        ]
    (import_cold, first_cold), (import_warm, first_warm) = (map(float, r.stdout.split()) for r in runs)
    numba_import = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time, numpy, scipy.special; t = time.perf_counter(); import numba;"
            "print(time.perf_counter() - t)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        "import numba alone": float(numba_import.stdout),
        "import core.american + core.iv_kernel (warm cache)": import_warm,
        "first value_chain call, cold cache (compiles)": first_cold,
        "first value_chain call, warm cache (loads)": first_warm,
        "import, cold cache": import_cold,
    }


def american_accuracy() -> tuple[
    np.ndarray, np.ndarray, list[tuple[float, float, int, float, float, float, bool]]
]:
    """Our American prices and QuantLib's extrapolated FD prices on the acceptance grid."""
    grid = [
        (AMERICAN_SPOT, AMERICAN_SPOT * m, d, r, q, v, c)
        for m, d, v, (r, q), c in itertools.product(
            AMERICAN_MONEYNESS, AMERICAN_DAYS, AMERICAN_VOLS, AMERICAN_CARRY, (False, True)
        )
    ]
    reference = np.array([fd_american(*case).price for case in grid])
    s, k, days, r, q, v, c = (np.array(column) for column in zip(*grid, strict=True))
    return american_price(s, k, days / 365.0, r, q, v, c), reference, grid


def main() -> None:
    """Time every contender, print the figures and ratios, and check the targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261121)
    parser.add_argument("--american-n", type=int, default=2_000)
    args = parser.parse_args()
    x = realistic_inputs(args.n, args.seed)

    prices = ours_prices(x)
    price_err = float(np.max(np.abs(prices - vollib_prices(x))))
    ours_ivs(prices[:10], {k: v[:10] for k, v in x.items()})  # load the compiled kernel before timing
    ivs = {"ours": ours_ivs(prices, x), "vollib": vollib_ivs(prices, x), "QuantLib": quantlib_ivs(prices, x)}

    t_price_vollib = best_of(args.repeats, lambda: vollib_prices(x))
    t_price = best_of(args.repeats, lambda: ours_prices(x))
    t_iv = {
        "ours": best_of(args.repeats, lambda: ours_ivs(prices, x)),
        "vollib": best_of(args.repeats, lambda: vollib_ivs(prices, x)),
        "QuantLib": best_of(args.repeats, lambda: quantlib_ivs(prices, x)),
    }

    print(
        f"python {platform.python_version()} on {platform.machine()}, numpy {np.__version__}, "
        f"numba {numba.__version__}, QuantLib {ql.__version__}, {os.cpu_count()} cores"
    )
    print(f"N = {args.n} options, seed {args.seed}, best of {args.repeats} repeats, single-threaded")
    print(
        f"price: vollib loop {t_price_vollib * 1e3:.1f} ms, bsm_price {t_price * 1e3:.2f} ms "
        f"({t_price_vollib / t_price:.0f}x), max |price - vollib| {price_err:.1e}"
    )
    known = identifiable(prices, x)
    print(f"{int(known.sum())} options have a time value above 1e-9 of their price (identifiable IV)")
    header = f"{'time':>12}{'ours is':>10}{'max rel price err':>20}{'NaN':>7}{'of identifiable':>17}"
    print(f"{'implied vol':14}{header}")
    for name in ("vollib", "QuantLib", "ours"):
        ratio = t_iv[name] / t_iv["ours"]
        err = relative_price_error(ivs[name], prices, x)
        unsolved, missed = int(np.isnan(ivs[name]).sum()), int((np.isnan(ivs[name]) & known).sum())
        print(f"{name:14}{t_iv[name] * 1e3:9.1f} ms{ratio:9.1f}x{err:20.1e}{unsolved:7d}{missed:17d}")
    floor = t_iv["ours"] / t_price
    vs_vollib, vs_quantlib = t_iv["vollib"] / t_iv["ours"], t_iv["QuantLib"] / t_iv["ours"]
    accurate = relative_price_error(ivs["ours"], prices, x) <= PRICE_TOLERANCE
    print(f"IV cost = {floor:.1f} x one vectorized price evaluation (target <= {TARGET_FLOOR_MULTIPLE:g}x)")
    for label, value, target in (
        ("vs vollib", vs_vollib, TARGET_VS_VOLLIB),
        ("vs QuantLib", vs_quantlib, TARGET_VS_QUANTLIB),
    ):
        verdict = "MET" if value >= target and accurate else "NOT MET"
        print(
            f"target >= {target:g}x {label} at {PRICE_TOLERANCE:g} relative price error: {verdict} ", end=""
        )
        print(f"({value:.1f}x)")

    print("compiled kernel costs (separate interpreters):")
    for label, seconds in kernel_costs().items():
        print(f"  {label:52}{seconds:7.2f} s")

    rng = np.random.default_rng(args.seed)
    n = args.american_n
    spot = rng.uniform(20.0, 600.0, n)
    strike = spot * np.exp(rng.uniform(-0.4, 0.4, n))
    t = np.exp(rng.uniform(np.log(2.0 / 365), np.log(2.0), n))
    rate, div, vol = rng.uniform(0.0, 0.06, n), rng.uniform(0.0, 0.03, n), rng.uniform(0.08, 0.9, n)
    is_call = rng.random(n) < 0.5
    am_prices = american_price(spot, strike, t, rate, div, vol, is_call)
    t_am_price = best_of(args.repeats, lambda: american_price(spot, strike, t, rate, div, vol, is_call))
    t_am_iv = best_of(1, lambda: american_implied_vol(am_prices, spot, strike, t, rate, div, is_call))
    t_am_sens = best_of(1, lambda: american_sensitivities(spot, strike, t, rate, div, vol, is_call))
    am_ivs = american_implied_vol(am_prices, spot, strike, t, rate, div, is_call)
    solved = np.isfinite(am_ivs)
    repriced = american_price(spot, strike, t, rate, div, am_ivs, is_call)
    am_iv_err = float(np.max(np.abs(repriced - am_prices)[solved] / am_prices[solved]))
    print(
        f"American, {n} random options: price {t_am_price / n * 1e6:.0f} us, implied vol "
        f"{t_am_iv / n * 1e6:.0f} us, price+delta+gamma+theta+vega {t_am_sens / n * 1e6:.0f} us per option; "
        f"IV max rel price err {am_iv_err:.1e}, unsolved {int((~solved).sum())} (no time value left)"
    )

    chain_strike = AMERICAN_SPOT * np.exp(rng.uniform(-0.4, 0.3, n))
    chain_t = rng.choice(np.array(CHAIN_DAYS) / 365.0, n)
    chain_vol, chain_call = rng.uniform(0.1, 0.8, n), rng.random(n) < 0.5
    chain_args = (AMERICAN_SPOT, chain_strike, chain_t, *CHAIN_CARRY)
    chain_prices = american_price(*chain_args, chain_vol, chain_call)

    def exact_chain() -> None:
        ivs = american_implied_vol(chain_prices, *chain_args, chain_call)
        american_sensitivities(*chain_args, ivs, chain_call)

    american_chain(
        chain_prices[:4], AMERICAN_SPOT, chain_strike[:4], chain_t[:4], *CHAIN_CARRY, chain_call[:4]
    )
    t_chain = best_of(args.repeats, lambda: american_chain(chain_prices, *chain_args, chain_call))
    t_exact = best_of(1, exact_chain)
    chain_ivs = american_chain(chain_prices, *chain_args, chain_call)[0]
    solved = np.isfinite(chain_ivs)
    chain_err = np.abs(american_price(*chain_args, chain_ivs, chain_call) - chain_prices)[solved]
    print(
        f"American chain, {n} options at spot {AMERICAN_SPOT:g} on {len(CHAIN_DAYS)} expirations, r, q = "
        f"{CHAIN_CARRY}: american_chain (IV + greeks) {t_chain / n * 1e6:.0f} us per option, exact "
        f"{t_exact / n * 1e6:.0f} us ({t_exact / t_chain:.0f}x); exact price at the chain's IV within "
        f"{chain_err.max():.1e} per share of the price"
    )

    start = time.perf_counter()
    ours, reference, grid = american_accuracy()
    elapsed = time.perf_counter() - start
    err = np.abs(ours - reference)
    worst = grid[int(np.argmax(err))]
    deep_puts = np.array([case[1] >= 1.6 * case[0] and not case[6] for case in grid])
    print(
        f"American vs QuantLib FdBlackScholesVanillaEngine, Richardson of {COARSE_GRID} and {FINE_GRID} "
        f"(time steps, space points), {len(grid)} options at spot {AMERICAN_SPOT:g} ({elapsed:.0f} s):"
    )
    print(
        f"  max |ours - reference| {err.max():.1e} per share (deep ITM puts {err[deep_puts].max():.1e}), "
        f"median {np.median(err):.1e}; worst {worst}"
    )
    verdict = "MET" if err.max() <= AMERICAN_TOLERANCE else "NOT MET"
    print(f"target |error| <= {AMERICAN_TOLERANCE:g} per share: {verdict}")


if __name__ == "__main__":
    main()
