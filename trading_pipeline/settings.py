"""Settings: the environment (TRADING_ENV and friends) and the validated trading configuration file.

Secrets and deployment choices come from environment variables; trading parameters come from one
YAML file validated with bounds, so a bad value stops the pipeline with an error naming the field.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from trading_pipeline.core.fills import FillModel
from trading_pipeline.core.regime import RegimeParams
from trading_pipeline.core.risk import RiskLimits
from trading_pipeline.core.strategies.short_strangle import ShortStrangleParams

#: The exact value TRADING_LIVE_ACKNOWLEDGEMENT must hold before live trading can start.
LIVE_ACKNOWLEDGEMENT = "I understand live trading sends real orders"


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the field and the offending value."""


class TradingEnv(StrEnum):
    SIM = "sim"
    REPLAY = "replay"
    PAPER = "paper"
    LIVE = "live"


class EnvSettings(BaseSettings):
    """Deployment settings from the environment (prefix TRADING_); never from files in the repo."""

    model_config = SettingsConfigDict(env_prefix="TRADING_", extra="ignore", frozen=True)

    env: TradingEnv = TradingEnv.SIM
    config: Path | None = None
    data_dir: Path = Path("var")
    ledger_url: str | None = None
    snapshot_dir: Path | None = None
    analytics_db: Path | None = None
    live_acknowledgement: str = ""

    @property
    def resolved_ledger_url(self) -> str:
        """The ledger database: TRADING_LEDGER_URL, else a SQLite file under the data directory."""
        return self.ledger_url or f"sqlite:///{(self.data_dir / 'ledger.sqlite').resolve()}"

    @property
    def resolved_snapshot_dir(self) -> Path:
        """Where the ledger snapshot's Parquet files go (TRADING_SNAPSHOT_DIR, else under data_dir)."""
        return (self.snapshot_dir or self.data_dir / "snapshots" / "ledger").resolve()

    @property
    def resolved_analytics_db(self) -> Path:
        """The DuckDB file dbt builds into (TRADING_ANALYTICS_DB, else under data_dir)."""
        return (self.analytics_db or self.data_dir / "analytics.duckdb").resolve()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UniverseConfig(_Frozen):
    underlyings: tuple[str, ...] = Field(("SPY",), min_length=1)
    volatility_index: str = "VIX"
    regime_underlying: str = "SPY"


class AccountConfig(_Frozen):
    starting_equity: Decimal = Field(Decimal("100000"), gt=0)


class PricingConfig(_Frozen):
    risk_free_rate: float = Field(0.04, ge=-0.05, le=0.25)
    dividend_yields: dict[str, float] = Field(default_factory=dict)

    @field_validator("dividend_yields")
    @classmethod
    def _yields_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for symbol, q in value.items():
            if not 0.0 <= q < 0.2:
                raise ValueError(f"dividend yield of {symbol} must be within [0, 0.2), got {q}")
        return value


class SessionsConfig(_Frozen):
    decision_times_et: tuple[time, ...] = Field((time(10, 0),), min_length=1)


class VolatilityConfig(_Frozen):
    iv_lookback_sessions: int = Field(252, ge=20, le=2520)
    min_iv_observations: int = Field(200, ge=10, le=2520)
    realized_vol_window: int = Field(20, ge=2, le=252)


class DataQualityConfig(_Frozen):
    max_quote_age_seconds: float = Field(300, gt=0, le=86_400)
    min_strikes_each_side: int = Field(5, ge=1, le=200)
    max_spot_gap_spacings: float = Field(2.0, ge=1.0, le=50.0)
    max_iv_unsolvable_fraction: float = Field(0.05, ge=0.0, le=1.0)
    chain_min_dte: int = Field(0, ge=0, le=3650)
    chain_max_dte: int = Field(70, ge=1, le=3650)


class StrategiesConfig(_Frozen):
    short_strangle: ShortStrangleParams = ShortStrangleParams()


class ExecutionConfig(_Frozen):
    limit_fraction_of_half_spread: Decimal = Field(Decimal("0.5"), ge=0, le=1)
    slippage_fraction: Decimal = Field(Decimal("0.25"), ge=0, le=1)
    commission_per_contract: Decimal = Field(Decimal("0.65"), ge=0, le=100)

    @property
    def fill_model(self) -> FillModel:
        return FillModel(self.slippage_fraction, self.commission_per_contract)


class SimulationConfig(_Frozen):
    seed: int = Field(7, ge=0, le=2**31 - 1)


class PipelineConfig(_Frozen):
    """The whole trading configuration, loaded from one YAML file."""

    universe: UniverseConfig = UniverseConfig()
    account: AccountConfig = AccountConfig()
    pricing: PricingConfig = PricingConfig()
    sessions: SessionsConfig = SessionsConfig()
    volatility: VolatilityConfig = VolatilityConfig()
    regime: RegimeParams = RegimeParams()
    data_quality: DataQualityConfig = DataQualityConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    risk: RiskLimits = RiskLimits()
    execution: ExecutionConfig = ExecutionConfig()
    simulation: SimulationConfig = SimulationConfig()


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(root)"
        value = item.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        lines.append(f"config field {field}: {item['msg']}{shown}")
    return f"invalid configuration in {source}:\n  " + "\n  ".join(lines)


def parse_config(data: dict[str, Any], source: str = "<dict>") -> PipelineConfig:
    """Validate a configuration mapping; raise ConfigError naming every bad field and value."""
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def default_config_path() -> Path:
    return Path(str(resources.files("trading_pipeline") / "config" / "default.yaml"))


def load_config(path: Path | None = None) -> PipelineConfig:
    """Load and validate the configuration file (the packaged default when no path is given)."""
    path = path or default_config_path()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read configuration file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping, got {type(data).__name__}")
    return parse_config(data, str(path))


def check_environment(settings: EnvSettings) -> None:
    """Refuse environments that cannot run safely: live needs the exact acknowledgement phrase.

    Only the embedded `sim` environment has adapters today; the others are refused with the reason.
    """
    if settings.env is TradingEnv.LIVE and settings.live_acknowledgement != LIVE_ACKNOWLEDGEMENT:
        raise ConfigError(
            "TRADING_ENV=live refused: set TRADING_LIVE_ACKNOWLEDGEMENT to exactly "
            f"{LIVE_ACKNOWLEDGEMENT!r} to allow real orders"
        )
    if settings.env is not TradingEnv.SIM:
        raise ConfigError(
            f"TRADING_ENV={settings.env.value} refused: its market-data and broker adapters are not "
            "installed yet (only 'sim' runs in this version)"
        )
