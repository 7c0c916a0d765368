"""Settings: the environment (TRADING_ENV and friends) and the validated trading configuration file.

Secrets and deployment choices come from environment variables; trading parameters come from one
YAML file validated with bounds, so a bad value stops the pipeline with an error naming the field.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from trading_pipeline.adapters.ledger.migrate import LedgerUnavailableError, display_url, ledger_exists
from trading_pipeline.core.fills import FillModel
from trading_pipeline.core.iv_history import IvMeasure
from trading_pipeline.core.ladder import LadderParams
from trading_pipeline.core.regime import RegimeParams
from trading_pipeline.core.risk import RiskLimits
from trading_pipeline.core.strategies.base import Strategy
from trading_pipeline.core.strategies.credit_spread import CreditSpreadParams
from trading_pipeline.core.strategies.iron_condor import IronCondorParams
from trading_pipeline.core.strategies.names import STRATEGY_NAMES
from trading_pipeline.core.strategies.registry import build_strategies
from trading_pipeline.core.strategies.short_strangle import ShortStrangleParams
from trading_pipeline.core.strategies.zero_dte import ZeroDteParams

#: The exact value TRADING_LIVE_ACKNOWLEDGEMENT must hold before live trading can start.
LIVE_ACKNOWLEDGEMENT = "I understand live trading sends real orders"
ENV_PREFIX = "TRADING_"
#: TRADING_* variables read outside EnvSettings (defs/analytics/assets.py finds the dbt project with it).
OTHER_ENVIRONMENT_VARIABLES = frozenset({"TRADING_DBT_PROJECT_DIR"})
#: The real market history replay reads in place: ../shared/data/market beside the project folder.
DEFAULT_MARKET_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the field and the offending value."""


class TradingEnv(StrEnum):
    SIM = "sim"
    REPLAY = "replay"
    PAPER = "paper"
    LIVE = "live"


class EnvSettings(BaseSettings):
    """Deployment settings from the environment (prefix TRADING_); never from files in the repo."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    env: TradingEnv = TradingEnv.SIM
    config: Path | None = None
    data_dir: Path = Path("var")
    ledger_url: str | None = None
    snapshot_dir: Path | None = None
    analytics_db: Path | None = None
    live_acknowledgement: str = ""
    market_data_dir: Path = DEFAULT_MARKET_DATA_DIR

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

    @model_validator(mode="after")
    def _regime_inputs_fit_the_universe(self) -> Self:
        """The regime reads the IV rank of its underlying, and the volatility index is not traded."""
        traded = list(self.underlyings)
        if self.regime_underlying not in traded:
            raise ValueError(
                f"universe.regime_underlying {self.regime_underlying!r} is not in "
                f"universe.underlyings {traded}"
            )
        if self.volatility_index in traded:
            raise ValueError(
                f"universe.volatility_index {self.volatility_index!r} must not be one of "
                f"universe.underlyings {traded}"
            )
        return self


class AccountConfig(_Frozen):
    starting_equity: Decimal = Field(Decimal("100000"), gt=0)


class SessionsConfig(_Frozen):
    decision_times_et: tuple[time, ...] = Field((time(10, 0),), min_length=1)


class VolatilityConfig(_Frozen):
    iv_lookback_sessions: int = Field(252, ge=20, le=2520)
    min_iv_observations: int = Field(200, ge=10, le=2520)
    realized_vol_window: int = Field(20, ge=2, le=252)
    #: How today's 30-day IV is measured on the chain (core/iv_history.IvMeasure).
    iv_measure: IvMeasure = IvMeasure.MODEL_FREE
    #: A recorded IV history (adapters/market_data/recorded_iv.py), the second source after the ledger.
    recorded_history: Path | None = None

    @model_validator(mode="after")
    def _minimum_fits_the_lookback(self) -> Self:
        if self.min_iv_observations > self.iv_lookback_sessions - 1:
            raise ValueError(
                f"min_iv_observations ({self.min_iv_observations}) must be at most iv_lookback_sessions - 1 "
                f"({self.iv_lookback_sessions - 1}): the lookback ends with today's own value"
            )
        return self


class DataQualityConfig(_Frozen):
    max_quote_age_seconds: float = Field(300, gt=0, le=86_400)
    min_strikes_each_side: int = Field(5, ge=1, le=200)
    max_spot_gap_spacings: float = Field(2.0, ge=1.0, le=50.0)
    max_iv_unsolvable_fraction: float = Field(0.05, ge=0.0, le=1.0)
    chain_min_dte: int = Field(0, ge=0, le=3650)
    chain_max_dte: int = Field(70, ge=1, le=3650)


class StrategiesConfig(_Frozen):
    """One section per registered strategy (core/strategies/registry.py), each with its `enabled` switch."""

    short_strangle: ShortStrangleParams = ShortStrangleParams()
    credit_spread: CreditSpreadParams = CreditSpreadParams()
    iron_condor: IronCondorParams = IronCondorParams()
    zero_dte: ZeroDteParams = ZeroDteParams()

    def sections(self) -> dict[str, BaseModel]:
        """Each strategy's parameters by strategy name."""
        return {name: getattr(self, name) for name in type(self).model_fields}

    def build(self) -> list[Strategy]:
        """The configured strategies as plug-ins, enabled or not (disabled ones still exit)."""
        return build_strategies(self.sections())


