"""Test harness: the real session graph on temporary paths (config, ledger, paper broker book).

Every run uses an ephemeral Dagster instance and a small test configuration (30-session IV lookback,
one decision time), so one session materializes in a few seconds instead of bootstrapping a year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml

from trading_pipeline.adapters.brokers.paper import paper_orders
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.calendar import at_et
from trading_pipeline.core.positions import Position
from trading_pipeline.core.strategies.names import SHORT_STRANGLE as STRANGLE
from trading_pipeline.definitions import defs as production_defs
from trading_pipeline.defs.analytics.assets import SnapshotDirResource, dbt_resource
from trading_pipeline.defs.io_manager import RunScopedIOManager
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.defs.resources import (
    ExecutionGuardResource,
    LedgerResource,
    MarketDataResource,
    NotifierResource,
    PaperBrokerResource,
    SimulatedMarketResource,
    TradingConfigResource,
)
from trading_pipeline.runner import QUIET
from trading_pipeline.settings import default_config_path

#: A session where seed 7 enters a short strangle with the test configuration (IV rank 88, range_volatile).
ENTRY_SESSION = date(2025, 10, 6)
MORNING = time(10, 0)
AFTERNOON = time(15, 30)

#: Short IV lookback so the history bootstraps 29 past sessions, not 251.
TEST_VOLATILITY = {
    "iv_lookback_sessions": 30,
    "min_iv_observations": 20,
    "realized_vol_window": 20,
    "iv_measure": "model_free",
    "recorded_history": None,
}

SESSION_JOB = "trading_session_job"


def packaged_strategies() -> dict[str, dict[str, Any]]:
    """Every strategy section of the packaged config, as shipped (all enabled): `strategies=` for a test
    that trades them all."""
    return dict(yaml.safe_load(default_config_path().read_text())["strategies"])


def write_test_config(directory: Path, **sections: dict[str, Any]) -> Path:
    """The packaged default config with the short IV lookback, one decision time, only the short strangle
    enabled (the end-to-end safety tests count one entry order per tick; pass `strategies=` with a
    strategy's whole section to trade it too) and `sections` merged in."""
    data = yaml.safe_load(default_config_path().read_text())
    data["volatility"] = dict(TEST_VOLATILITY)
    data["strategies"] = {
        name: {**section, "enabled": name == STRANGLE} for name, section in data["strategies"].items()
    }
    data["sessions"] = {"decision_times_et": [MORNING.strftime("%H:%M")]}
    for section, values in sections.items():
        data[section] = {**data.get(section, {}), **values}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "trading_config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass(frozen=True)
class PipelineHarness:
    """Resources of one test pipeline: its config file, ledger, paper broker book and market."""

    workdir: Path
    config_path: Path
    ledger_url: str
    broker_url: str
    market: MarketDataResource
    env: str = "sim"

    @property
    def snapshot_dir(self) -> Path:
        """Where the ledger_snapshot assets write Parquet (point TRADING_SNAPSHOT_DIR here for dbt)."""
        return self.workdir / "snapshots"

    def broker_resource(self) -> PaperBrokerResource:
        return PaperBrokerResource(url=self.broker_url, market=self.market, config_path=str(self.config_path))

    def resources(self, broker: PaperBrokerResource | None = None) -> dict[str, dg.ConfigurableResource]:
        return {
            "trading_config": TradingConfigResource(config_path=str(self.config_path)),
            "market_data": self.market,
            "ledger": LedgerResource(url=self.ledger_url),
            "broker": broker or self.broker_resource(),
            "notifier": NotifierResource(),
            "execution_guard": ExecutionGuardResource(env=self.env),
            "io_manager": RunScopedIOManager(base_dir=str(self.workdir / "run_outputs")),
            "snapshot_dir": SnapshotDirResource(path=str(self.snapshot_dir)),
            "dbt": dbt_resource(),
        }

    def definitions(self, broker: PaperBrokerResource | None = None) -> dg.Definitions:
        """The production assets, checks, jobs and schedules bound to this harness's resources."""
        return dg.Definitions(
            assets=production_defs.assets,
            asset_checks=production_defs.asset_checks,
            jobs=production_defs.jobs,
            schedules=production_defs.schedules,
            resources=self.resources(broker),
        )

    def run_session(
        self,
        session: date,
        at: time = MORNING,
        broker: PaperBrokerResource | None = None,
        tags: Mapping[str, str] | None = None,
        job: str = SESSION_JOB,
    ) -> dg.ExecuteInProcessResult:
        """One run of the session job (or `job`: assets and their checks) for `session` at `at` ET, with
        `tags` beside the decision time (a schedule's strategies tag, say)."""
        definition = self.definitions(broker).resolve_job_def(job)
        return definition.execute_in_process(
            partition_key=session.isoformat(),
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            tags={**(tags or {}), DECISION_TIME_TAG: decision_time(session, at).isoformat()},
            run_config=QUIET,
        )

    def ledger_tables(self) -> dict[str, Any]:
        """Every ledger table as a DataFrame (a fresh connection, closed before returning)."""
        ledger = self.with_ledger()
        try:
            return ledger.snapshot()
        finally:
            ledger.dispose()

    def every_position(self) -> list[Position]:
        """Every position in the ledger, open or closed, oldest first."""
        ledger = self.with_ledger()
        try:
            return ledger.positions(open_only=False)
        finally:
            ledger.dispose()

    def with_ledger(self) -> SqlLedger:
        """A ledger on this database, migrated even if no run opened it; the caller disposes it."""
        return SqlLedger.open(self.ledger_url)

    def broker_book(self) -> list[dict[str, Any]]:
        """The paper broker's own order book (what the 'broker side' has received); empty if never opened."""
        engine = sa.create_engine(self.broker_url)
        try:
            if not sa.inspect(engine).has_table(paper_orders.name):
                return []
            with engine.connect() as conn:
                return [dict(row) for row in conn.execute(sa.select(paper_orders)).mappings()]
        finally:
            engine.dispose()


def make_harness(
    workdir: Path,
    ledger_url: str | None = None,
    market: MarketDataResource | None = None,
    env: str = "sim",
    **config_sections: dict[str, Any],
) -> PipelineHarness:
    """A harness under `workdir`: SQLite ledger there unless `ledger_url` is given, seed-7 market."""
    return PipelineHarness(
        workdir=workdir,
        config_path=write_test_config(workdir / "config", **config_sections),
        ledger_url=ledger_url or f"sqlite:///{workdir / 'ledger.sqlite'}",
        broker_url=f"sqlite:///{workdir / 'paper_broker.sqlite'}",
        market=market or SimulatedMarketResource(seed=7),
        env=env,
    )


def decision_time(session: date, at: time) -> datetime:
    return at_et(session, at)


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    """Asset keys (as strings) that produced a materialization in the run."""
    return {e.materialization.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def check_evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    """The run's asset check evaluations by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def asset_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """Plain metadata values of an asset's materialization in the run."""
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        if materialization.asset_key.to_user_string() == asset:
            return {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
    raise KeyError(f"{asset} was not materialized in run {result.run_id}")
