"""One whole session on the simulated market with a SQLite ledger: checks pass, an entry fills."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from trading_pipeline.core.instruments import Side
from trading_pipeline.core.orders import OrderStatus, PositionEffect
from trading_pipeline.core.positions import Position, PositionStatus
from trading_pipeline.settings import load_config
from trading_pipeline_tests.architecture import SESSION_ASSETS, SNAPSHOT_ASSETS
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    check_evaluations,
    decision_time,
    make_harness,
    materialized,
)

SESSION_GRAPH = SESSION_ASSETS | SNAPSHOT_ASSETS
PIPELINE_CHECKS = {
    "chain_quotes_not_crossed",
    "chain_quotes_fresh",
    "chain_complete_around_spot",
    "chain_iv_solvable",
    "iv_rank_history_sufficient_and_in_range",
    "candidates_well_formed",
    "approved_orders_within_limits",
    "broker_matches_ledger",
}


@dataclass(frozen=True)
class SessionRun:
    harness: PipelineHarness
    result: dg.ExecuteInProcessResult
    tables: dict[str, Any]
    positions: list[Position]


@pytest.fixture(scope="module")
def session_run(tmp_path_factory: pytest.TempPathFactory) -> SessionRun:
    """The session job for ENTRY_SESSION at 10:00 ET, run once for every test in this module."""
    harness = make_harness(Path(tmp_path_factory.mktemp("session_run")))
    result = harness.run_session(ENTRY_SESSION, MORNING)
    ledger = harness.with_ledger()
    try:
        positions = ledger.positions(open_only=False)
    finally:
        ledger.dispose()
    return SessionRun(harness, result, harness.ledger_tables(), positions)


def test_session_run_succeeds_and_materializes_the_whole_session_graph(session_run: SessionRun) -> None:
    assert session_run.result.success
    assert materialized(session_run.result) == SESSION_GRAPH


def test_session_run_evaluates_every_pipeline_check_and_all_pass(session_run: SessionRun) -> None:
    evaluations = check_evaluations(session_run.result)

    assert set(evaluations) == PIPELINE_CHECKS
    assert {name for name, e in evaluations.items() if not e.passed} == set()


def test_session_run_records_one_opening_intent_for_the_approved_entry(session_run: SessionRun) -> None:
    intents = session_run.tables["order_intents"]
    decisions = session_run.tables["decisions"]

    assert len(intents) == 1
    intent = intents.iloc[0]
    assert intent["effect"] == PositionEffect.OPEN.value
    assert intent["status"] == OrderStatus.FILLED.value
    assert intent["session"] == ENTRY_SESSION
    approved = decisions[decisions["approved"].astype(bool)]
    assert list(approved["client_order_id"]) == [intent["client_order_id"]]


def test_session_run_records_the_order_as_filled_at_the_broker(session_run: SessionRun) -> None:
    orders = session_run.tables["orders"]
    intent_id = session_run.tables["order_intents"].iloc[0]["client_order_id"]

    assert list(orders["client_order_id"]) == [intent_id]
    assert list(orders["status"]) == [OrderStatus.FILLED.value]
    assert list(orders["filled_quantity"]) == [1]
    assert [row["client_order_id"] for row in session_run.harness.broker_book()] == [intent_id]


def test_session_run_records_one_fill_with_decimal_money(session_run: SessionRun) -> None:
    fills = session_run.tables["fills"]

    assert len(fills) == 1
    fill = fills.iloc[0]
    assert isinstance(fill["net_value"], Decimal)
    assert isinstance(fill["commission"], Decimal)
    assert fill["net_value"] < 0  # a short strangle is sold for a credit
    # 2 contracts x (0.65 commission + 0.30 exchange + 0.05 regulatory) = 2.00, plus the SEC fee on the
    # proceeds of the two sold legs (27.80 per million of about 800 dollars: 0.02 once rounded up)
    legs, prices = session_run.positions[0].legs, [Decimal(p) for p in json.loads(fill["leg_prices"])]
    assert fill["commission"] == load_config().execution.fill_model.costs(legs, tuple(prices), 1)
    assert Decimal("2.01") <= fill["commission"] <= Decimal("2.05")


def test_session_run_opens_one_position_with_two_short_legs(session_run: SessionRun) -> None:
    assert len(session_run.positions) == 1
    position = session_run.positions[0]
    assert position.status is PositionStatus.OPEN
    assert position.strategy == "short_strangle"
    assert position.quantity == 1
    assert [leg.side for leg in position.legs] == [Side.SELL, Side.SELL]
    assert {leg.contract.right.value for leg in position.legs} == {"P", "C"}
    assert isinstance(position.entry_value, Decimal)
    assert position.opened_at == decision_time(ENTRY_SESSION, MORNING)


def test_session_run_marks_the_new_position_in_the_ledger(session_run: SessionRun) -> None:
    marks = session_run.tables["position_marks"]

    assert list(marks["position_id"]) == [session_run.positions[0].position_id]
    assert list(marks["session"]) == [ENTRY_SESSION]
