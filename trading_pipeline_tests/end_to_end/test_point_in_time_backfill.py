"""Point in time: a backfill of session D after D+1 traded leaves D exactly as it was, and the next
tick after a crash knows the order the crashed tick sent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from trading_pipeline.core.orders import OrderStatus
from trading_pipeline_tests.end_to_end.test_crash_reconciliation import _crash_resource
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    asset_metadata,
    make_harness,
)

NEXT_SESSION = date(2025, 10, 14)  # seed 7 enters a second strangle here
VIEWED = {
    "positions": ("open_positions",),
    "portfolio_pnl": ("realized_pnl", "unrealized_pnl", "equity", "open_positions", "closed_positions"),
    "portfolio_risk": ("portfolio_delta", "portfolio_gamma", "portfolio_vega", "portfolio_theta"),
    "position_marks": ("positions", "unrealized_pnl"),
}


def _session_view(result: object) -> dict[str, tuple[object, ...]]:
    return {asset: tuple(asset_metadata(result, asset)[k] for k in keys) for asset, keys in VIEWED.items()}


def test_backfill_of_a_session_after_the_next_one_traded_leaves_its_positions_and_pnl_as_they_were(
    tmp_path: Path, ledger_url: str
) -> None:
    # Arrange: D enters one strangle, D+1 a second
    harness = make_harness(tmp_path, ledger_url=ledger_url)
    first = harness.run_session(ENTRY_SESSION, MORNING)
    harness.run_session(NEXT_SESSION, MORNING)
    tables_before = harness.ledger_tables()
    book_before = harness.broker_book()

    # Act: D again, by hand
    backfill = harness.run_session(ENTRY_SESSION, MORNING)

    # Assert: D sees only its own position, with the same marks and P&L as the first time
    assert first.success and backfill.success
    assert _session_view(backfill) == _session_view(first)
    assert asset_metadata(backfill, "positions")["open_positions"] == 1
    tables_after = harness.ledger_tables()
    for table in ("order_intents", "orders", "fills", "positions", "position_marks", "decisions"):
        assert tables_after[table].equals(tables_before[table]), table
    assert harness.broker_book() == book_before


def test_the_next_tick_after_a_crash_records_the_orphaned_order_and_counts_it(tmp_path: Path) -> None:
    # Arrange: the 10:00 tick sent its entry and died before the ledger heard back
    harness = make_harness(tmp_path)
    harness.run_session(ENTRY_SESSION, MORNING, broker=_crash_resource(harness))
    [orphan] = harness.broker_book()

    # Act: the 15:30 tick runs (not a rerun of 10:00)
    afternoon = harness.run_session(ENTRY_SESSION, AFTERNOON)

    # Assert: reconciled before risk review; the session's one entry is spent; nothing re-sent
    assert afternoon.success
    reconciliation = asset_metadata(afternoon, "broker_reconciliation")
    assert (reconciliation["synced_reconciled"], reconciliation["breaks"]) == (1, 0)
    assert asset_metadata(afternoon, "risk_approved_orders")["approved"] == 0
    assert asset_metadata(afternoon, "positions")["open_positions"] == 1
    tables = harness.ledger_tables()
    assert tables["order_intents"]["status"].tolist() == [OrderStatus.FILLED.value]
    assert tables["positions"]["position_id"].tolist() == [orphan["client_order_id"]]
    assert [row["client_order_id"] for row in harness.broker_book()] == [orphan["client_order_id"]]


def test_a_past_tick_rerun_against_a_real_market_records_but_never_sends(tmp_path: Path) -> None:
    # Arrange: the paper environment; 2025-12-01 10:00 is long past on the wall clock
    harness = make_harness(tmp_path, env="paper")

    # Act
    result = harness.run_session(ENTRY_SESSION, MORNING)

    # Assert
    submissions = asset_metadata(result, "order_submissions")
    assert (submissions["sent"], submissions["held"]) == (0, 1)
    assert harness.ledger_tables()["order_intents"]["status"].tolist() == [OrderStatus.CANCELLED.value]
    assert harness.broker_book() == []
