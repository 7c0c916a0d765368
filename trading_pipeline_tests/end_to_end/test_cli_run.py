"""The README's first command: `trading-pipeline run` prints what the pipeline did, or one line on why not."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy.engine import make_url

from trading_pipeline import cli
from trading_pipeline.adapters.ledger.migrate import ledger_exists
from trading_pipeline.defs.partitions import EXECUTION_LANE_TAG
from trading_pipeline.defs.run_health import HOST_TAG, PID_TAG, process_tags
from trading_pipeline_tests.pipeline_harness import ENTRY_SESSION, write_test_config

RUN_ONE_SESSION = ["run", "--sessions", "1", "--end", ENTRY_SESSION.isoformat()]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Everything under tmp_path, no other TRADING_* variable, the short-lookback test configuration."""
    for name in list(os.environ):
        if name.upper().startswith("TRADING_") or name == "DAGSTER_HOME":
            monkeypatch.delenv(name)  # the command sets some itself; monkeypatch restores them afterwards
    monkeypatch.setenv("TRADING_CONFIG", str(write_test_config(tmp_path / "config")))
    monkeypatch.setenv("TRADING_DATA_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def test_run_command_prints_iv_rank_regime_entry_fill_positions_and_pnl(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Act
    exit_code = cli.main(RUN_ONE_SESSION)

    # Assert
    out = capsys.readouterr().out
    assert exit_code == 0
    assert f"ledger: sqlite:///{data_dir / 'ledger.sqlite'}" in out
    assert f"{ENTRY_SESSION} 10:00 ET [ok] SPY IVR" in out
    assert "regime range_calm" in out  # the VIX rose through 25 fewer than 8 closes before: not yet confirmed
    assert "ENTRY short_strangle x1 limit -" in out and "-> FILLED" in out
    assert "entries approved: 1; rejected: 0; exits: 0" in out
    assert "OPEN   short_strangle SELL SPY" in out
    # the opening costs until the position is closed: 2 contracts x 1.00 plus the SEC fee on the sale
    assert re.search(r"P&L: realized -2\.0[1-5]", out)
    assert "dbt analytics: built" in out
    assert (data_dir / "dagster_home" / "dagster.yaml").exists()
    assert (data_dir / "ledger.sqlite").exists()


def test_run_command_tags_its_runs_with_the_execution_lane_host_and_pid(data_dir: Path) -> None:
    # Act
    cli.main(RUN_ONE_SESSION)

    # Assert
    session_runs = dg.DagsterInstance.get().get_runs(dg.RunsFilter(job_name="trading_session_job"))
    assert len(session_runs) == 1
    tags = session_runs[0].tags
    assert tags[EXECUTION_LANE_TAG] == "execution"
    assert (tags[HOST_TAG], tags[PID_TAG]) == (socket.gethostname(), str(os.getpid()))


def _edit_config(edit: Callable[[dict], None]) -> None:
    path = Path(os.environ["TRADING_CONFIG"])
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))


def _data_dir_below_a_file(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp / "file").write_text("")
    monkeypatch.setenv("TRADING_DATA_DIR", str(tmp / "file" / "var"))


STARTUP_ERRORS: dict[str, tuple[Callable[[Path, pytest.MonkeyPatch], None], str]] = {
    "bad-env": (
        lambda tmp, mp: mp.setenv("TRADING_ENV", "production"),
        "TRADING_ENV='production' is invalid: Input should be 'sim', 'replay', 'paper' or 'live'",
    ),
    "unknown-variable": (
        lambda tmp, mp: mp.setenv("TRADING_LEDGR_URL", "sqlite:///x.sqlite"),
        "unknown environment variable TRADING_LEDGR_URL (did you mean TRADING_LEDGER_URL?)",
    ),
    "missing-config": (
        lambda tmp, mp: mp.setenv("TRADING_CONFIG", str(tmp / "absent.yaml")),
        f"cannot read configuration file {{tmp}}{os.sep}absent.yaml",
    ),
    "malformed-config": (
        lambda tmp, mp: Path(os.environ["TRADING_CONFIG"]).write_text("universe:\n  underlyings: [SPY\n"),
        "cannot read configuration file",
    ),
    "empty-config": (
        lambda tmp, mp: Path(os.environ["TRADING_CONFIG"]).write_text("# nothing\n"),
        "is incomplete: missing universe, account,",
    ),
    "strategy-outside-universe": (
        lambda tmp, mp: _edit_config(
            lambda data: data["strategies"]["short_strangle"].update(underlying="QQQ")
        ),
        "strategies.short_strangle.underlying 'QQQ' is not in universe.underlyings ['SPY']",
    ),
    "missing-ledger": (
        lambda tmp, mp: mp.setenv("TRADING_LEDGER_URL", f"sqlite:///{tmp / 'ledgr.sqlite'}"),
        "holds no ledger (no alembic_version table): check the URL, or create the ledger there with "
        "`trading-pipeline init-ledger`",
    ),
    "unreachable-ledger": (
        lambda tmp, mp: mp.setenv("TRADING_LEDGER_URL", "postgresql+psycopg://u:s3cret@127.0.0.1:1/ledger"),
        "TRADING_LEDGER_URL=postgresql+psycopg://u:***@127.0.0.1:1/ledger: cannot reach the ledger database",
    ),
    "uncreatable-data-dir": (
        _data_dir_below_a_file,
        f"TRADING_DATA_DIR={{tmp}}{os.sep}file{os.sep}var: cannot create the directory",
    ),
    "live-without-acknowledgement": (
        lambda tmp, mp: mp.setenv("TRADING_ENV", "live"),
        "TRADING_ENV=live refused: set TRADING_LIVE_ACKNOWLEDGEMENT",
    ),
}


