"""The CLI's run arguments: a session count, or every session of a date range (replay backtests)."""

from __future__ import annotations

from datetime import date

import pytest

from trading_pipeline.cli import DEFAULT_SESSIONS, _parse
from trading_pipeline.core.calendar import sessions_between


def test_run_with_start_and_end_runs_every_session_of_the_range() -> None:
    # Act
    command, args = _parse(["run", "--start", "2008-09-02", "--end", "2008-12-31"])

    # Assert
    assert command == "run"
    assert args.end == date(2008, 12, 31)
    assert args.sessions == len(sessions_between(date(2008, 9, 2), date(2008, 12, 31))) == 85


def test_run_without_start_or_sessions_runs_the_default_count() -> None:
    _, args = _parse(["run"])
    assert args.sessions == DEFAULT_SESSIONS


def test_run_with_both_start_and_sessions_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse(["run", "--start", "2008-09-02", "--sessions", "5"])
    assert exit_info.value.code == 2
    assert "give --start or --sessions, not both" in capsys.readouterr().err


def test_run_with_a_start_after_the_end_is_refused_naming_both(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(["run", "--start", "2009-01-05", "--end", "2008-12-31"])
    assert "no NYSE session from --start 2009-01-05 to --end 2008-12-31" in capsys.readouterr().err
