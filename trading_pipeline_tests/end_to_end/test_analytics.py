"""Analytics after a session: the ledger snapshot feeds dbt, and daily P&L has the session's row."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from trading_pipeline.runner import QUIET
from trading_pipeline_tests.pipeline_harness import ENTRY_SESSION, MORNING, make_harness, materialized

DBT_MODELS = {
    "stg_positions",
    "stg_fills",
    "stg_position_marks",
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


def test_analytics_after_a_session_run_builds_daily_pnl_for_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = make_harness(tmp_path)
    analytics_db = tmp_path / "analytics.duckdb"
    monkeypatch.setenv("TRADING_ANALYTICS_DB", str(analytics_db))
    monkeypatch.setenv("TRADING_SNAPSHOT_DIR", str(harness.snapshot_dir))
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    session = harness.run_session(ENTRY_SESSION, MORNING)
    assert session.success

    analytics = (
        harness.definitions()
        .resolve_job_def("analytics_job")
        .execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=QUIET)
    )

    assert analytics.success
    assert materialized(analytics) == DBT_MODELS
    dbt_tests = analytics.get_asset_check_evaluations()
    assert dbt_tests, "dbt tests surface as asset checks"
    assert [e.check_name for e in dbt_tests if not e.passed] == []
    daily = _query(analytics_db, "select session, fees, unrealized_pnl, cumulative_pnl from daily_pnl")
    assert [row[0] for row in daily] == [ENTRY_SESSION]
    _, fees, unrealized, cumulative = daily[0]
    assert fees == Decimal("1.3000")
    assert cumulative == unrealized - fees
    trades = _query(analytics_db, "select strategy, status, opened_session from trades")
    assert trades == [("short_strangle", "OPEN", ENTRY_SESSION)]