@pytest.mark.parametrize("case", sorted(STARTUP_ERRORS))
def test_start_up_error_is_one_line_on_stderr_with_exit_code_2(
    case: str,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Arrange
    break_it, expected = STARTUP_ERRORS[case]
    break_it(tmp_path, monkeypatch)

    # Act
    exit_code = cli.main(RUN_ONE_SESSION)

    # Assert
    captured = capsys.readouterr()
    assert exit_code == 2
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("trading-pipeline: ")
    assert expected.replace("{tmp}", str(tmp_path)) in captured.err
    assert "s3cret" not in captured.err
    assert captured.out == ""


def test_init_ledger_creates_the_ledger_at_the_configured_url_and_run_then_accepts_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    url = f"sqlite:///{tmp_path / 'ledgers' / 'main.sqlite'}"
    monkeypatch.setenv("TRADING_LEDGER_URL", url)

    # Act
    exit_code = cli.main(["init-ledger"])

    # Assert
    assert exit_code == 0
    assert capsys.readouterr().out == f"ledger created at {url}\n"
    assert ledger_exists(url)
    cli.start_up()  # no error: the explicit ledger now exists


@pytest.mark.postgres
def test_init_ledger_prints_a_postgres_url_with_the_password_masked(
    data_dir: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange
    url = make_url(postgres_url).set(password="s3cret")
    monkeypatch.setenv("TRADING_LEDGER_URL", url.render_as_string(hide_password=False))

    # Act
    exit_code = cli.main(["init-ledger"])

    # Assert
    out = capsys.readouterr().out
    assert exit_code == 0
    assert out == f"ledger created at {url.render_as_string(hide_password=True)}\n"
    assert "s3cret" not in out


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    return child.pid


def test_run_sweeps_dead_runs_then_refuses_in_one_line_while_a_live_run_holds_the_lane(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: two STARTED runs in the lane, one of a killed process and one of a live one (this test)
    cli.ensure_dagster_home(data_dir)
    instance = dg.DagsterInstance.get()
    dead_pid = _dead_pid()
    lane = {EXECUTION_LANE_TAG: "execution"}
    started = dg.DagsterRunStatus.STARTED
    dead = instance.add_run(
        dg.DagsterRun(
            job_name="trading_session_job",
            status=started,
            tags={**lane, **process_tags(), PID_TAG: str(dead_pid)},
        )
    )
    live = instance.add_run(
        dg.DagsterRun(job_name="trading_session_job", status=started, tags={**lane, **process_tags()})
    )

    # Act
    exit_code = cli.main([*RUN_ONE_SESSION, "--lane-timeout", "0"])

    # Assert
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_code == 2
    assert f"run {dead.run_id} marked FAILED: its process {dead_pid}" in "\n".join(err)
    assert err[-1].startswith(
        "trading-pipeline: execution lane (trading/lane=execution) still held after 0 s"
    )
    assert live.run_id in err[-1]
    assert instance.get_run_by_id(dead.run_id).status is dg.DagsterRunStatus.FAILURE


def test_prune_command_reports_what_it_deleted_and_keeps_recent_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: one finished run and its run outputs, both recent
    import dagster as dg

    monkeypatch.setenv("TRADING_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    cli.ensure_dagster_home(tmp_path / "var")
    instance = dg.DagsterInstance.get()
    run = instance.create_run_for_job(dg.GraphDefinition(name="noop", node_defs=[]).to_job())
    instance.report_run_failed(run)
    (tmp_path / "var" / "run_outputs" / run.run_id).mkdir(parents=True)

    # Act
    exit_code = cli.main(["prune", "--older-than-days", "1"])

    # Assert
    assert exit_code == 0
    assert "pruned 0 runs finished before" in capsys.readouterr().out
    assert instance.get_run_by_id(run.run_id) is not None
    assert (tmp_path / "var" / "run_outputs" / run.run_id).exists()
