"""The README's first command: `trading-pipeline run` prints what the pipeline did."""

from pathlib import Path

import pytest

from trading_pipeline import cli
from trading_pipeline_tests.pipeline_harness import ENTRY_SESSION, write_test_config


def test_run_command_prints_iv_rank_regime_entry_fill_positions_and_pnl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Arrange: everything under tmp_path; the short-lookback test configuration
    monkeypatch.setenv("TRADING_CONFIG", str(write_test_config(tmp_path / "config")))
    monkeypatch.setenv("TRADING_DATA_DIR", str(tmp_path / "var"))
    # the command sets these itself; monkeypatch restores them afterwards
    for name in ("TRADING_LEDGER_URL", "DAGSTER_HOME", "TRADING_SNAPSHOT_DIR", "TRADING_ANALYTICS_DB"):
        monkeypatch.delenv(name, raising=False)

    # Act
    exit_code = cli.main(["run", "--sessions", "1", "--end", ENTRY_SESSION.isoformat()])

    # Assert
    out = capsys.readouterr().out
    assert exit_code == 0
    assert f"{ENTRY_SESSION} 10:00 ET [ok] SPY IVR" in out
    assert "regime range_volatile" in out
    assert "ENTRY short_strangle x1 limit -" in out and "-> FILLED" in out
    assert "entries approved: 1; rejected: 0; exits: 0" in out
    assert "OPEN   short_strangle SELL SPY" in out
    assert "P&L: realized -1.30" in out  # the opening commission, until the position is closed
    assert "dbt analytics: built" in out
    assert (tmp_path / "var" / "dagster_home" / "dagster.yaml").exists()
    assert (tmp_path / "var" / "ledger.sqlite").exists()
