"""Run `dagster dev` on the repo's workspace in a child process and query its GraphQL API.

Shared by the UI smoke test and `benchmarks/ui_first_run.py`. The process is started from Python
(a shell `&` would make it ignore SIGTERM) and stopped with SIGTERM, then killed after a grace period.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCATION_NAME = "trading_pipeline"  # workspace.yaml
REPOSITORY_NAME = "__repository__"  # the implicit repository of a Definitions object
STOP_GRACE_SECONDS = 20.0
TERMINAL_RUN_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})

#: Variables a test session may have set (the definitions module sets the analytics paths on import):
#: the child derives them from its own TRADING_DATA_DIR instead.
_INHERITED_PATHS = ("TRADING_LEDGER_URL", "TRADING_SNAPSHOT_DIR", "TRADING_ANALYTICS_DB", "TRADING_CONFIG")

LAUNCH_RUN = """
mutation LaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status startTime endTime }
    ... on Error { message }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    status: str
    seconds: float  # from the launch request to a terminal status (queueing included)
    execution_seconds: float | None  # the run's own start-to-end time, as Dagster recorded it


@dataclass(frozen=True)
class DagsterDev:
    """A running `dagster dev`: its base URL, the time it took to answer, and its log file."""

    base_url: str
    seconds_to_server_info: float
    log_path: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def launch_partition_run(
        self,
        job_name: str,
        partition_key: str,
        timeout: float = 300.0,
        tags: dict[str, str] | None = None,
    ) -> RunOutcome:
        """Launch one partition of a job through GraphQL (with `tags`) and wait for the run to finish."""
        started = time.monotonic()
        every_tag = {"dagster/partition": partition_key, **(tags or {})}
        params = {
            "selector": {
                "repositoryLocationName": LOCATION_NAME,
                "repositoryName": REPOSITORY_NAME,
                "jobName": job_name,
            },
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in every_tag.items()]},
        }
        launched = self.graphql(LAUNCH_RUN, {"executionParams": params})["launchRun"]
        if launched["__typename"] != "LaunchRunSuccess":
            raise AssertionError(f"launchRun failed: {launched}")
        run_id = launched["run"]["runId"]
        while True:
            run = self.graphql(RUN_STATUS, {"runId": run_id})["runOrError"]
            if run.get("status") in TERMINAL_RUN_STATUSES:
                break
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"run {run_id} still {run.get('status')} after {timeout:.0f} s")
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        execution = run["endTime"] - run["startTime"] if run["startTime"] and run["endTime"] else None
        return RunOutcome(run_id, run["status"], elapsed, execution)


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM `dagster dev`, then its leftover children; kill whatever outlives the grace period.

    The process runs in its own session (pgid == pid), so the group holds exactly what it spawned:
    code servers it started would otherwise linger until their heartbeat times out (~45 s).
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_GRACE_SECONDS)
    pgid = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    process.wait(timeout=10)


@contextmanager
def dagster_dev(workdir: Path, timeout: float = 90.0) -> Iterator[DagsterDev]:
    """`dagster dev -w workspace.yaml` on a fresh DAGSTER_HOME and data directory under `workdir`."""
    home = workdir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in _INHERITED_PATHS}
    env |= {
        "DAGSTER_HOME": str(home),
        "TRADING_ENV": "sim",
        "TRADING_DATA_DIR": str(workdir / "data"),
        "DO_NOT_TRACK": "1",
    }
    log_path = workdir / "dagster_dev.log"
    command = [sys.executable, "-m", "dagster", "dev", "-w", "workspace.yaml"]
    command += ["-h", "127.0.0.1", "-p", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"dagster dev exited with {process.returncode}:\n{_tail(log_path)}")
                try:
                    if httpx.get(f"{base_url}/server_info", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"no /server_info after {timeout:.0f} s:\n{_tail(log_path)}")
                time.sleep(0.25)
            yield DagsterDev(base_url, time.monotonic() - started, log_path)
        finally:
            _stop(process)