class ScannerConfig(_Frozen):
    """How many of a tick's candidates, across strategies and underlyings, go on to risk review."""

    top_n: int = Field(5, ge=1, le=100)


class LadderConfig(_Frozen):
    """How a resting limit walks toward natural (core/ladder.py): every `step_wait_minutes` a step of
    `step_fraction` of the half-spread, at most `max_steps`; cancelled after the last or before the close."""

    enabled: bool = True
    step_fraction: Decimal = Field(Decimal("0.25"), gt=0, le=1)
    step_wait_minutes: int = Field(5, ge=1, le=390)
    max_steps: int = Field(2, ge=0, le=20)
    cancel_before_close_minutes: int = Field(10, ge=0, le=120)

    def params(self, start_fraction: Decimal) -> LadderParams:
        return LadderParams(
            start_fraction=start_fraction,
            step_fraction=self.step_fraction,
            step_wait=timedelta(minutes=self.step_wait_minutes),
            max_steps=self.max_steps,
            cancel_before_close=timedelta(minutes=self.cancel_before_close_minutes),
        )


class ExecutionConfig(_Frozen):
    """Limit prices, the ladder of resting orders, and the paper market's fill model and costs."""

    limit_fraction_of_half_spread: Decimal = Field(Decimal("0.5"), ge=0, le=1)
    ladder: LadderConfig = LadderConfig()
    slippage_fraction: Decimal = Field(Decimal("0.25"), ge=0, le=1)
    wide_spread_extra: Decimal = Field(Decimal(0), ge=0, le=1)
    volatility_extra: Decimal = Field(Decimal(0), ge=0, le=1)
    jitter: Decimal = Field(Decimal(0), ge=0, le=1)
    partial_fill_probability: Decimal = Field(Decimal(0), ge=0, le=1)
    commission_per_contract: Decimal = Field(Decimal("0.65"), ge=0, le=100)
    exchange_fee_per_contract: Decimal = Field(Decimal(0), ge=0, le=10)
    regulatory_fee_per_contract: Decimal = Field(Decimal(0), ge=0, le=10)
    sec_fee_per_million: Decimal = Field(Decimal(0), ge=0, le=1000)

    @property
    def fill_model(self) -> FillModel:
        return FillModel(
            slippage_fraction=self.slippage_fraction,
            commission_per_contract=self.commission_per_contract,
            exchange_fee_per_contract=self.exchange_fee_per_contract,
            regulatory_fee_per_contract=self.regulatory_fee_per_contract,
            sec_fee_per_million=self.sec_fee_per_million,
            wide_spread_extra=self.wide_spread_extra,
            volatility_extra=self.volatility_extra,
            jitter=self.jitter,
            partial_fill_probability=self.partial_fill_probability,
        )

    @property
    def ladder_params(self) -> LadderParams:
        return self.ladder.params(self.limit_fraction_of_half_spread)


class SimulationConfig(_Frozen):
    """The simulated world: its seed and the carry its options are priced with (sim only; replay and live
    markets have their own carry)."""

    seed: int = Field(7, ge=0, le=2**31 - 1)
    risk_free_rate: float = Field(0.04, ge=-0.05, le=0.25)
    dividend_yields: dict[str, float] = Field(default_factory=dict)

    @field_validator("dividend_yields")
    @classmethod
    def _yields_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for symbol, q in value.items():
            if not 0.0 <= q < 0.2:
                raise ValueError(f"dividend yield of {symbol} must be within [0, 0.2), got {q}")
        return value


