"""Each strategy may have its own decision times (ET); empty means the sessions' decision times."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
import yaml

from trading_pipeline.settings import ConfigError, default_config_path, load_config, parse_config


def _packaged() -> dict[str, Any]:
    return yaml.safe_load(default_config_path().read_text())


def test_packaged_strategies_use_the_sessions_decision_times() -> None:
    # Arrange
    config = load_config()

    # Act
    times = {name: config.decision_times_of(name) for name in config.strategies.sections()}

    # Assert
    assert set(times.values()) == {(time(10, 0), time(15, 30))}


def test_a_strategy_with_its_own_decision_times_ticks_at_those_sorted() -> None:
    # Arrange
    data = _packaged()
    data["strategies"]["credit_spread"]["decision_times_et"] = ["14:30", "11:00"]

    # Act
    config = parse_config(data)

    # Assert
    assert config.decision_times_of("credit_spread") == (time(11, 0), time(14, 30))
    assert config.decision_times_of("iron_condor") == (time(10, 0), time(15, 30))


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (["09:00"], r"strategies.short_strangle.decision_times_et: .*09:00 is outside a regular session"),
        (["16:00"], r"decision_times_et 16:00 is outside a regular session, 09:30 to 16:00 ET"),
        (["10:00", "10:00"], r"decision_times_et lists a time twice: \['10:00', '10:00'\]"),
        (["10:00:30"], r"decision_times_et 10:00:30 is not a whole minute"),
    ],
)
def test_unusable_strategy_decision_times_are_a_configuration_error_naming_the_field(
    times: list[str], message: str
) -> None:
    # Arrange
    data = _packaged()
    data["strategies"]["short_strangle"]["decision_times_et"] = times

    # Act / Assert
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_a_zero_dte_window_is_judged_against_its_own_decision_times() -> None:
    # Arrange: its 10:00 window holds a sessions' time but none of its own (13:00)
    data = _packaged()
    data["strategies"]["zero_dte"]["decision_times_et"] = ["13:00"]

    # Act / Assert
    with pytest.raises(ConfigError, match=r"holds none of strategies.zero_dte.decision_times_et \['13:00'\]"):
        parse_config(data)
    data["strategies"]["zero_dte"]["entry_times_et"] = ["12:45"]
    assert parse_config(data).decision_times_of("zero_dte") == (time(13, 0),)
