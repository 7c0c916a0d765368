"""Both instance files pass Dagster's own config validation, monitor runs and purge old ticks.

A misspelt key in dagster.yaml is otherwise only noticed when `dagster dev` or the daemon starts.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.scheduler.instigation import TickStatus

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_INSTANCE = REPO_ROOT / "dagster.yaml"
DOCKER_INSTANCE = REPO_ROOT / "docker" / "dagster.yaml"
INSTANCE_FILES = pytest.mark.parametrize(
    "instance_file", [ROOT_INSTANCE, DOCKER_INSTANCE], ids=["dagster.yaml", "docker/dagster.yaml"]
)


def _home_with(instance_file: Path, home: Path) -> Path:
    """A DAGSTER_HOME holding a copy of `instance_file` as its dagster.yaml."""
    home.mkdir()
    shutil.copy(instance_file, home / "dagster.yaml")
    return home


def _validated(instance_file: Path, home: Path) -> Mapping[str, Any]:
    """The instance config as Dagster validates it (raises DagsterInvalidConfigError on an unknown key)."""
    config, _ = dagster_instance_config(str(_home_with(instance_file, home)))
    return config


@INSTANCE_FILES
def test_instance_file_monitors_runs_with_timeouts_and_never_resumes_them(
    instance_file: Path, tmp_path: Path
) -> None:
    monitoring = _validated(instance_file, tmp_path / "home")["run_monitoring"]

    assert monitoring["enabled"] is True
    assert monitoring["max_resume_run_attempts"] == 0
    assert monitoring["start_timeout_seconds"] > 0
    assert monitoring["cancel_timeout_seconds"] > 0
    assert monitoring["max_runtime_seconds"] > 0


@INSTANCE_FILES
def test_instance_file_purges_schedule_and_sensor_ticks(instance_file: Path, tmp_path: Path) -> None:
    retention = _validated(instance_file, tmp_path / "home")["retention"]

    assert retention["schedule"]["purge_after_days"] == 90
    assert retention["sensor"]["purge_after_days"] == {
        "skipped": 7,
        "started": 90,
        "success": 90,
        "failure": 90,
    }


def test_root_instance_applies_monitoring_and_tick_retention(tmp_path: Path) -> None:
    home = _home_with(ROOT_INSTANCE, tmp_path / "home")

    with dg.DagsterInstance.from_config(str(home)) as instance:
        monitoring_enabled = instance.run_monitoring_enabled
        resume_attempts = instance.run_monitoring_max_resume_run_attempts
        sensor_ticks = instance.get_tick_retention_settings(InstigatorType.SENSOR)
        schedule_ticks = instance.get_tick_retention_settings(InstigatorType.SCHEDULE)

    assert monitoring_enabled is True
    assert resume_attempts == 0
    assert sensor_ticks[TickStatus.SKIPPED] == 7
    assert set(schedule_ticks.values()) == {90}


def test_instance_file_with_a_misspelt_key_fails_validation(tmp_path: Path) -> None:
    data = yaml.safe_load(ROOT_INSTANCE.read_text())
    data["run_monitoring"]["max_resume_attempts"] = 0
    misspelt = tmp_path / "dagster.yaml"
    misspelt.write_text(yaml.safe_dump(data))

    with pytest.raises(DagsterInvalidConfigError, match="max_resume_attempts"):
        _validated(misspelt, tmp_path / "home")
