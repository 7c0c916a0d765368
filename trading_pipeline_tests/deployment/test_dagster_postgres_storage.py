"""The Docker instance's PostgreSQL storage (docker/dagster.yaml) runs a job on SQLAlchemy 2.1.

Plain `postgresql://` means psycopg 3 under SQLAlchemy 2.1 and Dagster's event log then fails on
NOTIFY; this runs a real job against the exact storage section the deployment ships.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres


def _docker_storage() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "docker" / "dagster.yaml").read_text())["storage"]


def _point_env_at(storage: dict[str, Any], url: URL, monkeypatch: pytest.MonkeyPatch) -> None:
    """Set every environment variable the storage section reads to the test database's coordinates."""
    values = {
        "hostname": url.host or "127.0.0.1",
        "port": str(url.port or 5432),
        "username": url.username or "postgres",
        "password": url.password or "",
        "db_name": url.database,
    }
    for field, source in storage["postgres"]["postgres_db"].items():
        if isinstance(source, dict):
            monkeypatch.setenv(source["env"], values[field])


@dg.asset
def heartbeat() -> int:
    """A trivial asset: enough to write a run, its events and a materialization."""
    return 1


def test_docker_storage_config_stores_runs_and_events_in_postgres(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(postgres_url)
    storage = _docker_storage()
    _point_env_at(storage, url, monkeypatch)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump({"telemetry": {"enabled": False}, "storage": storage}))

    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([heartbeat], instance=instance)
        stored_runs = instance.get_runs()
        materialization = instance.get_latest_materialization_event(dg.AssetKey("heartbeat"))
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)

    assert result.success
    assert [run.run_id for run in stored_runs] == [result.run_id]
    assert stored_runs[0].status == dg.DagsterRunStatus.SUCCESS
    assert materialization is not None and materialization.run_id == result.run_id
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            event_types = set(
                conn.execute(
                    text("SELECT dagster_event_type FROM event_logs WHERE run_id = :run_id"),
                    {"run_id": result.run_id},
                ).scalars()
            )
    finally:
        engine.dispose()
    expected = {  # stored under their legacy names (PIPELINE_START, ...): compare the enum values
        dg.DagsterEventType.RUN_START.value,
        dg.DagsterEventType.ASSET_MATERIALIZATION.value,
        dg.DagsterEventType.RUN_SUCCESS.value,
    }
    assert not expected - event_types, f"events in PostgreSQL: {sorted(event_types)}"
