"""Benchmark every indicator and realized-vol estimator over the 2005-2022 SPY, QQQ and IWM daily history.

Run: `.venv/bin/python benchmarks/bench_indicators.py [--repeats 3]`. Bars are read from
$TRADING_MARKET_DATA_DIR/daily (default /work/shared/data/market); loading is not timed.
Timings are best of `--repeats`, per symbol and for all three together; the budget is 2 s in total.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from trading_pipeline.core.indicators import adx, atr, bollinger_bands, ema, macd, rsi, sma
from trading_pipeline.core.realized import (
    close_to_close_vol,
    garman_klass_vol,
    parkinson_vol,
    yang_zhang_vol,
)

SYMBOLS = ("SPY", "QQQ", "IWM")
BUDGET_SECONDS = 2.0


def load_bars(data_dir: Path, symbol: str) -> pd.DataFrame:
    """Daily OHLC bars of `symbol` from 2005 through 2022."""
    frame = pd.read_csv(data_dir / "daily" / f"{symbol}.csv", parse_dates=["Date"], index_col="Date")
    return frame.loc["2005":"2022", ["Open", "High", "Low", "Close"]]


def compute_all(bars: pd.DataFrame) -> list[pd.Series | pd.DataFrame]:
    """Every indicator and estimator at its default window over `bars`."""
    o, h, lo, c = bars["Open"], bars["High"], bars["Low"], bars["Close"]
    return [
        sma(c, 20),
        ema(c, 20),
        rsi(c),
        macd(c),
        bollinger_bands(c),
        atr(h, lo, c),
        adx(h, lo, c),
        close_to_close_vol(c),
        parkinson_vol(h, lo),
        garman_klass_vol(o, h, lo, c),
        yang_zhang_vol(o, h, lo, c),
    ]


def best_of(repeats: int, bars: pd.DataFrame) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        compute_all(bars)
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(os.environ.get("TRADING_MARKET_DATA_DIR", "/work/shared/data/market"))
    histories = {symbol: load_bars(data_dir, symbol) for symbol in SYMBOLS}
    start = time.perf_counter()
    compute_all(histories["SPY"])  # the first call pays pandas' one-off set-up; reported, not counted
    print(f"first call (cold, SPY): {(time.perf_counter() - start) * 1000:.1f} ms")

    for symbol, bars in histories.items():
        seconds = best_of(args.repeats, bars)
        print(f"{symbol}: {len(bars)} bars, {seconds * 1000:.1f} ms (best of {args.repeats})")
    totals = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for bars in histories.values():
            compute_all(bars)
        totals.append(time.perf_counter() - start)
    total = min(totals)
    verdict = "within" if total < BUDGET_SECONDS else "OVER"
    print(
        f"total: {total * 1000:.1f} ms for {len(SYMBOLS)} symbols (best of {args.repeats}), {verdict} budget"
    )


if __name__ == "__main__":
    main()
