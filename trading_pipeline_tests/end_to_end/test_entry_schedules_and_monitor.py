"""A strategy's entry schedule enters that strategy only; the monitor marks and exits, never enters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.core.calendar import ET
from trading_pipeline.core.positions import Position
from trading_pipeline.defs.jobs import ENTRY_ASSETS, MONITOR_ASSETS
from trading_pipeline.defs.partitions import STRATEGIES_TAG
from trading_pipeline.defs.schedules import ENTRY_SCHEDULES
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    asset_metadata,
    make_harness,
    materialized,
    packaged_strategies,
)

#: The seed-7 regime of ENTRY_SESSION permits every packaged strategy (test_multi_strategy_session.py).
STRATEGY = "credit_spread"
DECISION_TIMES = {"decision_times_et": [MORNING.strftime("%H:%M"), AFTERNOON.strftime("%H:%M")]}
#: A DTE window under which the spread's time exit fires at once (exit_dte 49 over a ~40 DTE entry).
EXIT_BY_DTE = {"dte_min": 50, "dte_target": 50, "dte_max": 50, "exit_dte": 49}
MONITOR_AT = time(11, 0)


@dataclass(frozen=True)
class Runs:
    request: dg.RunRequest
    entry: dg.ExecuteInProcessResult
    opened: list[Position]
    monitor: dg.ExecuteInProcessResult
    after_monitor: list[Position]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The spread's entry schedule at ENTRY_SESSION 10:00 with every strategy enabled, then a monitor run at
    11:00 under a configuration whose DTE exit closes the spread."""
    workdir = Path(tmp_path_factory.mktemp("entry_schedule"))
    harness = make_harness(workdir, strategies=packaged_strategies(), sessions=DECISION_TIMES)
    (schedule,) = [s for s in ENTRY_SCHEDULES if s.name == f"entry_schedule_{STRATEGY}"]
    tick = datetime.combine(ENTRY_SESSION, MORNING, tzinfo=ET)
    request = schedule(dg.build_schedule_context(scheduled_execution_time=tick))
    assert isinstance(request, dg.RunRequest)
    entry = harness.run_session(ENTRY_SESSION, MORNING, tags=request.tags)
    opened = harness.every_position()
    exiting = {
        name: {**section, **(EXIT_BY_DTE if name == STRATEGY else {})}
        for name, section in packaged_strategies().items()
    }
    exit_harness = make_harness(workdir, strategies=exiting, sessions=DECISION_TIMES)
    monitor = exit_harness.run_session(ENTRY_SESSION, MONITOR_AT, job="position_monitor_job")
    return Runs(request, entry, opened, monitor, exit_harness.every_position())


def test_entry_schedule_run_carries_its_strategy_tag(runs: Runs) -> None:
    assert runs.request.tags[STRATEGIES_TAG] == STRATEGY
    assert runs.entry.dagster_run.tags[STRATEGIES_TAG] == STRATEGY


def test_entry_schedule_run_proposes_and_enters_only_its_strategy(runs: Runs) -> None:
    # Assert: every strategy is enabled and permitted, yet only the tagged one proposed and entered
    metadata = asset_metadata(runs.entry, "trade_candidates")
    assert runs.entry.success
    assert metadata["strategies"] == [STRATEGY]
    assert {key for key in metadata if key.startswith("candidates_")} == {f"candidates_{STRATEGY}"}
    assert [p.strategy for p in runs.opened] == [STRATEGY]


def test_monitor_run_materializes_marks_exits_and_sync_and_no_entry_asset(runs: Runs) -> None:
    assert runs.monitor.success
    assert materialized(runs.monitor) == set(MONITOR_ASSETS)
    assert not materialized(runs.monitor) & set(ENTRY_ASSETS)


def test_monitor_run_marks_and_exits_the_open_position_without_entering(runs: Runs) -> None:
    # Assert
    assert asset_metadata(runs.monitor, "position_marks")["marked_positions"] == 1
    assert asset_metadata(runs.monitor, "exit_orders")["exits"] == 1
    assert [p.position_id for p in runs.after_monitor] == [p.position_id for p in runs.opened]
    assert [p.quantity for p in runs.after_monitor] == [0]
