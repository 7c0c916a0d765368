"""Settings: the packaged configuration, validation errors naming field and value, and the env guard."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from trading_pipeline.settings import (
    LIVE_ACKNOWLEDGEMENT,
    ConfigError,
    EnvSettings,
    PipelineConfig,
    TradingEnv,
    check_environment,
    load_config,
    parse_config,
)

ENV_VARS = (
    "TRADING_ENV",
    "TRADING_CONFIG",
    "TRADING_DATA_DIR",
    "TRADING_LEDGER_URL",
    "TRADING_LIVE_ACKNOWLEDGEMENT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without TRADING_* variables from the shell that runs pytest."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_packaged_default_configuration_loads_with_its_documented_values() -> None:
    # Act
    config = load_config()

    # Assert
    assert isinstance(config, PipelineConfig)
    assert config.universe.underlyings == ("SPY",)
    assert config.account.starting_equity == Decimal("100000.00")
    assert config.sessions.decision_times_et == (time(10, 0), time(15, 30))
    assert config.strategies.short_strangle.target_delta == 0.16
    assert config.strategies.short_strangle.min_credit == Decimal("1.00")
    assert config.risk.kill_switch is False
    assert config.execution.commission_per_contract == Decimal("0.65")


def test_empty_mapping_gives_the_built_in_defaults() -> None:
    assert parse_config({}) == PipelineConfig()


def test_out_of_range_value_names_the_dotted_field_and_the_value() -> None:
    # Arrange
    data = {"strategies": {"short_strangle": {"target_delta": 1.5}}}

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape("strategies.short_strangle.target_delta")) as error:
        parse_config(data)
    assert "(got 1.5)" in str(error.value)


def test_every_bad_field_is_named_with_the_source() -> None:
    # Arrange
    data = {"risk": {"max_allocation_pct": 150}, "account": {"starting_equity": "-5"}}

    # Act
    with pytest.raises(ConfigError) as error:
        parse_config(data, source="ops/override.yaml")

    # Assert
    message = str(error.value)
    assert message.startswith("invalid configuration in ops/override.yaml:")
    assert "config field risk.max_allocation_pct" in message and "(got 150)" in message
    assert "config field account.starting_equity" in message and "(got '-5')" in message


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"risk": {"kill_swtich": True}}, "risk.kill_swtich"),
        ({"strategies": {"short_strangle": {"delta": 0.2}}}, "strategies.short_strangle.delta"),
        ({"strategy": {}}, "strategy"),
    ],
    ids=["nested", "strategy-params", "top-level"],
)
def test_unknown_keys_are_rejected_by_name(data: dict[str, object], field: str) -> None:
    expected = f"config field {field}: Extra inputs are not permitted"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


def test_cross_field_rule_is_reported_with_both_values() -> None:
    # Arrange
    data = {"strategies": {"short_strangle": {"dte_min": 30, "exit_dte": 30}}}

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape("exit_dte (30) must be below dte_min (30)")):
        parse_config(data)


def test_configuration_file_with_bad_value_names_file_field_and_value(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "trading.yaml"
    path.write_text("strategies:\n  short_strangle:\n    target_delta: 1.5\n")

    # Act / Assert
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert "strategies.short_strangle.target_delta" in message and "(got 1.5)" in message


def test_malformed_yaml_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "broken.yaml"
    path.write_text("universe:\n  underlyings: [SPY\n")

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape(f"cannot read configuration file {path}")):
        load_config(path)


def test_missing_configuration_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "absent.yaml"

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape(f"cannot read configuration file {path}")):
        load_config(path)


def test_configuration_file_holding_a_list_is_rejected(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "list.yaml"
    path.write_text("- universe\n- risk\n")

    # Act / Assert
    expected = f"configuration file {path} must hold a mapping, got list"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(path)


def test_empty_configuration_file_gives_the_built_in_defaults(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")

    # Act / Assert
    assert load_config(path) == PipelineConfig()


def test_live_without_the_exact_acknowledgement_is_refused() -> None:
    # Arrange
    settings = EnvSettings(env=TradingEnv.LIVE, live_acknowledgement="yes")

    # Act / Assert
    with pytest.raises(ConfigError, match="TRADING_ENV=live refused: set TRADING_LIVE_ACKNOWLEDGEMENT"):
        check_environment(settings)


def test_live_with_the_acknowledgement_is_still_refused_because_no_live_adapters_exist() -> None:
    # Arrange
    settings = EnvSettings(env=TradingEnv.LIVE, live_acknowledgement=LIVE_ACKNOWLEDGEMENT)

    # Act / Assert
    expected = "TRADING_ENV=live refused: its market-data and broker adapters are not installed yet"
    with pytest.raises(ConfigError, match=expected):
        check_environment(settings)


@pytest.mark.parametrize("env", [TradingEnv.REPLAY, TradingEnv.PAPER])
def test_environments_without_adapters_are_refused_naming_the_environment(env: TradingEnv) -> None:
    with pytest.raises(ConfigError, match=f"TRADING_ENV={env.value} refused: .*only 'sim' runs"):
        check_environment(EnvSettings(env=env))


def test_sim_is_allowed() -> None:
    check_environment(EnvSettings(env=TradingEnv.SIM))


def test_env_settings_default_to_sim_with_a_ledger_under_the_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Arrange
    monkeypatch.setenv("TRADING_DATA_DIR", str(tmp_path / "var"))

    # Act
    settings = EnvSettings()

    # Assert
    assert settings.env is TradingEnv.SIM
    assert settings.resolved_ledger_url == f"sqlite:///{tmp_path / 'var' / 'ledger.sqlite'}"


def test_env_settings_read_environment_and_ledger_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    url = "postgresql+psycopg://trader@db.internal:5432/ledger"
    monkeypatch.setenv("TRADING_ENV", "replay")
    monkeypatch.setenv("TRADING_LEDGER_URL", url)

    # Act
    settings = EnvSettings()

    # Assert
    assert settings.env is TradingEnv.REPLAY
    assert settings.ledger_url == url
    assert settings.resolved_ledger_url == url


def test_unknown_trading_env_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # Arrange
    monkeypatch.setenv("TRADING_ENV", "production")

    # Act / Assert
    with pytest.raises(ValidationError, match="production"):
        EnvSettings()
