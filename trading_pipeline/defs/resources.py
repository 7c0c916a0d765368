"""Resources: configuration, market data, ledger, broker, notifier and clock, chosen per environment here."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import dagster as dg
from pydantic import Field

from trading_pipeline.adapters.brokers.base import Broker
from trading_pipeline.adapters.brokers.paper import PaperBroker
from trading_pipeline.adapters.clock import wall_clock
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.adapters.market_data.base import MarketData
from trading_pipeline.adapters.market_data.replay import ReplayMarket
from trading_pipeline.adapters.market_data.simulated import MarketFaults, SimulatedMarket
from trading_pipeline.adapters.notify.log import LogNotifier
from trading_pipeline.core.send_policy import hold_reason
from trading_pipeline.defs.io_manager import RunScopedIOManager
from trading_pipeline.settings import (
    EnvSettings,
    PipelineConfig,
    TradingEnv,
    check_start_up,
    default_config_path,
    load_config,
)


def _config(path: str | None) -> PipelineConfig:
    """The configuration file's validated contents, parsed again whenever the file changes on disk.

    A long-lived process (a code server, a chaos worker) must not keep trading on a file's old contents.
    """
    file = Path(path) if path else default_config_path()
    try:
        stat = file.stat()
    except OSError:
        return load_config(file)  # raises ConfigError naming the path
    return _config_version(str(file), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _config_version(path: str, _mtime_ns: int, _size: int) -> PipelineConfig:
    return load_config(Path(path))


@lru_cache(maxsize=8)
def _simulated_market(
    seed: int, faults: MarketFaults, rate: float, dividend_yields: tuple[tuple[str, float], ...]
) -> SimulatedMarket:
    return SimulatedMarket(
        seed=seed, faults=faults, risk_free_rate=rate, dividend_yields=dict(dividend_yields)
    )


@lru_cache(maxsize=4)
def _replay_market(data_dir: str, seed: int) -> ReplayMarket:
    return ReplayMarket(Path(data_dir), seed=seed)


@lru_cache(maxsize=8)
def _ledger(url: str) -> SqlLedger:
    return SqlLedger.open(url)


class TradingConfigResource(dg.ConfigurableResource):
    """The validated trading configuration (TRADING_CONFIG, else the packaged default)."""

    config_path: str | None = None

    def load(self) -> PipelineConfig:
        return _config(self.config_path)


class MarketDataResource(dg.ConfigurableResource):
    """Base of market-data resources: `client()` returns an object following MarketData."""

    def client(self) -> MarketData:
        raise NotImplementedError


class SimulatedMarketResource(MarketDataResource):
    """The seeded simulated market, with optional injected faults for data-quality drills."""

    seed: int = 7
    risk_free_rate: float = 0.04
    dividend_yields: dict[str, float] = Field(default_factory=dict)
    crossed_quotes: bool = False
    stale_seconds: float = 0.0
    drop_strikes_near_spot: int = 0
    empty_chain: bool = False

    def client(self) -> SimulatedMarket:
        faults = MarketFaults(
            crossed_quotes=self.crossed_quotes,
            stale_by=timedelta(seconds=self.stale_seconds),
            drop_strikes_near_spot=self.drop_strikes_near_spot,
            empty_chain=self.empty_chain,
        )
        yields = tuple(sorted(self.dividend_yields.items()))
        return _simulated_market(self.seed, faults, self.risk_free_rate, yields)


class ReplayMarketResource(MarketDataResource):
    """Real history read in place from the market-data folder (TRADING_ENV=replay)."""

    data_dir: str
    seed: int = 7

    def client(self) -> ReplayMarket:
        return _replay_market(self.data_dir, self.seed)


class LedgerResource(dg.ConfigurableResource):
    """The ledger database (SQLite file or PostgreSQL URL), migrated to head on first use."""

    url: str

    def ledger(self) -> SqlLedger:
        return _ledger(self.url)


class BrokerResource(dg.ConfigurableResource):
    """Base of broker resources: `broker()` returns an object following the Broker protocol."""

    def broker(self) -> Broker:
        raise NotImplementedError


class PaperBrokerResource(BrokerResource):
    """The paper broker, filling against the configured market data with the configured fill model and
    costs, its account starting from the configured equity."""

    url: str
    market: MarketDataResource
    config_path: str | None = None

    def broker(self) -> PaperBroker:
        config = _config(self.config_path)
        return PaperBroker(
            self.url, self.market.client(), config.execution.fill_model, config.account.starting_equity
        )


class ExecutionGuardResource(dg.ConfigurableResource):
    """Whether a recorded order may be sent now: against a real market, never from a past tick's rerun."""

    env: str = "sim"
    max_decision_lag_seconds: float = 900.0

    def hold_reason(self, decision_time: datetime) -> str | None:
        lag = timedelta(seconds=self.max_decision_lag_seconds)
        return hold_reason(self.env, decision_time, wall_clock(), lag)


class ClockResource(dg.ConfigurableResource):
    """What time it is for sensors, which Dagster gives no evaluation time: the wall clock (tests bind a
    stopped one)."""

    def now(self) -> datetime:
        return wall_clock()


class NotifierResource(dg.ConfigurableResource):
    """Where notifications go; logs today (email arrives with the reports issue)."""

    def notifier(self) -> LogNotifier:
        return LogNotifier()


def _market_resource(settings: EnvSettings, config: PipelineConfig) -> MarketDataResource:
    """The market data of the environment: real history in replay, the seeded simulation otherwise."""
    simulation = config.simulation
    if settings.env is TradingEnv.REPLAY:
        return ReplayMarketResource(data_dir=str(settings.market_data_dir.resolve()), seed=simulation.seed)
    return SimulatedMarketResource(
        seed=simulation.seed,
        risk_free_rate=simulation.risk_free_rate,
        dividend_yields=dict(simulation.dividend_yields),
    )


def build_resources(settings: EnvSettings | None = None) -> dict[str, dg.ConfigurableResource]:
    """The resources of the configured environment; the one place that maps TRADING_ENV to adapters."""
    settings = settings or EnvSettings()
    check_start_up(settings)
    config_path = str(settings.config) if settings.config else None
    config = _config(config_path)
    data_dir = settings.data_dir.resolve()
    market = _market_resource(settings, config)
    # An explicit URL may hold a password: Dagster stores only the variable's name in run snapshots.
    ledger_variable = dg.EnvVar("TRADING_LEDGER_URL")
    explicit = settings.ledger_url is not None and settings.ledger_url == ledger_variable.get_value()
    ledger_url = ledger_variable if explicit else settings.resolved_ledger_url
    return {
        "trading_config": TradingConfigResource(config_path=config_path),
        "market_data": market,
        "ledger": LedgerResource(url=ledger_url),
        "broker": PaperBrokerResource(
            url=f"sqlite:///{data_dir / 'paper_broker.sqlite'}",
            market=market,
            config_path=config_path,
        ),
        "notifier": NotifierResource(),
        "clock": ClockResource(),
        "execution_guard": ExecutionGuardResource(env=settings.env.value),
        "io_manager": RunScopedIOManager(base_dir=str(data_dir / "run_outputs")),
    }
