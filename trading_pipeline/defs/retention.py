"""Retention of Dagster history: finished runs older than a cutoff go, with everything kept per run.

Schedule and sensor ticks are purged by the daemons (`retention` in dagster.yaml); the ledger is never
pruned. docs/operations.md holds the policy.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

#: Statuses of a run that has ended; every other status may still change (or still read outputs).
FINISHED_STATUSES = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
UNFINISHED_STATUSES = tuple(status for status in dg.DagsterRunStatus if status not in FINISHED_STATUSES)


@dataclass(frozen=True)
class PruneReport:
    """What one prune did: the cutoff (UTC), the runs deleted and the run-output directories removed."""

    cutoff: datetime
    deleted_run_ids: tuple[str, ...]
    removed_output_dirs: tuple[Path, ...]


def _run_group(run: dg.DagsterRun) -> str:
    """A run and its re-executions share the id of the first run of the chain."""
    return run.root_run_id or run.run_id


def _remove_event_log_file(instance: dg.DagsterInstance, run_id: str) -> None:
    """Dagster's SQLite event log keeps one file per run (~130 KB) that delete_run empties but leaves."""
    storage = instance.event_log_storage
    if isinstance(storage, SqliteEventLogStorage):
        shard = storage.path_for_shard(run_id)
        for path in (shard, f"{shard}-wal", f"{shard}-shm"):
            Path(path).unlink(missing_ok=True)


def prune_dagster_history(
    instance: dg.DagsterInstance, older_than: timedelta, now: datetime, run_outputs_dir: Path
) -> PruneReport:
    """Delete the finished runs last updated before `now - older_than`, with what each run keeps.

    A deleted run loses its record, event log (its SQLite file too), compute logs and
    `<run_outputs_dir>/<run_id>/`. Runs in progress are never touched, nor any run of a group whose
    re-execution is in progress (it may read outputs of any earlier run of the group).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    if older_than < timedelta(0):
        raise ValueError(f"older_than must not be negative, got {older_than}")
    cutoff = (now - older_than).astimezone(UTC)  # Dagster drops the zone and compares with UTC times
    busy_groups = {
        _run_group(run)
        for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(UNFINISHED_STATUSES)))
    }
    old_runs = instance.get_runs(
        filters=dg.RunsFilter(statuses=list(FINISHED_STATUSES), updated_before=cutoff)
    )
    deleted: list[str] = []
    removed: list[Path] = []
    for run in old_runs:
        if _run_group(run) in busy_groups:
            continue
        # Files first: a failure here leaves the run listed, so the next prune retries it.
        outputs = run_outputs_dir / run.run_id
        if outputs.is_dir():
            shutil.rmtree(outputs)
            removed.append(outputs)
        instance.compute_log_manager.delete_logs(prefix=[run.run_id])
        instance.delete_run(run.run_id)
        _remove_event_log_file(instance, run.run_id)
        deleted.append(run.run_id)
    return PruneReport(cutoff=cutoff, deleted_run_ids=tuple(deleted), removed_output_dirs=tuple(removed))
