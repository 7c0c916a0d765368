"""The automatic kill switch in a real session: a daily loss beyond the limit halts new entries in the same
run, shows in the risk metadata and the ledger, and leaves exits running; only an operator resets it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.cli import main
from trading_pipeline.core.calendar import next_session
from trading_pipeline.core.positions import Position, PositionStatus
from trading_pipeline.core.trading_state import TradingState, TradingStateEvent, Trigger
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    asset_metadata,
    check_evaluations,
    make_harness,
    packaged_strategies,
)

DECISION_TIMES = {"decision_times_et": [MORNING.strftime("%H:%M"), AFTERNOON.strftime("%H:%M")]}
#: On the seed-7 market the book opened on ENTRY_SESSION gains on its afternoon and the next morning, then
#: loses 89.00 by the morning of TRIP_SESSION: a limit of 0.05% of equity (about 50) trips there only.
TRIP_SESSION = next_session(next_session(ENTRY_SESSION))
DAILY_LOSS_LIMIT = {"daily_loss_limit_pct": 0.05}
#: At TRIP_SESSION a loss stop of 1% of the premium closes the losing positions, so the tick that trips
#: the halt has exits to send while its strategies still propose entries.
STOP_ON_ANY_LOSS = {"loss_stop_multiple": 0.01}


@dataclass(frozen=True)
class KillRun:
    harness: PipelineHarness
    before: list[dg.ExecuteInProcessResult]
    tripped: dg.ExecuteInProcessResult
    positions: list[Position]
    events: list[TradingStateEvent]


@pytest.fixture(scope="module")
def kill_run(tmp_path_factory: pytest.TempPathFactory) -> KillRun:
    workdir = Path(tmp_path_factory.mktemp("kill_switch"))
    harness = make_harness(
        workdir, strategies=packaged_strategies(), sessions=DECISION_TIMES, risk=DAILY_LOSS_LIMIT
    )
    before = [
        harness.run_session(ENTRY_SESSION, MORNING),
        harness.run_session(ENTRY_SESSION, AFTERNOON),
        harness.run_session(next_session(ENTRY_SESSION), MORNING),
    ]
    exiting = {name: {**section, **STOP_ON_ANY_LOSS} for name, section in packaged_strategies().items()}
    exit_harness = make_harness(workdir, strategies=exiting, sessions=DECISION_TIMES, risk=DAILY_LOSS_LIMIT)
    tripped = exit_harness.run_session(TRIP_SESSION, MORNING)
    ledger = harness.with_ledger()
    try:
        return KillRun(
            harness, before, tripped, ledger.positions(open_only=False), ledger.trading_state_events()
        )
    finally:
        ledger.dispose()


def test_a_daily_loss_beyond_the_limit_trips_halted_in_the_ledger_with_its_cause(kill_run: KillRun) -> None:
    assert [asset_metadata(r, "risk_approved_orders")["trading_state"] for r in kill_run.before] == [
        "ACTIVE"
    ] * 3
    (event,) = kill_run.events
    assert event.state is TradingState.HALTED and event.trigger is Trigger.DAILY_LOSS
    assert event.cause.startswith("daily loss 89.00 exceeds the limit ")
    assert event.session == TRIP_SESSION


def test_the_trip_halts_new_entries_in_the_same_run_and_shows_in_the_metadata(kill_run: KillRun) -> None:
    metadata = asset_metadata(kill_run.tripped, "risk_approved_orders")
    assert metadata["trading_state"] == "HALTED"
    assert [trip["trigger"] for trip in metadata["kill_trips"]] == ["daily_loss"]
    assert metadata["daily_pnl"] == -89.0
    assert metadata["approved"] == 0 and metadata["rejected"] >= 1
    assert metadata["rejected_by_trading_state"] == metadata["rejected"]
    # The blocking check passes: nothing fresh was approved while HALTED.
    assert all(e.passed for e in check_evaluations(kill_run.tripped).values())


def test_exits_still_run_while_halted(kill_run: KillRun) -> None:
    # The losing positions hit their loss stop on the tick that tripped the halt, and close.
    assert kill_run.tripped.success
    reasons = asset_metadata(kill_run.tripped, "exit_orders")["reasons"]
    assert reasons and all(reason.startswith("loss stop: ") for reason in reasons.values())
    closed = {p.position_id for p in kill_run.positions if p.status is PositionStatus.CLOSED}
    assert set(reasons) <= closed


def test_only_an_operator_resets_the_trading_state(kill_run: KillRun, monkeypatch, capsys) -> None:
    monkeypatch.setenv("TRADING_LEDGER_URL", kill_run.harness.ledger_url)
    monkeypatch.chdir(kill_run.harness.workdir)

    assert main(["trading-state"]) == 0
    assert capsys.readouterr().out.startswith("trading state: HALTED (daily loss ")
    assert main(["trading-state", "reset", "--operator", "ana", "--reason", "loss reviewed"]) == 0
    assert capsys.readouterr().out.startswith("trading state: ACTIVE (ACTIVE by ana: loss reviewed)")
