"""The tick's decisions and intents, built without Dagster or a ledger: entries, exits, portfolio state."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.fills import LegQuote
from trading_pipeline.core.intents import (
    BUYING_POWER_TAG,
    entry_decision,
    entry_decision_id,
    entry_intent,
    plan_exit,
    portfolio_state,
)
from trading_pipeline.core.orders import OrderStatus, PositionEffect
from trading_pipeline.core.positions import Position, PositionMark
from trading_pipeline.core.risk import RiskDecision
from trading_pipeline_tests.adapters.ledger.builders import (
    DECISION_TIME,
    SESSION,
    STRATEGY,
    opening_intent,
    strangle_legs,
)
from trading_pipeline_tests.core.test_risk import candidate

RULES = ExitRules(profit_target_pct=50.0, loss_stop_multiple=2.0, exit_dte=21)
QUOTES = (LegQuote(Decimal("1.00"), Decimal("1.20")), LegQuote(Decimal("0.90"), Decimal("1.10")))
STARTING_EQUITY = Decimal("100000")


def _position(position_id: str = "C-1", quantity: int = 2) -> Position:
    return Position(position_id, STRATEGY, "SPY", strangle_legs(), quantity, Decimal("-2.40"), DECISION_TIME)


def _mark(value: str, position: Position, unrealized: str = "0") -> PositionMark:
    return PositionMark(
        position.position_id, DECISION_TIME, Decimal(value), Decimal(unrealized), 0.0, 0.0, 0.0, 0.0
    )


def test_an_approved_candidate_becomes_a_deterministic_intent_and_decision() -> None:
    # Arrange
    chosen = candidate(buying_power="5000", quantity=2)
    decision_id = entry_decision_id(chosen, SESSION)

    # Act
    intent = entry_intent(chosen, SESSION, DECISION_TIME, decision_id)
    again = entry_intent(chosen, SESSION, DECISION_TIME + timedelta(minutes=5), decision_id)
    decision = entry_decision(
        RiskDecision(chosen, ()), SESSION, DECISION_TIME, decision_id, intent.client_order_id
    )

    # Assert: the client order id depends on the structure and session, not on the minute
    assert intent.client_order_id == again.client_order_id
    assert (intent.effect, intent.quantity, intent.limit_price) == (
        PositionEffect.OPEN,
        2,
        chosen.limit_price,
    )
    assert intent.tags == {BUYING_POWER_TAG: "5000", "decision_id": decision_id}
    assert decision.approved and decision.client_order_id == intent.client_order_id
    assert decision.reasons == (chosen.rationale,)


def test_a_rejected_candidate_records_its_reasons_and_no_order() -> None:
    chosen = candidate()
    decision = entry_decision(
        RiskDecision(chosen, ("kill switch on",)), SESSION, DECISION_TIME, "D-1", "C-never"
    )
    assert not decision.approved and decision.client_order_id is None
    assert decision.reasons == ("kill switch on",)


def test_an_exit_is_planned_only_when_a_rule_fires_and_closes_every_leg() -> None:
    # Arrange: 2.40 credit marked at 1.10 (54% kept) versus at 2.00 (17%), 34 days before expiry
    position = _position()
    today = date(2025, 3, 14)

    # Act
    kept = plan_exit(position, _mark("-1.10", position), QUOTES, RULES, Decimal("0.5"), today, DECISION_TIME)
    held = plan_exit(position, _mark("-2.00", position), QUOTES, RULES, Decimal("0.5"), today, DECISION_TIME)

    # Assert: buying back both legs at mid 2.10, each worsened by half its half-spread (0.05) = 2.20
    assert held is None
    assert kept is not None and kept.decision.reasons[0].startswith("profit target")
    assert [leg.side.value for leg in kept.intent.legs] == ["BUY", "BUY"]
    assert (kept.intent.quantity, kept.intent.limit_price) == (2, Decimal("2.20"))
    assert kept.intent.effect is PositionEffect.CLOSE and kept.intent.position_id == "C-1"


def test_portfolio_state_counts_open_positions_and_entries_still_on_their_way() -> None:
    # Arrange: one position held (its intent filled), one entry submitted, one rejected at the broker
    held = opening_intent(quantity=2, key="held")
    working = opening_intent(quantity=1, key="working")
    rejected = opening_intent(quantity=1, key="rejected")
    for intent, bp in ((held, "3000"), (working, "4000"), (rejected, "9000")):
        intent.tags[BUYING_POWER_TAG] = bp
    recorded = [
        (held, OrderStatus.FILLED),
        (working, OrderStatus.SUBMITTED),
        (rejected, OrderStatus.REJECTED),
    ]
    position = _position(held.client_order_id, 2)

    # Act
    state = portfolio_state(
        [position],
        [_mark("-2.00", position, unrealized="80")],
        recorded,
        frozenset({held.client_order_id}),
        STARTING_EQUITY,
        SESSION,
        DECISION_TIME + timedelta(minutes=1),
    )

    # Assert: 2 x 3000 held + 1 x 4000 on its way; the rejected entry counts nowhere
    assert state.buying_power_used == Decimal("10000")
    assert state.open_positions == Counter({STRATEGY: 2})
    assert state.entries_this_session == Counter({STRATEGY: 2})
    assert state.equity == STARTING_EQUITY + Decimal("80")  # the open mark's unrealized P&L
