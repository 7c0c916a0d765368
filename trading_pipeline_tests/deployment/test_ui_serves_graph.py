"""The Dagster UI (`dagster dev` on workspace.yaml) starts and serves the whole asset graph and jobs."""

from __future__ import annotations

from pathlib import Path

import pytest

from trading_pipeline_tests.architecture import DBT_MARTS, SESSION_ASSETS
from trading_pipeline_tests.deployment.dagster_dev import dagster_dev

pytestmark = pytest.mark.slow

ASSET_NODES = "{ assetNodes { assetKey { path } } }"
REPOSITORY_JOBS = """
{
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name } } }
  }
}
"""
ARCHITECTURE_ASSETS = SESSION_ASSETS | {"ledger_snapshot/fills"} | DBT_MARTS


def test_dagster_dev_serves_asset_graph_and_trading_session_job(tmp_path: Path) -> None:
    with dagster_dev(tmp_path) as ui:
        print(f"\ndagster dev answered /server_info after {ui.seconds_to_server_info:.1f} s")
        nodes = ui.graphql(ASSET_NODES)["assetNodes"]
        repositories = ui.graphql(REPOSITORY_JOBS)["repositoriesOrError"]

    served = {"/".join(node["assetKey"]["path"]) for node in nodes}
    assert not ARCHITECTURE_ASSETS - served, f"assets not served: {sorted(ARCHITECTURE_ASSETS - served)}"
    assert repositories["__typename"] == "RepositoryConnection"
    jobs = {job["name"] for repo in repositories["nodes"] for job in repo["jobs"]}
    assert not {"trading_session_job", "analytics_job"} - jobs, f"jobs served: {sorted(jobs)}"
    assert {repo["location"]["name"] for repo in repositories["nodes"]} == {"trading_pipeline"}
