"""Invariant 1 end to end: rerunning a session never sends a second order (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from trading_pipeline.core.decisions import DecisionKind
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    asset_metadata,
    make_harness,
)

INTENT_COLUMNS = ["client_order_id", "status", "effect", "limit_price", "decision_time"]
ORDER_COLUMNS = ["client_order_id", "broker_order_id", "status", "filled_quantity"]


def _orders_view(harness: PipelineHarness) -> tuple[list[tuple], list[tuple], int, int]:
    tables = harness.ledger_tables()
    intents = [tuple(row) for row in tables["order_intents"][INTENT_COLUMNS].itertuples(index=False)]
    orders = [tuple(row) for row in tables["orders"][ORDER_COLUMNS].itertuples(index=False)]
    return intents, orders, len(tables["fills"]), len(tables["positions"])


def test_rerunning_the_same_decision_three_times_sends_one_order(tmp_path: Path, ledger_url: str) -> None:
    harness = make_harness(tmp_path, ledger_url=ledger_url)
    first = harness.run_session(ENTRY_SESSION, MORNING)
    after_first = _orders_view(harness)

    reruns = [harness.run_session(ENTRY_SESSION, MORNING) for _ in range(2)]

    assert first.success and all(run.success for run in reruns)
    intents, orders, fills, positions = _orders_view(harness)
    assert (intents, orders, fills, positions) == after_first
    assert len(intents) == 1
    assert intents[0][1] == OrderStatus.FILLED.value
    assert orders == [(intents[0][0], orders[0][1], OrderStatus.FILLED.value, 1)]
    assert fills == 1
    assert positions == 1
    assert [row["client_order_id"] for row in harness.broker_book()] == [intents[0][0]]
    assert asset_metadata(first, "order_submissions")["sent"] == 1
    for rerun in reruns:
        submissions = asset_metadata(rerun, "order_submissions")
        assert (submissions["sent"], submissions["already_recorded"]) == (0, 1)
        assert asset_metadata(rerun, "risk_approved_orders")["replayed_decisions"] >= 1


def test_rerun_at_a_later_decision_time_rejects_a_second_entry_with_its_reason(
    tmp_path: Path, ledger_url: str
) -> None:
    harness = make_harness(tmp_path, ledger_url=ledger_url)
    harness.run_session(ENTRY_SESSION, MORNING)
    before = _orders_view(harness)

    later = harness.run_session(ENTRY_SESSION, AFTERNOON)

    assert later.success
    assert _orders_view(harness) == before
    assert len(harness.broker_book()) == 1
    assert asset_metadata(later, "risk_approved_orders")["approved"] == 0
    ledger = harness.with_ledger()
    try:
        entries = [d for d in ledger.decisions(ENTRY_SESSION) if d.kind is DecisionKind.ENTRY]
        open_positions = ledger.positions(open_only=True)
    finally:
        ledger.dispose()
    assert len(open_positions) == 1
    approved = [d for d in entries if d.approved]
    rejected = [d for d in entries if not d.approved]
    assert len(approved) == 1
    assert rejected, "the later run's candidate must be recorded as rejected"
    assert all(d.client_order_id is None for d in rejected)
    assert any(
        "entries: 1 short_strangle entries already this session (max 1)" in reason
        for d in rejected
        for reason in d.reasons
    )
