"""One writer for decisions: concurrent ticks cannot both spend the room under a limit, and an entry
still on its way to the broker counts against the limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.defs.risk.assets import RiskReview, portfolio_state, review_and_record
from trading_pipeline.settings import PipelineConfig, load_config
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, SESSION
from trading_pipeline_tests.concurrency import race
from trading_pipeline_tests.core.test_risk import candidate

TICKS = 4


@pytest.fixture
def config() -> PipelineConfig:
    """The packaged configuration: at most 1 entry per session and 3 open positions per strategy."""
    loaded = load_config()
    assert loaded.risk.max_entries_per_session_per_strategy == 1
    return loaded


def _concurrent_reviews(
    url: str, config: PipelineConfig, candidates: list[TradeCandidate]
) -> list[RiskReview]:
    """Each candidate reviewed by its own 'tick' (its own connections, a minute apart) at one instant."""
    return race(
        url,
        [
            lambda ledger, index=index: review_and_record(
                ledger, [candidates[index]], config, SESSION, DECISION_TIME + timedelta(minutes=index)
            )
            for index in range(len(candidates))
        ],
    )


@pytest.mark.parametrize("trial", range(3))
def test_concurrent_ticks_approve_at_most_the_session_entry_limit(
    ledger: SqlLedger, ledger_url: str, config: PipelineConfig, trial: int
) -> None:
    # Arrange: four ticks, each with a different candidate, racing for one entry of the session
    candidates = [candidate(put_strike=str(460 + i)) for i in range(TICKS)]

    # Act
    reviews = _concurrent_reviews(ledger_url, config, candidates)

    # Assert
    approved = [intent for review in reviews for intent in review.intents]
    assert len(approved) == 1
    assert len(ledger.intents(SESSION)) == 1
    rejected = [d for review in reviews for d in review.decisions if not d.approved]
    assert len(rejected) == TICKS - 1
    assert all(any("entries: 1 short_strangle entries already" in r for r in d.reasons) for d in rejected)


def test_an_approved_entry_not_yet_filled_counts_as_an_open_position(
    ledger: SqlLedger, config: PipelineConfig
) -> None:
    review_and_record(ledger, [candidate()], config, SESSION, DECISION_TIME)

    state = portfolio_state(ledger, config, SESSION, DECISION_TIME + timedelta(minutes=1))

    assert state.open_positions["short_strangle"] == 1
    assert state.entries_this_session["short_strangle"] == 1
    assert state.buying_power_used == candidate().buying_power


def test_a_rerun_replays_the_recorded_intent_even_when_the_candidate_changed(
    ledger: SqlLedger, config: PipelineConfig
) -> None:
    # Arrange: one lot approved and recorded; the configuration now sizes the same candidate at two
    first = review_and_record(ledger, [candidate(quantity=1)], config, SESSION, DECISION_TIME)

    # Act
    rerun = review_and_record(ledger, [candidate(quantity=2)], config, SESSION, DECISION_TIME)

    # Assert: what goes to the broker is what was decided and recorded
    assert [i.quantity for i in rerun.intents] == [1]
    assert rerun.intents == first.intents
    assert rerun.replayed == frozenset(d.decision_id for d in first.decisions)


def test_entries_blocked_by_reconciliation_are_rejected_and_recorded_with_the_reason(
    ledger: SqlLedger, config: PipelineConfig
) -> None:
    review = review_and_record(
        ledger, [candidate()], config, SESSION, DECISION_TIME, entries_blocked="reconciliation found 1 break"
    )

    assert review.intents == ()
    [decision] = ledger.decisions(SESSION)
    assert not decision.approved
    assert "entries blocked: reconciliation found 1 break" in decision.reasons
