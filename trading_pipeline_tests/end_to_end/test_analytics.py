"""Analytics after a session: the ledger snapshot feeds dbt, daily P&L has the session's row, and dbt
writes its artifacts and logs under the data directory, never into the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from trading_pipeline.defs.analytics.assets import DBT_PROJECT_DIR
from trading_pipeline.runner import QUIET
from trading_pipeline_tests.pipeline_harness import ENTRY_SESSION, MORNING, make_harness, materialized

DBT_MODELS = {
    "stg_positions",
    "stg_fills",
    "stg_position_marks",
    "stg_stale_marks",
    "daily_pnl",
    "trades",
    "strategy_performance",
}


def _query(database: Path, sql: str) -> list[tuple]:
    """Run one query on the analytics file and close it (a held DuckDB connection blocks dbt)."""
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _files(directory: Path) -> set[tuple[str, int]]:
    """Every file under `directory` with its modification time: new and rewritten files both show."""
    return {(str(path.relative_to(directory)), path.stat().st_mtime_ns) for path in directory.rglob("*")}


@dataclass(frozen=True)
class AnalyticsRun:
    """One session run followed by one analytics run, on temporary paths."""

    result: dg.ExecuteInProcessResult
    analytics_db: Path
    data_dir: Path
    dbt_project_files_before: set[tuple[str, int]]
    fees_paid: Decimal  # every cost of the session's fills, from the ledger


@pytest.fixture(scope="module")
def analytics_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsRun]:
    """The session's analytics run, once for the module (a session run and dbt build take ~8 s)."""
    tmp_path = tmp_path_factory.mktemp("analytics")
    harness = make_harness(tmp_path)
    data_dir = tmp_path / "data"
    analytics_db = tmp_path / "analytics.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TRADING_DATA_DIR", str(data_dir))
        monkeypatch.setenv("TRADING_ANALYTICS_DB", str(analytics_db))
        monkeypatch.setenv("TRADING_SNAPSHOT_DIR", str(harness.snapshot_dir))
        monkeypatch.setenv("DO_NOT_TRACK", "1")
        before = _files(DBT_PROJECT_DIR)
        assert harness.run_session(ENTRY_SESSION, MORNING).success
        result = (
            harness.definitions()
            .resolve_job_def("analytics_job")
            .execute_in_process(
                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET
            )
        )
        ledger = harness.with_ledger()
        fees = sum((fill.commission for fill in ledger.fills()), Decimal(0))
        ledger.dispose()
        yield AnalyticsRun(result, analytics_db, data_dir, before, fees)


def test_analytics_after_a_session_run_builds_daily_pnl_for_the_session(analytics_run: AnalyticsRun) -> None:
    analytics = analytics_run.result

    assert analytics.success
    assert materialized(analytics) == DBT_MODELS
    dbt_tests = analytics.get_asset_check_evaluations()
    assert dbt_tests, "dbt tests surface as asset checks"
    assert [e.check_name for e in dbt_tests if not e.passed] == []
    daily = _query(
        analytics_run.analytics_db, "select session, fees, unrealized_pnl, cumulative_pnl from daily_pnl"
    )
    assert [row[0] for row in daily] == [ENTRY_SESSION]
    _, fees, unrealized, cumulative = daily[0]
    assert fees == analytics_run.fees_paid > Decimal("2.00")  # 2 contracts x 1.00 per contract + SEC fee
    assert cumulative == unrealized - fees
    trades = _query(analytics_run.analytics_db, "select strategy, status, opened_session from trades")
    assert trades == [("short_strangle", "OPEN", ENTRY_SESSION)]


def test_dbt_build_writes_artifacts_and_logs_under_the_data_dir_not_the_source_tree(
    analytics_run: AnalyticsRun,
) -> None:
    artifacts = analytics_run.data_dir / "dbt"

    assert analytics_run.result.success
    assert _files(DBT_PROJECT_DIR) == analytics_run.dbt_project_files_before
    assert (artifacts / "target" / "build" / "run_results.json").is_file()
    assert (artifacts / "logs" / "dbt.log").is_file()


def test_first_import_parses_the_dbt_manifest_under_the_data_dir_not_the_source_tree(tmp_path: Path) -> None:
    before = _files(DBT_PROJECT_DIR)
    env = {**os.environ, "TRADING_DATA_DIR": str(tmp_path / "data"), "DO_NOT_TRACK": "1"}

    printed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from trading_pipeline.defs.analytics.assets import dbt_project as p; print(p.manifest_path)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout

    manifest = Path(printed.splitlines()[-1])  # after dbt's own output
    assert manifest.is_file()
    assert manifest.is_relative_to(tmp_path / "data" / "dbt" / "target")
    assert list((tmp_path / "data" / "dbt" / "logs").glob("dbt.log"))
    assert _files(DBT_PROJECT_DIR) == before
