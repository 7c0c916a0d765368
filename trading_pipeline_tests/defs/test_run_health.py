"""Dead runs: a run whose process was SIGKILLed is marked FAILED; runs of live processes are left alone."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.defs.run_health import HOST_TAG, PID_TAG, mark_dead_runs_failed, process_tags
from trading_pipeline_tests.defs.hanging_run import STARTED

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A persistent instance (in tmp_path) that another process can write to."""
    with dg.DagsterInstance.local_temp(str(tmp_path)) as persistent:
        yield persistent


def run_of_a_killed_process(instance_dir: Path) -> tuple[str, int]:
    """Start a run in a child process and SIGKILL the child once the run is STARTED: (run id, dead pid)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "trading_pipeline_tests.defs.hanging_run", str(instance_dir)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert line.startswith(STARTED), f"the child did not start its run: {line!r}"
    return line.split()[-1], child.pid


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def add_started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run = dg.DagsterRun(job_name="trading_session_job", status=dg.DagsterRunStatus.STARTED, tags=tags)
    return instance.add_run(run).run_id


def test_run_of_a_sigkilled_process_is_marked_failed_naming_the_dead_pid(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    # Arrange
    run_id, pid = run_of_a_killed_process(tmp_path)
    assert instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED

    # Act
    messages = mark_dead_runs_failed(instance)

    # Assert
    run = instance.get_run_by_id(run_id)
    assert run.status is dg.DagsterRunStatus.FAILURE
    assert messages == [
        f"run {run_id} marked FAILED: its process {pid} on {socket.gethostname()} is no longer alive"
    ]
    failure = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    assert f"process {pid}" in failure[0].event_log_entry.dagster_event.message


def test_run_of_a_live_process_is_left_running(instance: dg.DagsterInstance) -> None:
    # Arrange: this test's own process
    run_id = add_started_run(instance, process_tags())

    # Act
    messages = mark_dead_runs_failed(instance)

    # Assert
    assert messages == []
    assert instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED


def test_run_of_another_host_is_left_alone(instance: dg.DagsterInstance) -> None:
    # Arrange: a pid that is gone here, but on a host whose processes this one cannot see
    run_id = add_started_run(instance, {HOST_TAG: "another-host", PID_TAG: str(dead_pid())})

    # Act
    mark_dead_runs_failed(instance)

    # Assert
    assert instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED


def test_run_without_process_tags_is_left_to_dagster_run_monitoring(instance: dg.DagsterInstance) -> None:
    # Arrange: a run the daemon launched
    run_id = add_started_run(instance, {})

    # Act
    mark_dead_runs_failed(instance)

    # Assert
    assert instance.get_run_by_id(run_id).status is dg.DagsterRunStatus.STARTED
