"""Blocking chain checks: a bad option chain stops every broker-touching asset and nothing is ordered."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.defs.resources import SimulatedMarketResource
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    check_evaluations,
    make_harness,
    materialized,
)

BROKER_TOUCHING = {"order_submissions", "exit_orders"}


def _assert_nothing_reached_the_broker(harness: PipelineHarness, result: dg.ExecuteInProcessResult) -> None:
    assert not result.success
    assert materialized(result) & BROKER_TOUCHING == set()
    tables = harness.ledger_tables()
    assert tables["order_intents"].empty
    assert tables["orders"].empty
    assert tables["fills"].empty
    assert harness.broker_book() == []


def test_crossed_quotes_fail_the_blocking_chain_check_and_stop_all_orders(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, crossed_quotes=True))

    result = harness.run_session(ENTRY_SESSION, MORNING)

    evaluations = check_evaluations(result)
    crossed = evaluations["chain_quotes_not_crossed"]
    assert not crossed.passed
    assert crossed.asset_key == dg.AssetKey("option_chains")
    assert crossed.severity == dg.AssetCheckSeverity.ERROR
    assert crossed.metadata["crossed_quotes"].value > 0
    assert crossed.metadata["failures"].value, "the expectation suite must name what failed"
    # The checked asset itself is stored (gotcha 3); realized_vol does not read the chain; nothing
    # downstream of option_chains runs.
    assert materialized(result) == {"underlying_bars", "realized_vol", "option_chains"}
    _assert_nothing_reached_the_broker(harness, result)


@pytest.mark.parametrize(
    ("market", "failing_check", "evidence"),
    [
        (
            SimulatedMarketResource(seed=7, stale_seconds=900),
            "chain_quotes_fresh",
            "oldest_quote_age_seconds",
        ),
        (
            SimulatedMarketResource(seed=7, drop_strikes_near_spot=40),
            "chain_complete_around_spot",
            "incomplete_expirations",
        ),
    ],
    ids=["stale", "one_side_of_spot_empty"],
)
def test_faulty_chain_fails_its_blocking_check_and_stops_all_orders(
    tmp_path: Path, market: SimulatedMarketResource, failing_check: str, evidence: str
) -> None:
    harness = make_harness(tmp_path, market=market)

    result = harness.run_session(ENTRY_SESSION, MORNING)

    evaluation = check_evaluations(result)[failing_check]
    assert not evaluation.passed
    assert evaluation.metadata[evidence].value > 0
    assert "order_submissions" not in materialized(result)
    _assert_nothing_reached_the_broker(harness, result)


@pytest.mark.parametrize("dropped", [1, 5])
def test_chain_missing_the_strikes_nearest_spot_fails_the_completeness_check(
    tmp_path: Path, dropped: int
) -> None:
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, drop_strikes_near_spot=dropped))

    result = harness.run_session(ENTRY_SESSION, MORNING)

    evaluation = check_evaluations(result)["chain_complete_around_spot"]
    assert not evaluation.passed
    assert evaluation.metadata["widest_spot_gap_spacings"].value >= 2 * dropped + 1
    _assert_nothing_reached_the_broker(harness, result)
