"""The CLI's in-process runs honour the execution lane the daemon's run queue enforces (one at a time)."""

from __future__ import annotations

import threading

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from trading_pipeline.defs.partitions import EXECUTION_LANE_TAG
from trading_pipeline.runner import ExecutionLaneBusyError, wait_for_execution_lane

LANE = {EXECUTION_LANE_TAG: "execution"}
JOB = "trading_session_job"
#: Where a queued run would be launched from (Dagster requires one for QUEUED runs).
ORIGIN = RemoteJobOrigin(
    repository_origin=RemoteRepositoryOrigin(
        code_location_origin=InProcessCodeLocationOrigin(
            LoadableTargetOrigin(module_name="trading_pipeline.definitions")
        ),
        repository_name="__repository__",
    ),
    job_name=JOB,
)


def add_run(instance: dg.DagsterInstance, status: dg.DagsterRunStatus, tags: dict[str, str]) -> dg.DagsterRun:
    run = dg.DagsterRun(job_name=JOB, status=status, tags=tags, remote_job_origin=ORIGIN)
    return instance.add_run(run)


def test_wait_returns_at_once_when_lane_runs_are_only_queued_or_finished() -> None:
    # Arrange
    instance = dg.DagsterInstance.ephemeral()
    add_run(instance, dg.DagsterRunStatus.QUEUED, LANE)
    add_run(instance, dg.DagsterRunStatus.SUCCESS, LANE)
    add_run(instance, dg.DagsterRunStatus.STARTED, {})  # not in the lane

    # Act / Assert (no error, no wait)
    wait_for_execution_lane(instance, timeout_seconds=0)


@pytest.mark.parametrize(
    "status",
    [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING],
)
def test_wait_times_out_naming_the_run_that_holds_the_lane(status: dg.DagsterRunStatus) -> None:
    # Arrange
    instance = dg.DagsterInstance.ephemeral()
    holder = add_run(instance, status, LANE)

    # Act / Assert
    with pytest.raises(ExecutionLaneBusyError) as error:
        wait_for_execution_lane(instance, timeout_seconds=0.2, poll_seconds=0.05)
    message = str(error.value)
    assert message.startswith("execution lane (trading/lane=execution) still held after 0.2 s by run ")
    assert holder.run_id in message and status.value in message
    assert "\n" not in message


def test_wait_says_it_waits_and_resumes_when_the_holding_run_finishes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange
    instance = dg.DagsterInstance.ephemeral()
    holder = add_run(instance, dg.DagsterRunStatus.STARTED, LANE)
    finisher = threading.Timer(0.3, instance.report_run_failed, args=(holder,))
    finisher.start()

    # Act
    wait_for_execution_lane(instance, timeout_seconds=30, poll_seconds=0.05)

    # Assert
    finisher.join()
    assert instance.get_run_by_id(holder.run_id).status is dg.DagsterRunStatus.FAILURE
    assert f"waiting up to 30 s for run {holder.run_id}" in capsys.readouterr().err
