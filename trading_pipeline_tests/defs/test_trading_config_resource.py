"""The configuration resource reads the file again when it changes: no process trades on old contents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trading_pipeline.defs.resources import TradingConfigResource
from trading_pipeline.settings import ConfigError
from trading_pipeline_tests.pipeline_harness import write_test_config


def test_an_edited_config_file_is_read_again_at_the_same_path(tmp_path: Path) -> None:
    # Arrange: a process has loaded the file once
    path = write_test_config(tmp_path, risk={"max_open_positions_per_strategy": 3})
    resource = TradingConfigResource(config_path=str(path))
    assert resource.load().risk.max_open_positions_per_strategy == 3

    # Act: the same path now holds other contents
    data = yaml.safe_load(path.read_text())
    data["risk"]["max_open_positions_per_strategy"] = 1
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    # Assert
    assert resource.load().risk.max_open_positions_per_strategy == 1


def test_an_unchanged_config_file_is_parsed_once(tmp_path: Path) -> None:
    resource = TradingConfigResource(config_path=str(write_test_config(tmp_path)))

    assert resource.load() is resource.load()


def test_a_missing_config_file_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"

    with pytest.raises(ConfigError, match=r"nowhere\.yaml"):
        TradingConfigResource(config_path=str(missing)).load()
