"""Time the Dagster UI's cold start and the first `trading_session_job` run launched through it.

Run from the repo root: `.venv/bin/python -m benchmarks.ui_first_run [--session 2025-12-01] [--timeout 600]`.
Starts `dagster dev -w workspace.yaml` on a fresh DAGSTER_HOME and data directory (a temporary
directory, removed afterwards), waits for /server_info, launches one session partition through the
GraphQL `launchRun` mutation (the run goes through the QueuedRunCoordinator and the daemon, as from
the UI) and polls it to SUCCESS/FAILURE. The first run of a fresh data directory also bootstraps the
implied-vol history (251 sessions), so it is the slowest run an operator sees.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from datetime import date
from pathlib import Path

from trading_pipeline_tests.deployment.dagster_dev import dagster_dev

JOB_NAME = "trading_session_job"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--session", type=date.fromisoformat, default=date(2025, 12, 1))
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ui_first_run_") as workdir, dagster_dev(Path(workdir)) as ui:
        print(f"python {platform.python_version()}, {platform.machine()}, session {args.session}")
        print(f"seconds to /server_info: {ui.seconds_to_server_info:.1f}")
        outcome = ui.launch_partition_run(JOB_NAME, args.session.isoformat(), timeout=args.timeout)
        print(f"seconds for the first {JOB_NAME} run (launch to finish): {outcome.seconds:.1f}")
        if outcome.execution_seconds is not None:
            print(f"  of which the run executing (Dagster start to end): {outcome.execution_seconds:.1f}")
        print(f"run {outcome.run_id}: {outcome.status}")
    return 0 if outcome.status == "SUCCESS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
