"""A session with every packaged strategy on: spreads and condors flow through to positions and exits."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.core.instruments import Right, Side
from trading_pipeline.core.positions import Position, PositionStatus
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    asset_metadata,
    check_evaluations,
    make_harness,
    packaged_strategies,
)

#: The seed-7 regime of ENTRY_SESSION is range_calm: it permits all four; the spread sells puts there.
STRATEGIES = {"short_strangle", "credit_spread", "iron_condor", "zero_dte"}
#: The packaged decision times: 0DTE enters only when a later tick (15:30) runs its time stop.
DECISION_TIMES = {"decision_times_et": [MORNING.strftime("%H:%M"), AFTERNOON.strftime("%H:%M")]}
#: DTE windows under which the afternoon tick time-exits every dated strategy (the config requires
#: exit_dte < dte_min); 0DTE has no DTE window: its own time stop closes it at 15:30.
EXIT_BY_DTE = {"dte_min": 50, "dte_target": 50, "dte_max": 50, "exit_dte": 49}


@dataclass(frozen=True)
class MultiRun:
    harness: PipelineHarness
    entry: dg.ExecuteInProcessResult
    exit: dg.ExecuteInProcessResult
    opened: list[Position]
    after_exit: list[Position]


@pytest.fixture(scope="module")
def multi_run(tmp_path_factory: pytest.TempPathFactory) -> MultiRun:
    """ENTRY_SESSION's morning tick with every strategy on, then its afternoon tick, where a time exit
    (exit_dte 49) fires for every dated position and the time stop for the same-day one."""
    workdir = Path(tmp_path_factory.mktemp("multi_strategy"))
    harness = make_harness(workdir, strategies=packaged_strategies(), sessions=DECISION_TIMES)
    entry = harness.run_session(ENTRY_SESSION, MORNING)
    opened = harness.every_position()
    exiting = {
        name: {**section, **(EXIT_BY_DTE if "exit_dte" in section else {})}
        for name, section in packaged_strategies().items()
    }
    exit_harness = make_harness(workdir, strategies=exiting, sessions=DECISION_TIMES)
    exit_result = exit_harness.run_session(ENTRY_SESSION, AFTERNOON)
    return MultiRun(harness, entry, exit_result, opened, exit_harness.every_position())


def test_every_strategy_the_regime_permits_proposes_and_enters_once(multi_run: MultiRun) -> None:
    # Assert: all checks pass (the candidate check judges spreads and condors by their own rules)
    assert multi_run.entry.success
    assert {n for n, e in check_evaluations(multi_run.entry).items() if not e.passed} == set()
    metadata = asset_metadata(multi_run.entry, "trade_candidates")
    assert {name: metadata[f"candidates_{name}"] for name in STRATEGIES} == dict.fromkeys(STRATEGIES, 1)
    assert Counter(p.strategy for p in multi_run.opened) == Counter(STRATEGIES)


def test_spreads_and_condors_open_with_their_bought_wings(multi_run: MultiRun) -> None:
    # Arrange
    by_strategy = {p.strategy: p for p in multi_run.opened}

    # Assert: legs as the broker filled them, sold inside, bought outside
    spread = by_strategy["credit_spread"]
    assert [(leg.side, leg.contract.right) for leg in spread.legs] == [
        (Side.SELL, Right.PUT),
        (Side.BUY, Right.PUT),
    ]
    assert spread.legs[1].contract.strike < spread.legs[0].contract.strike
    condor = by_strategy["iron_condor"]
    assert [leg.side for leg in condor.legs] == [Side.SELL, Side.BUY, Side.SELL, Side.BUY]
    put_wing, short_put, short_call, call_wing = sorted(leg.contract.strike for leg in condor.legs)
    assert put_wing < short_put < short_call < call_wing
    assert all(p.entry_value < 0 for p in multi_run.opened)  # every one opened for a credit


def test_each_position_exits_by_its_own_strategys_rules(multi_run: MultiRun) -> None:
    # Assert: the afternoon tick closes all four, each once: the dated ones by DTE, the same-day one by clock
    assert multi_run.exit.success
    assert Counter(p.strategy for p in multi_run.after_exit if p.status is PositionStatus.CLOSED) == Counter(
        STRATEGIES
    )
    reasons = asset_metadata(multi_run.exit, "exit_orders")["reasons"]
    strategy_of = {p.position_id: p.strategy for p in multi_run.opened}
    by_strategy = {strategy_of[position_id]: reason for position_id, reason in reasons.items()}
    assert by_strategy["zero_dte"].startswith("time stop: 15:30 ET is at or after 15:30 ET")
    assert all(by_strategy[name].startswith("time exit: ") for name in STRATEGIES - {"zero_dte"})


def test_the_same_day_position_opens_on_the_sessions_own_expiration(multi_run: MultiRun) -> None:
    # Assert: 0DTE legs expire on the entry session itself; the dated strategies' do not
    by_strategy = {p.strategy: p for p in multi_run.opened}
    assert {leg.contract.expiration for leg in by_strategy["zero_dte"].legs} == {ENTRY_SESSION}
    assert all(
        leg.contract.expiration > ENTRY_SESSION
        for name in STRATEGIES - {"zero_dte"}
        for leg in by_strategy[name].legs
    )