class PipelineConfig(_Frozen):
    """The whole trading configuration, loaded from one YAML file."""

    universe: UniverseConfig = UniverseConfig()
    account: AccountConfig = AccountConfig()
    sessions: SessionsConfig = SessionsConfig()
    volatility: VolatilityConfig = VolatilityConfig()
    regime: RegimeParams = RegimeParams()
    data_quality: DataQualityConfig = DataQualityConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    scanner: ScannerConfig = ScannerConfig()
    risk: RiskLimits = RiskLimits()
    execution: ExecutionConfig = ExecutionConfig()
    simulation: SimulationConfig = SimulationConfig()

    @model_validator(mode="after")
    def _strategies_trade_the_universe(self) -> Self:
        """A strategy on an underlying outside the universe would have no chain or IV rank to work on."""
        traded = list(self.universe.underlyings)
        for name, params in self.strategies.sections().items():
            underlying = params.underlying  # type: ignore[attr-defined]
            if underlying not in traded:
                raise ValueError(
                    f"strategies.{name}.underlying {underlying!r} is not in universe.underlyings {traded}"
                )
            for other in getattr(params, "also_on", ()):
                if other not in traded:
                    raise ValueError(
                        f"strategies.{name}.also_on {other!r} is not in universe.underlyings {traded}"
                    )
        return self

    def decision_times_of(self, strategy: str) -> tuple[time, ...]:
        """When `strategy`'s entry schedule ticks (ET, sorted): its decision_times_et, else the sessions'."""
        own: tuple[time, ...] = self.strategies.sections()[strategy].decision_times_et  # type: ignore[attr-defined]
        return tuple(sorted(own or self.sessions.decision_times_et))

    @model_validator(mode="after")
    def _zero_dte_entry_windows_hold_a_decision_time(self) -> Self:
        """A same-day entry window none of its decision times falls in would never trade, in silence."""
        params = self.strategies.zero_dte
        ticks = self.decision_times_of("zero_dte")
        source = "strategies.zero_dte" if params.decision_times_et else "sessions"
        window = timedelta(minutes=params.entry_window_minutes)
        for entry in params.entry_times_et if params.enabled else ():
            start = datetime.combine(date.min, entry)
            if not any(start <= datetime.combine(date.min, tick) < start + window for tick in ticks):
                raise ValueError(
                    f"strategies.zero_dte.entry_times_et {entry:%H:%M} (entry_window_minutes "
                    f"{params.entry_window_minutes}) holds none of {source}.decision_times_et "
                    f"{[tick.strftime('%H:%M') for tick in ticks]}: it would never enter"
                )
        return self

    @model_validator(mode="after")
    def _permissions_name_known_strategies(self) -> Self:
        """A misspelt strategy in a regime's permissions would silently never trade."""
        for regime, strategies in self.regime.permissions.items():
            unknown = sorted(strategies - STRATEGY_NAMES)
            if unknown:
                raise ValueError(
                    f"regime.permissions.{regime.value} names unknown strategies {unknown}; "
                    f"known: {sorted(STRATEGY_NAMES)}"
                )
        return self


def _describe(error: ValidationError, source: str) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        value = item.get("input")
        shown = "" if isinstance(value, dict) else f" (got {value!r})"
        problems.append(f"config field {field}: {item['msg']}{shown}" if field else item["msg"])
    return f"invalid configuration in {source}: " + "; ".join(problems)


def parse_config(data: dict[str, Any], source: str = "<dict>") -> PipelineConfig:
    """Validate a configuration mapping; raise ConfigError naming every bad field and value."""
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def default_config_path() -> Path:
    return Path(str(resources.files("trading_pipeline") / "config" / "default.yaml"))


def missing_fields(model: type[BaseModel], data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of `model`'s fields absent from `data`, walking nested sections (an absent one once)."""
    missing = []
    for name, field in model.model_fields.items():
        dotted = f"{prefix}{name}"
        if name not in data:
            missing.append(dotted)
            continue
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel) and isinstance(data[name], Mapping):
            missing += missing_fields(section, data[name], f"{dotted}.")
    return missing


def load_config(path: Path | None = None) -> PipelineConfig:
    """Load and validate the configuration file (the packaged default when no path is given).

    The file must set every field: a built-in default silently standing in for a forgotten one is refused.
    """
    path = path or default_config_path()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        reason = " ".join(str(exc).split())
        raise ConfigError(f"cannot read configuration file {path}: {reason}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping, got {type(data).__name__}")
    missing = missing_fields(PipelineConfig, data)
    if missing:
        raise ConfigError(
            f"configuration file {path} is incomplete: missing {', '.join(missing)} (every field must be "
            f"set; start from the packaged {default_config_path()})"
        )
    return parse_config(data, str(path))


