"""Time trading ticks launched through Dagster's own webserver and daemon, trigger to orders in the ledger.

Run from the repo root: `.venv/bin/python -m benchmarks.bench_daemon_ticks [--ticks 20]`. Starts `dagster
dev` on a fresh DAGSTER_HOME and data directory (removed afterwards), warms the data with one session run,
then launches `--ticks` session ticks (10:00 and 15:30 ET of consecutive sessions) and as many position
monitor ticks (one a minute from 10:01 of the last session), each through GraphQL `launchRun`, so each goes
through the QueuedRunCoordinator, the daemon and a run process, as a schedule's or the sensor's would. A
tick's time is launch to the run's end (its orders are in the ledger by then); the reference, in the same
process on the same machine, is the run's own execution (Dagster's start to end): the rest is queueing,
the daemon's dequeue and the run process's start-up. Targets: session tick p50 under 5 s, monitor tick p50
under 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

from trading_pipeline.core.calendar import at_et, sessions_between
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline_tests.deployment.dagster_dev import RunOutcome, dagster_dev

SESSION_TARGET_SECONDS, MONITOR_TARGET_SECONDS = 5.0, 3.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def report(label: str, outcomes: list[RunOutcome], target: float) -> None:
    totals = [o.seconds for o in outcomes]
    executing = [o.execution_seconds for o in outcomes if o.execution_seconds is not None]
    failed = [o.run_id for o in outcomes if o.status != "SUCCESS"]
    p50, p95 = statistics.median(totals), percentile(totals, 0.95)
    run_p50 = statistics.median(executing) if executing else float("nan")
    print(
        f"{label}: {len(outcomes)} runs, launch to end p50 {p50:.1f} s, p95 {p95:.1f} s; the run itself p50"
        f" {run_p50:.1f} s (ratio {p50 / run_p50:.1f}x); target p50 < {target:.0f} s:"
        f" {'met' if p50 < target else 'MISSED'}; failed runs: {failed or 'none'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--first-session", type=date.fromisoformat, default=date(2025, 11, 3))
    args = parser.parse_args()
    sessions = sessions_between(args.first_session, args.first_session + timedelta(days=60))
    ticks = [at_et(s, t) for s in sessions for t in (clock(10, 0), clock(15, 30))][: args.ticks]
    with tempfile.TemporaryDirectory(prefix="bench_daemon_") as workdir, dagster_dev(Path(workdir)) as ui:
        print(f"seconds to /server_info: {ui.seconds_to_server_info:.1f}")
        warm = ui.launch_partition_run(
            "trading_session_job",
            sessions[0].isoformat(),
            timeout=900,
            tags={DECISION_TIME_TAG: at_et(sessions[0], clock(9, 45)).isoformat()},
        )
        print(f"warm-up session run: {warm.seconds:.1f} s ({warm.status})")
        session_runs = [
            ui.launch_partition_run(
                "trading_session_job", tick.date().isoformat(), tags={DECISION_TIME_TAG: tick.isoformat()}
            )
            for tick in ticks
        ]
        last = ticks[-1].date()
        minutes = [at_et(last, clock(10, 1)) + timedelta(minutes=i) for i in range(args.ticks)]
        monitor_runs = [
            ui.launch_partition_run(
                "position_monitor_job", last.isoformat(), tags={DECISION_TIME_TAG: minute.isoformat()}
            )
            for minute in minutes
        ]
    report("session ticks", session_runs, SESSION_TARGET_SECONDS)
    report("monitor ticks", monitor_runs, MONITOR_TARGET_SECONDS)
    return 0 if all(o.status == "SUCCESS" for o in session_runs + monitor_runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
