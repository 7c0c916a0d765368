"""The per-tick summary says why a tick failed (step and error) or was blocked (checks and metadata)."""

from __future__ import annotations

import re
from pathlib import Path

from trading_pipeline.adapters.brokers.base import BrokerError
from trading_pipeline.adapters.brokers.paper import PaperBroker
from trading_pipeline.defs.resources import PaperBrokerResource, SimulatedMarketResource
from trading_pipeline.runner import RunReport, TickReport, tick_report
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    decision_time,
    make_harness,
)


class UnreachableBrokerResource(PaperBrokerResource):
    """A broker whose API cannot be reached: every step that needs it fails."""

    def broker(self) -> PaperBroker:
        raise BrokerError("broker unreachable: connection refused")


def _report(harness: PipelineHarness, broker: PaperBrokerResource | None = None) -> TickReport:
    result = harness.run_session(ENTRY_SESSION, MORNING, broker=broker)
    ledger = harness.with_ledger()
    try:
        return tick_report(ENTRY_SESSION, decision_time(ENTRY_SESSION, MORNING), result, ledger, "SPY")
    finally:
        ledger.dispose()


def test_failed_tick_names_the_failed_step_and_the_first_line_of_its_error(tmp_path: Path) -> None:
    # Arrange
    harness = make_harness(tmp_path)
    broker = UnreachableBrokerResource(
        url=harness.broker_url, market=harness.market, config_path=str(harness.config_path)
    )

    # Act
    tick = _report(harness, broker)
    rendered = RunReport([tick], [], ok=False).render()

    # Assert
    reason = r"\w+ failed: BrokerError: broker unreachable: connection refused"
    assert re.search(rf"{ENTRY_SESSION} 10:00 ET \[FAILED\] {reason}", rendered)
    assert tick.failed_checks == []


def test_blocked_tick_names_the_failed_check_and_its_telling_metadata(tmp_path: Path) -> None:
    # Arrange
    harness = make_harness(tmp_path, market=SimulatedMarketResource(seed=7, crossed_quotes=True))

    # Act
    tick = _report(harness)
    rendered = RunReport([tick], [], ok=False).render()

    # Assert
    assert (
        f"{ENTRY_SESSION} 10:00 ET [BLOCKED] blocked by option_chains:chain_quotes_not_crossed (" in rendered
    )
    assert re.search(r"crossed_quotes=[1-9]\d*", rendered)
    assert "{" not in rendered  # tables of offending quotes stay in the UI
    assert tick.step_failures == []
