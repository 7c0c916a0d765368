"""Settings: the packaged configuration, validation errors naming field and value, and the env guard."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from trading_pipeline.adapters.ledger.migrate import upgrade
from trading_pipeline.core.iv_history import IvMeasure
from trading_pipeline.core.strategies.names import DEFAULT_PERMISSIONS
from trading_pipeline.settings import (
    LIVE_ACKNOWLEDGEMENT,
    ConfigError,
    EnvSettings,
    PipelineConfig,
    TradingEnv,
    VolatilityConfig,
    check_data_dir,
    check_environment,
    check_environment_variables,
    check_ledger,
    default_config_path,
    load_config,
    load_env_settings,
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


def _default_data() -> dict[str, Any]:
    return yaml.safe_load(default_config_path().read_text())


def _write_default_with(path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """The packaged default configuration, changed by `edit`, written to `path`."""
    data = _default_data()
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


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
    path = _write_default_with(
        tmp_path / "trading.yaml", lambda data: data["strategies"]["short_strangle"].update(target_delta=1.5)
    )

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


def test_empty_configuration_file_is_refused_naming_every_missing_section(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")

    # Act
    with pytest.raises(ConfigError) as error:
        load_config(path)

    # Assert
    message = str(error.value)
    assert message.startswith(f"configuration file {path} is incomplete: missing ")
    assert all(section in message for section in PipelineConfig.model_fields)


def test_partial_configuration_file_is_refused_naming_the_missing_dotted_fields(tmp_path: Path) -> None:
    # Arrange
    def drop_two_fields(data: dict[str, Any]) -> None:
        del data["risk"]["kill_switch"]
        del data["strategies"]["short_strangle"]["exit_dte"]

    path = _write_default_with(tmp_path / "partial.yaml", drop_two_fields)

    # Act / Assert
    expected = "is incomplete: missing strategies.short_strangle.exit_dte, risk.kill_switch"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(path)


def test_complete_configuration_file_with_a_changed_value_loads(tmp_path: Path) -> None:
    # Arrange
    path = _write_default_with(tmp_path / "on.yaml", lambda data: data["risk"].update(kill_switch=True))

    # Act
    config = load_config(path)

    # Assert
    assert config.risk.kill_switch is True


def test_strategy_underlying_outside_the_universe_is_refused_naming_field_and_value() -> None:
    # Arrange
    data = {"strategies": {"short_strangle": {"underlying": "QQQ"}}}

    # Act / Assert
    expected = "strategies.short_strangle.underlying 'QQQ' is not in universe.underlyings ['SPY']"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


def test_a_strategy_also_on_an_underlying_outside_the_universe_is_refused_naming_it() -> None:
    data = {"strategies": {"zero_dte": {"also_on": ["QQQ"]}}}

    expected = "strategies.zero_dte.also_on 'QQQ' is not in universe.underlyings ['SPY']"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


def test_a_strategy_also_on_its_own_underlying_is_refused() -> None:
    data = {"strategies": {"credit_spread": {"also_on": ["SPY"]}}}

    with pytest.raises(
        ConfigError, match=re.escape("also_on ['SPY'] repeats an underlying of ['SPY', 'SPY']")
    ):
        parse_config(data)


def test_a_strategy_on_several_underlyings_builds_one_instance_each() -> None:
    data = {
        "universe": {"underlyings": ["SPY", "QQQ", "SPX"]},
        "strategies": {"zero_dte": {"also_on": ["QQQ", "SPX"]}},
    }

    built = [
        (s.name, s.params.underlying) for s in parse_config(data).strategies.build() if s.name == "zero_dte"
    ]

    assert built == [("zero_dte", "SPY"), ("zero_dte", "QQQ"), ("zero_dte", "SPX")]


def test_regime_underlying_outside_the_universe_is_refused_naming_field_and_value() -> None:
    # Arrange
    data = {"universe": {"underlyings": ["SPY"], "regime_underlying": "QQQ"}}

    # Act / Assert
    expected = "universe.regime_underlying 'QQQ' is not in universe.underlyings ['SPY']"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


def test_volatility_index_among_the_traded_underlyings_is_refused() -> None:
    # Arrange
    data = {"universe": {"underlyings": ["SPY", "VIX"], "volatility_index": "VIX"}}

    # Act / Assert
    expected = "universe.volatility_index 'VIX' must not be one of universe.underlyings ['SPY', 'VIX']"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


def test_unknown_trading_variable_is_refused_with_the_closest_known_name() -> None:
    # Arrange
    environ = {"TRADING_LEDGR_URL": "sqlite:///x.db", "TRADING_ENV": "sim", "PATH": "/usr/bin"}

    # Act / Assert
    expected = "unknown environment variable TRADING_LEDGR_URL (did you mean TRADING_LEDGER_URL?)"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        check_environment_variables(environ)


def test_unknown_trading_variable_without_a_close_name_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown environment variable TRADING_XYZZY \(known: .*TRADING_ENV"
    ):
        check_environment_variables({"TRADING_XYZZY": "1"})


def test_variables_the_pipeline_sets_or_reads_itself_are_known() -> None:
    # Arrange
    names = (
        "TRADING_ENV",
        "TRADING_CONFIG",
        "TRADING_DATA_DIR",
        "TRADING_LEDGER_URL",
        "TRADING_SNAPSHOT_DIR",
        "TRADING_ANALYTICS_DB",
        "TRADING_LIVE_ACKNOWLEDGEMENT",
        "TRADING_DBT_PROJECT_DIR",
    )

    # Act / Assert (no error)
    check_environment_variables(dict.fromkeys(names, "x"))


def test_bad_trading_env_value_is_a_config_error_naming_variable_and_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Arrange
    monkeypatch.setenv("TRADING_ENV", "production")

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape("TRADING_ENV='production' is invalid: Input should be")):
        load_env_settings()


def test_explicit_ledger_url_without_a_ledger_is_refused_and_not_created(tmp_path: Path) -> None:
    # Arrange: a typo in the file name
    url = f"sqlite:///{tmp_path / 'ledgr.sqlite'}"

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape(f"TRADING_LEDGER_URL={url} holds no ledger")) as error:
        check_ledger(EnvSettings(ledger_url=url))
    assert "trading-pipeline init-ledger" in str(error.value)
    assert not (tmp_path / "ledgr.sqlite").exists()


def test_explicit_ledger_url_of_an_empty_database_is_refused(ledger_url: str) -> None:
    with pytest.raises(ConfigError, match="holds no ledger"):
        check_ledger(EnvSettings(ledger_url=ledger_url))


def test_explicit_ledger_url_of_a_migrated_ledger_is_accepted(ledger_url: str) -> None:
    # Arrange
    upgrade(ledger_url)

    # Act / Assert (no error)
    check_ledger(EnvSettings(ledger_url=ledger_url))


def test_default_ledger_under_the_data_directory_needs_no_existing_database(tmp_path: Path) -> None:
    # Arrange
    settings = EnvSettings(data_dir=tmp_path / "fresh")

    # Act / Assert (no error: the default SQLite ledger is created on first use)
    check_ledger(settings)


def test_unreachable_ledger_is_one_line_naming_the_url_without_its_password() -> None:
    # Arrange: nothing listens on port 1
    url = "postgresql+psycopg://trader:s3cret@127.0.0.1:1/ledger"

    # Act
    with pytest.raises(ConfigError) as error:
        check_ledger(EnvSettings(ledger_url=url))

    # Assert
    message = str(error.value)
    assert message.startswith("TRADING_LEDGER_URL=postgresql+psycopg://trader:***@127.0.0.1:1/ledger")
    assert "cannot reach the ledger database" in message
    assert "s3cret" not in message
    assert "\n" not in message


def test_ledger_url_that_is_not_a_database_url_is_refused_without_echoing_it() -> None:
    # Arrange
    url = "trader:s3cret@db/ledger"

    # Act
    with pytest.raises(
        ConfigError, match=r"TRADING_LEDGER_URL=<unparseable URL>: not a database URL"
    ) as error:
        check_ledger(EnvSettings(ledger_url=url))

    # Assert
    assert "s3cret" not in str(error.value)


def test_uncreatable_data_directory_is_refused_naming_the_path(tmp_path: Path) -> None:
    # Arrange: a file stands where a parent directory must be
    (tmp_path / "file").write_text("")
    data_dir = tmp_path / "file" / "var"

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape(f"TRADING_DATA_DIR={data_dir}: cannot create")):
        check_data_dir(data_dir)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_data_directory_is_refused_naming_the_path(tmp_path: Path) -> None:
    # Arrange
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    data_dir.chmod(0o555)

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape(f"TRADING_DATA_DIR={data_dir} is not writable")):
        check_data_dir(data_dir)


def test_writable_data_directory_is_created_when_missing(tmp_path: Path) -> None:
    # Act
    check_data_dir(tmp_path / "new" / "var")

    # Assert
    assert (tmp_path / "new" / "var").is_dir()


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


def test_paper_without_adapters_is_refused_naming_the_environment() -> None:
    with pytest.raises(ConfigError, match=r"TRADING_ENV=paper refused: .*only 'sim' and 'replay' run"):
        check_environment(EnvSettings(env=TradingEnv.PAPER))


def test_replay_with_its_market_data_folder_is_allowed(tmp_path: Path) -> None:
    check_environment(EnvSettings(env=TradingEnv.REPLAY, market_data_dir=tmp_path))


def test_replay_without_its_market_data_folder_is_refused_naming_the_folder_and_variable(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no-such-folder"
    with pytest.raises(ConfigError, match=f"replay refused: the market-data folder {missing} does not exist"):
        check_environment(EnvSettings(env=TradingEnv.REPLAY, market_data_dir=missing))


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


def test_iv_minimum_observations_must_fit_in_the_lookback_before_today() -> None:
    with pytest.raises(
        ValidationError, match=r"min_iv_observations \(252\) must be at most iv_lookback_sessions"
    ):
        VolatilityConfig(iv_lookback_sessions=252, min_iv_observations=252)
    assert (
        VolatilityConfig(iv_lookback_sessions=252, min_iv_observations=251).iv_measure is IvMeasure.MODEL_FREE
    )


def test_a_regime_permitting_an_unknown_strategy_is_refused_naming_it() -> None:
    # Arrange: a misspelt strategy would silently never trade
    data = {"regime": {"permissions": {"bull_calm": ["short_stranggle"]}}}

    # Act / Assert
    with pytest.raises(ConfigError, match=re.escape("regime.permissions.bull_calm names unknown strategies")):
        parse_config(data)


def test_the_packaged_configuration_grants_every_regime_its_default_permissions() -> None:
    config = load_config(default_config_path())
    assert config.regime.permissions == DEFAULT_PERMISSIONS
    assert [s.name for s in config.strategies.build()] == [
        "short_strangle",
        "credit_spread",
        "iron_condor",
        "zero_dte",
    ]
    assert all(s.enabled for s in config.strategies.build())


# --- exit tiers ---------------------------------------------------------------------------------------------


def test_packaged_exit_tiers_add_a_hard_stop_and_a_dte_floor_except_for_same_day_trades() -> None:
    # Act
    rules = {s.name: s.exit_rules() for s in load_config().strategies.build()}

    # Assert
    assert {name: (r.hard_loss_multiple, r.min_dte) for name, r in rules.items()} == {
        "short_strangle": (2.5, 5),
        "credit_spread": (2.5, 5),
        "iron_condor": (2.5, 5),
        "zero_dte": (2.5, None),
    }
    assert all(
        r.max_position_delta is r.max_days_held is r.min_theta_per_unit is None for r in rules.values()
    )


def test_out_of_range_exit_tier_names_the_dotted_field() -> None:
    # Arrange
    data = {"strategies": {"iron_condor": {"exit_tiers": {"max_days_held": 0}}}}

    # Act / Assert
    with pytest.raises(
        ConfigError, match=re.escape("config field strategies.iron_condor.exit_tiers.max_days_held")
    ):
        parse_config(data)


def test_hard_loss_stop_inside_the_protection_stop_is_refused_naming_both_fields() -> None:
    # Arrange
    data = {"strategies": {"short_strangle": {"loss_stop_multiple": 3.0}}}

    # Act / Assert
    expected = "exit_tiers.hard_loss_multiple (2.5) must be above loss_stop_multiple (3.0)"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


@pytest.mark.parametrize(
    ("strategy", "floor", "first_dte"),
    [("credit_spread", 31, 30), ("zero_dte", 1, 0)],
    ids=["window", "same-day"],
)
def test_dte_floor_above_the_first_entry_dte_is_refused(strategy: str, floor: int, first_dte: int) -> None:
    # Arrange
    data = {"strategies": {strategy: {"exit_tiers": {"min_dte": floor}}}}

    # Act / Assert
    expected = f"exit_tiers.min_dte ({floor}) must be at most {first_dte}"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        parse_config(data)


def test_the_packaged_strangle_roll_is_off() -> None:
    assert load_config().strategies.short_strangle.roll.enabled is False


@pytest.mark.parametrize(
    ("roll", "field"),
    [
        ({"trigger_pct": 0}, "strategies.short_strangle.roll.trigger_pct"),
        ({"trigger": "points"}, "strategies.short_strangle.roll.trigger"),
        ({"roll_in": True}, "strategies.short_strangle.roll.roll_in"),
    ],
    ids=["out-of-range", "unknown-trigger", "unknown-key"],
)
def test_bad_strangle_roll_setting_names_the_dotted_field(roll: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"config field {field}: ")):
        parse_config({"strategies": {"short_strangle": {"roll": roll}}})
