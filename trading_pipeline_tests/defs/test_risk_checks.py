"""The blocking check on approved orders re-verifies the book they leave, and the trading state."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from trading_pipeline.core import intents
from trading_pipeline.core.risk import PortfolioState, RiskDecision
from trading_pipeline.core.trading_state import TradingState
from trading_pipeline.defs.risk.assets import RiskReview
from trading_pipeline.defs.risk.checks import approval_problems
from trading_pipeline.settings import EnvSettings, load_config
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, SESSION
from trading_pipeline_tests.core.test_risk import candidate, exposure

BOOK = PortfolioState(equity=Decimal("100000"), buying_power_used=Decimal("0"))


def _review(after_vega: float, state: TradingState = TradingState.ACTIVE) -> RiskReview:
    approved = candidate()
    decision_id = intents.entry_decision_id(approved, SESSION)
    intent = intents.entry_intent(approved, SESSION, DECISION_TIME, decision_id)
    decision = intents.entry_decision(
        RiskDecision(approved, ()), SESSION, DECISION_TIME, decision_id, intent.client_order_id
    )
    judged = replace(BOOK, trading_state=state, trading_state_cause="test")
    after = replace(judged, exposure=exposure(vega=after_vega), buying_power_used=Decimal("5000"))
    return RiskReview((intent,), (decision,), state=judged, after=after)


def test_approvals_that_leave_the_book_within_its_budgets_pass() -> None:
    assert approval_problems(_review(after_vega=-500.0), load_config(), EnvSettings()) == []


def test_approvals_that_leave_the_book_beyond_a_budget_are_blocked_naming_it() -> None:
    problems = approval_problems(_review(after_vega=-1_500.0), load_config(), EnvSettings())

    (problem,) = problems
    assert problem.startswith("book after approvals: vega: portfolio vega per vol point would be -1,500")


def test_fresh_approvals_while_halted_are_blocked() -> None:
    problems = approval_problems(_review(-500.0, TradingState.HALTED), load_config(), EnvSettings())

    assert problems == ["1 new entries approved while HALTED (test)"]
