"""Tick isolation: two ticks of one session never read each other's outputs (run-scoped IO)."""

from __future__ import annotations

import pickle
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from trading_pipeline.defs.io_manager import MissingRunOutputError, RunScopedIOManager
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.runner import QUIET
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    SESSION_JOB,
    decision_time,
    make_harness,
)


def _chain_quote_times(run_outputs: Path, run_id: str) -> set[pd.Timestamp]:
    with (run_outputs / run_id / "option_chains.pickle").open("rb") as handle:
        return set(pickle.load(handle)["quote_time"])


def test_the_afternoon_tick_leaves_the_morning_ticks_chain_untouched(tmp_path: Path) -> None:
    # Arrange
    harness = make_harness(tmp_path)
    morning = harness.run_session(ENTRY_SESSION, MORNING)

    # Act
    afternoon = harness.run_session(ENTRY_SESSION, AFTERNOON)

    # Assert: each run's chain is the one quoted at its own decision time
    run_outputs = tmp_path / "run_outputs"
    assert morning.success and afternoon.success
    assert _chain_quote_times(run_outputs, morning.run_id) == {
        pd.Timestamp(decision_time(ENTRY_SESSION, MORNING))
    }
    assert _chain_quote_times(run_outputs, afternoon.run_id) == {
        pd.Timestamp(decision_time(ENTRY_SESSION, AFTERNOON))
    }


def test_a_run_of_one_asset_refuses_to_read_another_ticks_upstream_value(tmp_path: Path) -> None:
    # Arrange: the morning tick stored its candidates' inputs
    harness = make_harness(tmp_path)
    instance = dg.DagsterInstance.ephemeral()
    job = harness.definitions().resolve_job_def(SESSION_JOB)
    tags = {DECISION_TIME_TAG: decision_time(ENTRY_SESSION, MORNING).isoformat()}
    job.execute_in_process(
        partition_key=ENTRY_SESSION.isoformat(), instance=instance, tags=tags, run_config=QUIET
    )

    # Act: the afternoon materializes trade_candidates alone
    afternoon = job.execute_in_process(
        partition_key=ENTRY_SESSION.isoformat(),
        instance=instance,
        tags={DECISION_TIME_TAG: decision_time(ENTRY_SESSION, AFTERNOON).isoformat()},
        run_config=QUIET,
        asset_selection=[dg.AssetKey("trade_candidates")],
        raise_on_error=False,
    )

    # Assert
    assert not afternoon.success
    [failure] = afternoon.get_step_failure_events()
    assert "was not produced in run" in str(failure.event_specific_data)


def test_io_manager_writes_atomically_and_names_a_missing_value(tmp_path: Path) -> None:
    manager = RunScopedIOManager(base_dir=str(tmp_path))
    key = dg.AssetKey("option_chains")

    manager.handle_output(dg.build_output_context(asset_key=key, run_id="run-1"), {"rows": 3})

    assert list((tmp_path / "run-1").iterdir()) == [tmp_path / "run-1" / "option_chains.pickle"]
    loaded = manager.load_input(
        dg.build_input_context(
            asset_key=key, upstream_output=dg.build_output_context(asset_key=key, run_id="run-1")
        )
    )
    assert loaded == {"rows": 3}
    missing = dg.build_input_context(
        asset_key=key, upstream_output=dg.build_output_context(asset_key=key, run_id="run-2")
    )
    with pytest.raises(MissingRunOutputError, match="option_chains was not produced in run run-2"):
        manager.load_input(missing)
