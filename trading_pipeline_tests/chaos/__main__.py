"""`python -m trading_pipeline_tests.chaos`: run the chaos scenarios, print trials and violations per backend.

Sizes come from CHAOS_* variables (see settings.py); PostgreSQL is TEST_POSTGRES_URL's server.
Exits 1 when any invariant was violated.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from trading_pipeline_tests.chaos.scenarios import ChaosSuite, Scenario, ScenarioReport, render_table
from trading_pipeline_tests.chaos.settings import ChaosSettings
from trading_pipeline_tests.chaos.workers import WorkerPool
from trading_pipeline_tests.chaos.worlds import Backend, TrialWorlds
from trading_pipeline_tests.conftest import DEFAULT_POSTGRES_URL


def _run_backend(suite: ChaosSuite, backend: Backend, args: argparse.Namespace) -> list[ScenarioReport]:
    if backend is Backend.SQLITE:
        return _run_scenarios(suite, suite.sqlite_worlds(), args)
    url = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        return _run_scenarios(suite, suite.postgres_worlds(admin), args)
    finally:
        admin.dispose()


def _run_scenarios(suite: ChaosSuite, worlds: TrialWorlds, args: argparse.Namespace) -> list[ScenarioReport]:
    reports = []
    try:
        for scenario in args.scenario:
            reports.append(suite.run(scenario, worlds))
            print(reports[-1].render(every_trial=args.trials), flush=True)
    finally:
        worlds.close()
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trading_pipeline_tests.chaos", description=__doc__)
    parser.add_argument("--backend", action="append", choices=list(Backend), type=Backend)
    parser.add_argument("--scenario", action="append", choices=list(Scenario), type=Scenario)
    parser.add_argument("--trials", action="store_true", help="print every trial, not only violations")
    args = parser.parse_args(argv)
    args.backend, args.scenario = args.backend or list(Backend), args.scenario or list(Scenario)
    settings = ChaosSettings()
    print(f"chaos settings: {settings!r}", flush=True)
    reports = []
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp, WorkerPool() as pool:
        suite = ChaosSuite(pool, settings, Path(tmp), planned_runs=len(args.backend) * len(args.scenario))
        for backend in args.backend:
            reports += _run_backend(suite, backend, args)
    print(render_table(reports))
    return 1 if any(report.violations for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
