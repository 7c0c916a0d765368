"""The single Dagster Definitions object: every asset, check, job, schedule and resource."""

from __future__ import annotations

import os

import dagster as dg

from trading_pipeline.defs.analytics.assets import (
    SnapshotDirResource,
    dbt_analytics,
    dbt_resource,
    ledger_snapshot,
)
from trading_pipeline.defs.candidates import assets as candidates_assets
from trading_pipeline.defs.candidates import checks as candidates_checks
from trading_pipeline.defs.execution import assets as execution_assets
from trading_pipeline.defs.execution import checks as execution_checks
from trading_pipeline.defs.jobs import (
    analytics_job,
    end_of_day_job,
    position_monitor_job,
    trading_session_job,
)
from trading_pipeline.defs.market_data import assets as market_data_assets
from trading_pipeline.defs.market_data import checks as market_data_checks
from trading_pipeline.defs.portfolio import assets as portfolio_assets
from trading_pipeline.defs.regime import assets as regime_assets
from trading_pipeline.defs.resources import build_resources
from trading_pipeline.defs.risk import assets as risk_assets
from trading_pipeline.defs.risk import checks as risk_checks
from trading_pipeline.defs.schedules import (
    ENTRY_SCHEDULES,
    end_of_day_analytics_schedule,
    end_of_day_schedule,
    trading_session_schedule,
)
from trading_pipeline.defs.sensors import (
    dead_runs_marked_failed,
    position_monitor_sensor,
    trading_run_failure_alert,
)
from trading_pipeline.defs.volatility import assets as volatility_assets
from trading_pipeline.defs.volatility import checks as volatility_checks
from trading_pipeline.settings import EnvSettings


def analytics_resources(settings: EnvSettings) -> dict[str, dg.ConfigurableResource]:
    """Snapshot directory and dbt; dbt's profile and sources read the same paths from the environment."""
    os.environ["TRADING_SNAPSHOT_DIR"] = str(settings.resolved_snapshot_dir)
    os.environ["TRADING_ANALYTICS_DB"] = str(settings.resolved_analytics_db)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    return {
        "snapshot_dir": SnapshotDirResource(path=str(settings.resolved_snapshot_dir)),
        "dbt": dbt_resource(),
    }


def build_definitions(settings: EnvSettings | None = None) -> dg.Definitions:
    """Definitions for the configured environment (TRADING_ENV and friends)."""
    settings = settings or EnvSettings()
    modules = [
        market_data_assets,
        volatility_assets,
        regime_assets,
        candidates_assets,
        risk_assets,
        execution_assets,
        portfolio_assets,
    ]
    check_modules = [market_data_checks, volatility_checks, candidates_checks, risk_checks, execution_checks]
    return dg.Definitions(
        assets=[*dg.load_assets_from_modules(modules), ledger_snapshot, dbt_analytics],
        asset_checks=dg.load_asset_checks_from_modules(check_modules),
        jobs=[trading_session_job, position_monitor_job, end_of_day_job, analytics_job],
        schedules=[
            trading_session_schedule,
            *ENTRY_SCHEDULES,
            end_of_day_schedule,
            end_of_day_analytics_schedule,
        ],
        sensors=[trading_run_failure_alert, dead_runs_marked_failed, position_monitor_sensor],
        resources={**build_resources(settings), **analytics_resources(settings)},
    )


defs = build_definitions()
