"""Pruning Dagster history: old finished runs go with their outputs; runs in progress are never touched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from trading_pipeline.defs.retention import prune_dagster_history

RETAIN = timedelta(days=30)


@dg.asset
def tick_output() -> int:
    """A trivial asset, so a run has real events (a materialization) to delete."""
    return 1


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def _run(
    instance: dg.DagsterInstance, status: dg.DagsterRunStatus, parent: dg.DagsterRun | None = None
) -> str:
    """A stored run in `status` (a re-execution of `parent` when given)."""
    root = None if parent is None else parent.root_run_id or parent.run_id
    run = dg.DagsterRun(
        job_name="trading_session_job",
        status=status,
        parent_run_id=None if parent is None else parent.run_id,
        root_run_id=root,
    )
    instance.add_run(run)
    return run.run_id


def _outputs(run_outputs_dir: Path, run_id: str) -> Path:
    """The run-scoped output directory of `run_id`, holding one pickled output."""
    directory = run_outputs_dir / run_id
    directory.mkdir(parents=True)
    (directory / "tick_output.pickle").write_bytes(b"output")
    return directory


def _after_the_last_update(instance: dg.DagsterInstance, run_ids: list[str], plus: timedelta) -> datetime:
    """A `now` that lies `plus` after the latest status change of `run_ids`."""
    records = [instance.get_run_record_by_id(run_id) for run_id in run_ids]
    return max(record.update_timestamp for record in records if record is not None) + plus


def test_prune_deletes_old_finished_runs_with_their_events_and_outputs(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    succeeded = dg.materialize([tick_output], instance=instance).run_id
    failed = _run(instance, dg.DagsterRunStatus.FAILURE)
    canceled = _run(instance, dg.DagsterRunStatus.CANCELED)
    run_ids = [succeeded, failed, canceled]
    directories = [_outputs(tmp_path, run_id) for run_id in run_ids]
    now = _after_the_last_update(instance, run_ids, RETAIN + timedelta(seconds=1))

    report = prune_dagster_history(instance, older_than=RETAIN, now=now, run_outputs_dir=tmp_path)

    assert sorted(report.deleted_run_ids) == sorted(run_ids)
    assert sorted(report.removed_output_dirs) == sorted(directories)
    assert [instance.get_run_by_id(run_id) for run_id in run_ids] == [None, None, None]
    assert instance.all_logs(succeeded) == []
    assert not any(directory.exists() for directory in directories)


def test_prune_keeps_finished_runs_newer_than_the_cutoff(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    recent = _run(instance, dg.DagsterRunStatus.SUCCESS)
    directory = _outputs(tmp_path, recent)
    now = _after_the_last_update(instance, [recent], RETAIN - timedelta(seconds=1))

    report = prune_dagster_history(instance, older_than=RETAIN, now=now, run_outputs_dir=tmp_path)

    assert report.deleted_run_ids == ()
    assert instance.get_run_by_id(recent) is not None
    assert directory.exists()


@pytest.mark.parametrize(
    "status",
    [
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ],
)
def test_prune_never_touches_runs_in_progress(
    instance: dg.DagsterInstance, tmp_path: Path, status: dg.DagsterRunStatus
) -> None:
    in_progress = _run(instance, status)
    directory = _outputs(tmp_path, in_progress)
    now = _after_the_last_update(instance, [in_progress], RETAIN * 10)

    report = prune_dagster_history(instance, older_than=RETAIN, now=now, run_outputs_dir=tmp_path)

    assert report.deleted_run_ids == ()
    assert instance.get_run_by_id(in_progress) is not None
    assert directory.exists()


def test_prune_keeps_every_run_of_a_group_whose_reexecution_is_in_progress(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    root_id = _run(instance, dg.DagsterRunStatus.FAILURE)
    root = instance.get_run_by_id(root_id)
    assert root is not None
    first_retry_id = _run(instance, dg.DagsterRunStatus.FAILURE, parent=root)
    first_retry = instance.get_run_by_id(first_retry_id)
    assert first_retry is not None
    _run(instance, dg.DagsterRunStatus.STARTED, parent=first_retry)
    unrelated = _run(instance, dg.DagsterRunStatus.FAILURE)
    directories = {run_id: _outputs(tmp_path, run_id) for run_id in (root_id, first_retry_id)}
    now = _after_the_last_update(instance, [root_id, first_retry_id, unrelated], RETAIN * 10)

    report = prune_dagster_history(instance, older_than=RETAIN, now=now, run_outputs_dir=tmp_path)

    assert report.deleted_run_ids == (unrelated,)
    assert all(directory.exists() for directory in directories.values())


def test_prune_of_a_run_without_outputs_deletes_the_run(instance: dg.DagsterInstance, tmp_path: Path) -> None:
    finished = _run(instance, dg.DagsterRunStatus.SUCCESS)
    now = _after_the_last_update(instance, [finished], RETAIN * 2)

    report = prune_dagster_history(instance, older_than=RETAIN, now=now, run_outputs_dir=tmp_path / "none")

    assert report.deleted_run_ids == (finished,)
    assert report.removed_output_dirs == ()


def test_prune_with_now_east_of_utc_keeps_a_run_newer_than_the_cutoff(
    instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    recent = _run(instance, dg.DagsterRunStatus.SUCCESS)
    utc_now = _after_the_last_update(instance, [recent], RETAIN - timedelta(minutes=1))
    tokyo_now = utc_now.astimezone(ZoneInfo("Asia/Tokyo"))

    report = prune_dagster_history(instance, older_than=RETAIN, now=tokyo_now, run_outputs_dir=tmp_path)

    assert report.deleted_run_ids == ()
    assert report.cutoff == utc_now - RETAIN


@pytest.mark.parametrize(
    ("older_than", "now", "message"),
    [
        (RETAIN, datetime(2026, 1, 1), "now must be timezone-aware, got datetime.datetime(2026, 1, 1, 0, 0)"),
        (-RETAIN, datetime(2026, 1, 1, tzinfo=UTC), "older_than must not be negative, got -30 days"),
    ],
)
def test_prune_with_naive_now_or_negative_age_raises_naming_the_value(
    instance: dg.DagsterInstance, tmp_path: Path, older_than: timedelta, now: datetime, message: str
) -> None:
    finished = _run(instance, dg.DagsterRunStatus.SUCCESS)

    with pytest.raises(ValueError, match=re.escape(message)):
        prune_dagster_history(instance, older_than=older_than, now=now, run_outputs_dir=tmp_path)

    assert instance.get_run_by_id(finished) is not None


def test_prune_on_a_sqlite_instance_removes_the_runs_event_log_file_and_compute_logs(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "home")) as local:
        run_id = dg.materialize([tick_output], instance=local).run_id
        event_log_file = tmp_path / "home" / "history" / "runs" / f"{run_id}.db"
        compute_logs = tmp_path / "home" / "storage" / run_id
        assert event_log_file.is_file() and compute_logs.is_dir()
        now = _after_the_last_update(local, [run_id], RETAIN * 2)

        report = prune_dagster_history(
            local, older_than=RETAIN, now=now, run_outputs_dir=tmp_path / "outputs"
        )

        assert report.deleted_run_ids == (run_id,)
        assert not event_log_file.exists()
        assert not compute_logs.exists()
