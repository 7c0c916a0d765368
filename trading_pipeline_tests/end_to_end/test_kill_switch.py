"""Kill switch on: the session runs, every entry is rejected with the reason, and nothing is ordered."""

from __future__ import annotations

from pathlib import Path

from trading_pipeline.core.decisions import DecisionKind
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    asset_metadata,
    check_evaluations,
    make_harness,
)


def test_session_with_kill_switch_on_records_rejections_and_sends_nothing(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, risk={"kill_switch": True})

    result = harness.run_session(ENTRY_SESSION, MORNING)

    assert result.success
    assert all(e.passed for e in check_evaluations(result).values())
    assert asset_metadata(result, "trade_candidates")["candidates"] >= 1
    assert asset_metadata(result, "order_submissions")["sent"] == 0
    tables = harness.ledger_tables()
    assert tables["order_intents"].empty
    assert tables["orders"].empty
    assert harness.broker_book() == []
    ledger = harness.with_ledger()
    try:
        decisions = ledger.decisions(ENTRY_SESSION)
    finally:
        ledger.dispose()
    assert decisions, "the rejected candidates must be recorded as decisions"
    assert all(d.kind is DecisionKind.ENTRY and not d.approved for d in decisions)
    assert all(any("kill switch" in reason for reason in d.reasons) for d in decisions)
