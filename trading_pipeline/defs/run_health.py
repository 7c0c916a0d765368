"""Dead runs: a run whose process was killed (SIGKILL, OOM) stays STARTED; mark it FAILED instead.

Runs started by the CLI carry the host and process id that execute them; Dagster's own run monitoring
(dagster.yaml) covers the runs the daemon launches.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

#: Run tags naming the host and the process that execute an in-process run.
HOST_TAG = "trading/host"
PID_TAG = "trading/pid"
#: Statuses of a run whose process should still be alive.
RUNNING_STATUSES = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


def process_tags() -> dict[str, str]:
    """Tags that let a later sweep tell whether the process executing a run still exists."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def mark_dead_runs_failed(instance: dg.DagsterInstance) -> list[str]:
    """Mark FAILED every STARTING/STARTED run of this host whose process is gone; one message per run."""
    host = socket.gethostname()
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=RUNNING_STATUSES, tags={HOST_TAG: host}))
    messages = []
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        message = f"run {run.run_id} marked FAILED: its process {pid} on {host} is no longer alive"
        instance.report_run_failed(run, message)
        messages.append(message)
    return messages
