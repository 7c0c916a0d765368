"""The single Definitions object loads and holds the whole architecture graph, checks, jobs and schedules."""

from __future__ import annotations

import dagster as dg
import pytest

from trading_pipeline.definitions import defs
from trading_pipeline.defs.jobs import ENTRY_ASSETS, MONITOR_ASSETS
from trading_pipeline.defs.partitions import session_partitions
from trading_pipeline_tests.architecture import DBT_MARTS, SESSION_ASSETS, SNAPSHOT_ASSETS, SNAPSHOT_TABLES

#: dbt staging model -> the ledger snapshot table its source reads.
DBT_STAGING_SOURCES = {
    "stg_positions": "positions",
    "stg_fills": "fills",
    "stg_position_marks": "position_marks",
    "stg_stale_marks": "stale_marks",
}
#: Strategies the packaged configuration enables, each with its entry schedule.
STRATEGY_ENTRY_SCHEDULES = {"short_strangle", "credit_spread", "iron_condor", "zero_dte"}
CHECKS = {
    "option_chains": {
        "chain_quotes_not_crossed",
        "chain_quotes_fresh",
        "chain_complete_around_spot",
        "chain_iv_solvable",
    },
    "iv_rank": {"iv_rank_history_sufficient_and_in_range"},
    "trade_candidates": {"candidates_well_formed"},
    "risk_approved_orders": {"approved_orders_within_limits"},
}


@pytest.fixture(scope="module")
def asset_graph() -> dg.AssetGraph:
    return defs.resolve_asset_graph()


def _keys(graph: dg.AssetGraph) -> set[str]:
    return {key.to_user_string() for key in graph.get_all_asset_keys()}


def test_definitions_hold_every_asset_of_the_architecture_graph(asset_graph: dg.AssetGraph) -> None:
    expected = SESSION_ASSETS | SNAPSHOT_ASSETS | DBT_MARTS | set(DBT_STAGING_SOURCES)

    missing = expected - _keys(asset_graph)

    assert not missing


def test_definitions_hold_every_pipeline_asset_check(asset_graph: dg.AssetGraph) -> None:
    found: dict[str, set[str]] = {}
    for check in asset_graph.asset_check_keys:
        found.setdefault(check.asset_key.to_user_string(), set()).add(check.name)

    for asset, names in CHECKS.items():
        assert found.get(asset, set()) >= names, asset


@pytest.mark.parametrize("asset", sorted(CHECKS))
def test_pipeline_checks_are_blocking(asset_graph: dg.AssetGraph, asset: str) -> None:
    checks = [key for key in asset_graph.asset_check_keys if key.asset_key == dg.AssetKey(asset)]

    blocking = {key.name: asset_graph.get_check_spec(key).blocking for key in checks}

    assert blocking == dict.fromkeys(CHECKS[asset], True)


@pytest.mark.parametrize("asset", sorted(SESSION_ASSETS | SNAPSHOT_ASSETS))
def test_session_assets_are_partitioned_by_nyse_session(asset_graph: dg.AssetGraph, asset: str) -> None:
    node = asset_graph.get(dg.AssetKey.from_user_string(asset))

    assert node.partitions_def == session_partitions


def test_session_partitions_are_nyse_sessions_only() -> None:
    keys = set(session_partitions.get_partition_keys())

    assert "2025-12-01" in keys
    assert "2025-11-28" in keys  # half-day
    assert "2025-12-25" not in keys  # Christmas
    assert "2025-11-29" not in keys  # Saturday


@pytest.mark.parametrize(("model", "table"), sorted(DBT_STAGING_SOURCES.items()))
def test_dbt_staging_model_depends_on_its_ledger_snapshot(
    asset_graph: dg.AssetGraph, model: str, table: str
) -> None:
    parents = asset_graph.get(dg.AssetKey(model)).parent_keys

    assert dg.AssetKey(["ledger_snapshot", table]) in parents


def test_ledger_snapshot_runs_after_portfolio_pnl(asset_graph: dg.AssetGraph) -> None:
    for table in SNAPSHOT_TABLES:
        parents = asset_graph.get(dg.AssetKey(["ledger_snapshot", table])).parent_keys

        assert dg.AssetKey("portfolio_pnl") in parents


def test_broker_touching_assets_sit_downstream_of_the_blocking_checks(asset_graph: dg.AssetGraph) -> None:
    for asset in ("order_submissions", "exit_orders"):
        ancestors = {key.to_user_string() for key in _ancestors(asset_graph, dg.AssetKey(asset))}

        assert set(CHECKS) <= ancestors, asset


def _ancestors(graph: dg.AssetGraph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = list(graph.get(key).parent_keys)
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo.extend(graph.get(parent).parent_keys)
    return seen


def test_trading_session_job_selects_the_session_graph_and_snapshot() -> None:
    job = defs.resolve_job_def("trading_session_job")

    selected = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}

    assert selected == SESSION_ASSETS | SNAPSHOT_ASSETS
    assert job.partitions_def == session_partitions


def test_position_monitor_job_selects_marks_exits_and_sync_and_no_entry_asset() -> None:
    job = defs.resolve_job_def("position_monitor_job")

    selected = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}

    assert selected == set(MONITOR_ASSETS)
    assert not selected & set(ENTRY_ASSETS)
    assert job.partitions_def == session_partitions


def test_position_monitor_job_runs_the_blocking_chain_checks() -> None:
    job = defs.resolve_job_def("position_monitor_job")

    checks = {
        key.name
        for key in job.asset_layer.asset_graph.asset_check_keys
        if key.asset_key.path == ["option_chains"]
    }

    assert checks >= CHECKS["option_chains"]


def test_definitions_hold_the_monitor_sensor_stopped_with_its_clock() -> None:
    sensor = defs.resolve_sensor_def("position_monitor_sensor")

    assert sensor.job_name == "position_monitor_job"
    assert sensor.default_status is dg.DefaultSensorStatus.STOPPED
    assert "clock" in sensor.required_resource_keys


def test_analytics_job_selects_the_dbt_models() -> None:
    job = defs.resolve_job_def("analytics_job")

    selected = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}

    assert selected == DBT_MARTS | set(DBT_STAGING_SOURCES)


@pytest.mark.parametrize(
    ("schedule", "job"),
    [
        ("trading_session_schedule", "trading_session_job"),
        *[(f"entry_schedule_{name}", "trading_session_job") for name in sorted(STRATEGY_ENTRY_SCHEDULES)],
        ("end_of_day_analytics_schedule", "analytics_job"),
    ],
)
def test_schedules_target_their_jobs_in_new_york_time(schedule: str, job: str) -> None:
    definition = defs.resolve_schedule_def(schedule)

    assert definition.job_name == job
    assert definition.execution_timezone == "America/New_York"


def test_definitions_load_the_monitor_job_entry_schedules_and_monitor_sensor() -> None:
    dg.Definitions.validate_loadable(defs)  # every schedule, sensor and job resolves, resources bound
    schedules = {schedule.name for schedule in defs.schedules}
    sensors = {sensor.name for sensor in defs.sensors}

    assert defs.resolve_job_def("position_monitor_job").name == "position_monitor_job"
    assert {f"entry_schedule_{name}" for name in STRATEGY_ENTRY_SCHEDULES} <= schedules
    assert "trading_session_schedule" in schedules
    assert "position_monitor_sensor" in sensors
