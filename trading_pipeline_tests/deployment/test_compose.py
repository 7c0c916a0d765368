"""The Docker deployment files: services, dependencies, shared environment, secrets and instance config."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGSTER_SERVICES = ("user_code", "webserver", "daemon")
#: The one-shot service that creates the ledger before the code server loads the definitions.
LEDGER_INIT = "ledger_init"
EXECUTION_LANE_LIMIT = {"key": "trading/lane", "value": "execution", "limit": 1}
#: Environment variables whose values are secrets and must be interpolated, never written out.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY", re.IGNORECASE)
REQUIRED_FROM_ENV = re.compile(r"^\$\{[A-Z_]+:\?[^}]+\}$")
#: user:password@ in a URL, where either part may be a ${...} interpolation (which can contain ':').
URL_CREDENTIALS = re.compile(r"://(?:\$\{[^}]*\}|[^:@/]*):(?P<password>\$\{[^}]*\}|[^@/]*)@")


def _load(relative: str) -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / relative).read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load("docker-compose.yml")


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _lane_limits(instance: dict[str, Any]) -> list[dict[str, Any]]:
    coordinator = instance["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    return coordinator["config"]["tag_concurrency_limits"]


def test_compose_defines_postgres_code_server_webserver_and_daemon(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert set(services) == {"postgres", LEDGER_INIT, *DAGSTER_SERVICES}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["postgres"]
    volume = services["postgres"]["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert services["user_code"]["command"][:3] == ["dagster", "code-server", "start"]
    assert "trading_pipeline.definitions" in services["user_code"]["command"]
    assert services["webserver"]["command"][0] == "dagster-webserver"
    assert services["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    for name in ("webserver", "daemon"):
        assert "/opt/dagster/app/docker/workspace.yaml" in services[name]["command"]


def test_webserver_and_daemon_wait_for_healthy_postgres_and_the_code_server(compose: dict[str, Any]) -> None:
    for name in ("webserver", "daemon"):
        depends_on = compose["services"][name]["depends_on"]

        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert "user_code" in depends_on


def test_ledger_is_created_before_the_code_server_loads_the_definitions(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert services[LEDGER_INIT]["command"] == ["trading-pipeline", "init-ledger"]
    assert services[LEDGER_INIT]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services[LEDGER_INIT]["restart"] == "no"
    user_code_waits_for = services["user_code"]["depends_on"][LEDGER_INIT]
    assert user_code_waits_for["condition"] == "service_completed_successfully"


def test_every_dagster_service_shares_the_instance_and_trading_environment(compose: dict[str, Any]) -> None:
    environments = [_environment(compose["services"][name]) for name in (*DAGSTER_SERVICES, LEDGER_INIT)]

    assert all(env == environments[0] for env in environments)
    env = environments[0]
    assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert env["TRADING_ENV"] == "sim"
    assert env["DO_NOT_TRACK"] == "1"
    assert env["TRADING_LEDGER_URL"].startswith("postgresql+psycopg://")
    assert {"HOST", "PORT", "USER", "PASSWORD", "DB"} <= {
        key.removeprefix("DAGSTER_POSTGRES_") for key in env if key.startswith("DAGSTER_POSTGRES_")
    }


def test_secrets_are_only_interpolated_from_the_environment(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_FROM_ENV.match(value), f"{name}.{key} must be ${{VAR:?message}}"
            credentials = URL_CREDENTIALS.search(value)
            if credentials:
                password = credentials["password"]
                assert REQUIRED_FROM_ENV.match(password), f"{name}.{key} embeds a literal password"


def test_docker_instance_uses_psycopg2_postgres_storage_from_the_environment() -> None:
    storage = _load("docker/dagster.yaml")["storage"]["postgres"]["postgres_db"]

    assert storage["scheme"] == "postgresql+psycopg2"
    for field in ("hostname", "port", "username", "password", "db_name"):
        assert set(storage[field]) == {"env"}, f"{field} must come from an environment variable"


def test_docker_instance_keeps_the_execution_lane_of_the_root_instance() -> None:
    docker_instance = _load("docker/dagster.yaml")
    root_instance = _load("dagster.yaml")

    assert EXECUTION_LANE_LIMIT in _lane_limits(docker_instance)
    assert _lane_limits(docker_instance) == _lane_limits(root_instance)
    assert docker_instance["run_launcher"]["class"] == "DefaultRunLauncher"
    assert docker_instance["telemetry"] == {"enabled": False}


def test_root_instance_disables_telemetry_and_limits_the_execution_lane() -> None:
    root_instance = _load("dagster.yaml")

    assert root_instance["telemetry"] == {"enabled": False}
    assert EXECUTION_LANE_LIMIT in _lane_limits(root_instance)


def test_docker_workspace_loads_the_code_server_over_grpc() -> None:
    (location,) = _load("docker/workspace.yaml")["load_from"]

    assert location["grpc_server"]["host"] == "user_code"
    assert location["grpc_server"]["port"] == 4000


def _has_compose_plugin() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    result = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
    return result.returncode == 0


@pytest.mark.skipif(not _has_compose_plugin(), reason="the docker CLI has no compose plugin here")
def test_docker_compose_accepts_the_file() -> None:
    result = subprocess.run(
        ["docker", "compose", "config", "-q"],
        cwd=REPO_ROOT,
        env=os.environ | {"POSTGRES_PASSWORD": "placeholder"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