def known_environment_variables() -> frozenset[str]:
    """Every TRADING_* name the pipeline reads: EnvSettings' fields and the few read elsewhere."""
    return frozenset(f"{ENV_PREFIX}{name.upper()}" for name in EnvSettings.model_fields) | (
        OTHER_ENVIRONMENT_VARIABLES
    )


def check_environment_variables(environ: Mapping[str, str]) -> None:
    """Refuse unknown TRADING_* variables: a misspelt one would otherwise be ignored in silence."""
    known = sorted(known_environment_variables())
    suffixes = {name.removeprefix(ENV_PREFIX): name for name in known}
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known:
            continue
        close = difflib.get_close_matches(upper.removeprefix(ENV_PREFIX), list(suffixes), n=1)
        hint = f"did you mean {suffixes[close[0]]}?" if close else f"known: {', '.join(known)}"
        problems.append(f"unknown environment variable {name} ({hint})")
    if problems:
        raise ConfigError("; ".join(problems))


def load_env_settings() -> EnvSettings:
    """EnvSettings from the environment; a bad value is a ConfigError naming the variable and value."""
    try:
        return EnvSettings()
    except ValidationError as exc:
        problems = [
            f"{ENV_PREFIX}{'_'.join(str(p) for p in item['loc']).upper()}={item.get('input')!r} is invalid: "
            f"{item['msg']}"
            for item in exc.errors()
        ]
        raise ConfigError("; ".join(problems)) from None


def check_data_dir(path: Path) -> None:
    """Create the data directory if needed and prove it writable before anything is recorded there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"TRADING_DATA_DIR={path}: cannot create the directory ({exc.strerror})") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"TRADING_DATA_DIR={path} is not writable ({exc.strerror})") from None


def ledger_present(settings: EnvSettings) -> bool:
    """Whether the configured ledger holds a migrated ledger; ConfigError when it cannot be reached."""
    url = settings.resolved_ledger_url
    try:
        return ledger_exists(url)
    except LedgerUnavailableError as exc:
        raise ConfigError(f"TRADING_LEDGER_URL={display_url(url)}: {exc}") from None


def check_ledger(settings: EnvSettings) -> None:
    """An explicit TRADING_LEDGER_URL must name an existing ledger, so a typo never starts an empty one.

    The default SQLite ledger under the data directory is created on first use.
    """
    if settings.ledger_url is not None and not ledger_present(settings):
        raise ConfigError(
            f"TRADING_LEDGER_URL={display_url(settings.ledger_url)} holds no ledger (no alembic_version "
            "table): check the URL, or create the ledger there with `trading-pipeline init-ledger`"
        )


def check_environment(settings: EnvSettings) -> None:
    """Refuse environments that cannot run safely: live needs the exact acknowledgement phrase.

    `sim` and `replay` have adapters today (replay needs its market-data folder); paper and live are
    refused with the reason.
    """
    if settings.env is TradingEnv.LIVE and settings.live_acknowledgement != LIVE_ACKNOWLEDGEMENT:
        raise ConfigError(
            "TRADING_ENV=live refused: set TRADING_LIVE_ACKNOWLEDGEMENT to exactly "
            f"{LIVE_ACKNOWLEDGEMENT!r} to allow real orders"
        )
    if settings.env is TradingEnv.REPLAY and not settings.market_data_dir.is_dir():
        raise ConfigError(
            f"TRADING_ENV=replay refused: the market-data folder {settings.market_data_dir} does not exist; "
            "set TRADING_MARKET_DATA_DIR to the folder holding daily/, cboe/, rates/, dividends/ and chains/"
        )
    if settings.env not in (TradingEnv.SIM, TradingEnv.REPLAY):
        raise ConfigError(
            f"TRADING_ENV={settings.env.value} refused: its market-data and broker adapters are not "
            "installed yet (only 'sim' and 'replay' run in this version)"
        )


def check_start_up(settings: EnvSettings) -> None:
    """What every process checks before wiring resources: known TRADING_* names, the mode, the ledger."""
    check_environment_variables(os.environ)
    check_environment(settings)
    check_ledger(settings)
