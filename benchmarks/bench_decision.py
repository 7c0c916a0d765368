"""Benchmark one tick's decisions in-process: three underlyings' full simulated chains, every strategy on
each, from the enriched chains to approved order intents (scan, assessment, risk review, intents).

Run: `.venv/bin/python benchmarks/bench_decision.py [--repeats 20]`. Building and enriching the chains is
not part of the timed figure; it is timed once as the reference the ratio is taken against (the same
machine, the same run). Target: the decision under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from datetime import date
from datetime import time as clock
from decimal import Decimal

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.simulated import SimulatedMarket
from trading_pipeline.core.calendar import at_et, decision_times
from trading_pipeline.core.chain import enrich_chain, normalize_chain
from trading_pipeline.core.decision import decide_tick
from trading_pipeline.core.regime import RegimeName, RegimeParams
from trading_pipeline.core.regime_history import classify_regime
from trading_pipeline.core.risk import PortfolioState
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.registry import REGISTRY
from trading_pipeline.settings import load_config

UNDERLYINGS = ("SPY", "QQQ", "IWM")
SESSION = date(2025, 10, 6)
BUDGET_MS = 50.0


def chains(now: pd.Timestamp) -> pd.DataFrame:
    """Every listed contract of the three underlyings within the packaged chain window, enriched."""
    market, window = SimulatedMarket(seed=7), load_config().data_quality
    frames = [
        normalize_chain(market.option_chain(u, now, window.chain_min_dte, window.chain_max_dte))
        for u in UNDERLYINGS
    ]
    return enrich_chain(
        pd.concat(frames, ignore_index=True), now, {u: market.carry(u, now) for u in UNDERLYINGS}
    )


def strategies() -> list:
    """Every packaged strategy once per underlying, with its packaged parameters."""
    sections = load_config().strategies.sections()
    return [
        REGISTRY[name](params.model_copy(update={"underlying": u, "enabled": True}))
        for name, params in sections.items()
        for u in UNDERLYINGS
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    config = load_config()
    now = at_et(SESSION, clock(10, 0))
    started = time.perf_counter()
    chain = chains(now)
    reference_ms = (time.perf_counter() - started) * 1000
    closes = pd.Series(np.linspace(90.0, 100.0, 220), index=pd.bdate_range("2024-08-01", periods=220))
    regime = replace(
        classify_regime(closes, vix=16.0, iv_rank=None, params=RegimeParams()),
        name=RegimeName.RANGE_CALM,
        permissions=frozenset(REGISTRY),
    )
    context = StrategyContext(
        now=now,
        chains=chain,
        iv_ranks=dict.fromkeys(UNDERLYINGS, 55.0),
        regime=regime,
        limit_fraction=config.execution.limit_fraction_of_half_spread,
        decision_times=tuple(decision_times(SESSION, list(config.sessions.decision_times_et))),
    )
    plugins = strategies()
    limits = config.risk.model_copy(update={"max_entries_per_session_per_strategy": 5})
    state = PortfolioState(equity=Decimal("100000"), buying_power_used=Decimal("0"))
    timings, result = [], None
    for _ in range(args.repeats):
        started = time.perf_counter()
        result = decide_tick(plugins, context, state, limits, config.scanner.top_n, SESSION)
        timings.append((time.perf_counter() - started) * 1000)
    assert result is not None
    median = statistics.median(timings)
    counts = chain.groupby("underlying").size().to_dict()
    print(f"contracts: {len(chain):,} ({', '.join(f'{u} {n:,}' for u, n in counts.items())})")
    print(f"strategies: {len(plugins)} ({len(plugins) // len(UNDERLYINGS)} per underlying)")
    proposed = sum(len(o.candidates) for o in result.scan.outcomes)
    approved = sum(v.approved for v in result.verdicts)
    kept, intents = len(result.scan.kept), len(result.entries)
    print(f"candidates: {proposed} proposed, {kept} kept, {approved} approved -> {intents} intents")
    print(
        f"decision (chains -> intents): median {median:.1f} ms, best {min(timings):.1f} ms of {args.repeats}"
    )
    ratio = median / reference_ms
    print(
        f"reference (building and enriching the chains once): {reference_ms:,.0f} ms; decision = {ratio:.3f}x"
    )
    print(f"budget {BUDGET_MS:.0f} ms: {'met' if median < BUDGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
