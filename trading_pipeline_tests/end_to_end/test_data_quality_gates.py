"""Blocking chain checks: a bad option chain stops every broker-touching asset and nothing is ordered."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.core.chain import MAX_LISTED
from trading_pipeline.defs.resources import SimulatedMarketResource
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    asset_metadata,
    check_evaluations,
    make_harness,
    materialized,
)

BROKER_TOUCHING = {"order_submissions", "exit_orders"}
#: What a run stores when a blocking chain check fails: the checked chain itself (gotcha 3), what does not
#: read it, the ledger's settlement of expired positions and the reconciliation (it reads the broker and
#: never sends).
MATERIALIZED_WHEN_THE_CHAIN_FAILS = {
    "underlying_bars",
    "realized_vol",
    "option_chains",
    "expirations",
    "broker_reconciliation",
}
CHAIN_CHECKS = {
    "chain_quotes_not_crossed",
    "chain_quotes_fresh",
    "chain_complete_around_spot",
    "chain_iv_solvable",
}


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
    assert materialized(result) == MATERIALIZED_WHEN_THE_CHAIN_FAILS
    _assert_nothing_reached_the_broker(harness, result)


def test_chain_with_one_side_of_spot_empty_fails_the_completeness_check_and_stops_all_orders(
    tmp_path: Path,
) -> None:
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, drop_strikes_near_spot=40))

    result = harness.run_session(ENTRY_SESSION, MORNING)

    evaluation = check_evaluations(result)["chain_complete_around_spot"]
    assert not evaluation.passed
    incomplete = evaluation.metadata["incomplete"].value
    assert incomplete["total"] == evaluation.metadata["incomplete_expirations"].value > 0
    assert len(incomplete["shown"]) == min(incomplete["total"], MAX_LISTED)
    assert {row["underlying"] for row in incomplete["shown"]} == {"SPY"}
    assert "order_submissions" not in materialized(result)
    _assert_nothing_reached_the_broker(harness, result)


@pytest.mark.parametrize(
    ("stale_seconds", "count", "listed"),
    [(900, "stale_quotes", "stale"), (-600, "future_quotes", "future_stamped")],
    ids=["stale", "stamped_after_the_decision_time"],
)
def test_stale_or_future_quotes_fail_the_freshness_check_naming_the_contracts(
    tmp_path: Path, stale_seconds: float, count: str, listed: str
) -> None:
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, stale_seconds=stale_seconds))

    result = harness.run_session(ENTRY_SESSION, MORNING)

    evaluation = check_evaluations(result)["chain_quotes_fresh"]
    contracts = evaluation.metadata["contracts"].value
    offenders = evaluation.metadata[listed].value
    assert not evaluation.passed
    assert evaluation.metadata[count].value == offenders["total"] == contracts
    assert len(offenders["shown"]) == MAX_LISTED
    assert all(row["occ_symbol"].startswith("SPY") for row in offenders["shown"])
    _assert_nothing_reached_the_broker(harness, result)


def test_empty_chain_fails_every_blocking_chain_check_and_stops_all_orders(tmp_path: Path) -> None:
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, empty_chain=True))

    result = harness.run_session(ENTRY_SESSION, MORNING)

    evaluations = check_evaluations(result)
    chain_checks = {name: e for name, e in evaluations.items() if e.asset_key == dg.AssetKey("option_chains")}
    assert set(chain_checks) == CHAIN_CHECKS
    assert all(not e.passed and e.metadata["contracts"].value == 0 for e in chain_checks.values())
    assert all("empty" in e.metadata["reason"].value for e in chain_checks.values())
    assert asset_metadata(result, "option_chains")["contracts"] == 0
    assert materialized(result) == MATERIALIZED_WHEN_THE_CHAIN_FAILS
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


def test_a_feed_silent_longer_than_the_stale_data_limit_trips_halted_in_the_ledger(tmp_path: Path) -> None:
    # Arrange: every quote 40 min old (limit 30): the freshness check blocks the run, the trip halts trading
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, stale_seconds=2400))

    result = harness.run_session(ENTRY_SESSION, MORNING)

    _assert_nothing_reached_the_broker(harness, result)
    assert asset_metadata(result, "option_chains")["newest_quote_age_seconds"] == 2400.0
    ledger = harness.with_ledger()
    try:
        (event,) = ledger.trading_state_events()
    finally:
        ledger.dispose()
    assert event.state.value == "HALTED" and event.trigger.value == "stale_data"
    assert event.cause == "market data stale: the newest quote is 40.0 min old (limit 30 min)"
