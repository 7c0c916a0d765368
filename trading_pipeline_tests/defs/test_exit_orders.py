"""Exits: one decision per tick, one close of a position at a time, never a close of a position that
changed after the decision time."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.chain import leg_quotes
from trading_pipeline.core.intents import ExitPlan, plan_exit
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline.core.positions import Position, PositionMark
from trading_pipeline.defs.portfolio.assets import exit_rules, record_exit
from trading_pipeline.settings import load_config
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, FILL_TIME, fill_of, opening_intent

#: 16 days before the legs' expiration (2025-04-17): the 21-DTE exit fires.
EXIT_SESSION = date(2025, 4, 1)
TEN_AM = DECISION_TIME.replace(year=2025, month=4, day=1, hour=10, minute=0)
QUOTES = pd.DataFrame({"bid": [1.00, 0.90], "ask": [1.20, 1.10]})


def _open_position(ledger: SqlLedger) -> Position:
    intent = opening_intent(quantity=2)
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-open", quantity=2, net_value="-2.40"))
    [position] = ledger.positions()
    return position


def _plan(position: Position, minutes_after_ten: int) -> ExitPlan:
    now = TEN_AM + timedelta(minutes=minutes_after_ten)
    mark = PositionMark(position.position_id, now, Decimal("-2.10"), Decimal("60"), 0.0, 0.0, 0.0, 0.0)
    config = load_config()
    rules, fraction = exit_rules(config, position.strategy), config.execution.limit_fraction_of_half_spread
    plan = plan_exit(position, mark, leg_quotes(QUOTES), rules, fraction, EXIT_SESSION, now)
    assert plan is not None, "the 21-DTE exit must fire 16 days before expiration"
    return plan


def test_each_tick_decides_its_own_exit_and_a_rerun_of_a_tick_replays_its_id(ledger: SqlLedger) -> None:
    position = _open_position(ledger)

    morning, afternoon, morning_again = _plan(position, 0), _plan(position, 330), _plan(position, 0)

    assert morning.intent.client_order_id != afternoon.intent.client_order_id
    assert morning.intent.client_order_id == morning_again.intent.client_order_id
    assert "21" in morning.decision.reasons[0]


def test_an_unclaimed_exit_of_an_earlier_tick_is_superseded_by_the_next_ticks_exit(ledger: SqlLedger) -> None:
    position = _open_position(ledger)
    morning = _plan(position, 0)
    assert record_exit(ledger, morning, position, TEN_AM) is None

    why_not = record_exit(ledger, _plan(position, 330), position, TEN_AM + timedelta(minutes=330))

    assert why_not is None
    stored = ledger.intent(morning.intent.client_order_id)
    assert stored is not None and stored[1] is OrderStatus.CANCELLED


def test_no_second_close_while_one_is_on_its_way(ledger: SqlLedger) -> None:
    position = _open_position(ledger)
    morning = _plan(position, 0)
    record_exit(ledger, morning, position, TEN_AM)
    ledger.claim_intent(morning.intent.client_order_id, "morning-run")

    why_not = record_exit(ledger, _plan(position, 330), position, TEN_AM + timedelta(minutes=330))

    assert why_not == "another close of this position is on its way"
    assert len(ledger.intents()) == 2  # the opening intent and the morning's close only


def test_a_position_closed_after_the_decision_time_is_not_closed_again(ledger: SqlLedger) -> None:
    # Arrange: the afternoon closed the position; then the morning tick is rerun (as of 10:00)
    position = _open_position(ledger)
    afternoon = _plan(position, 330)
    record_exit(ledger, afternoon, position, afternoon.intent.decision_time)
    ledger.record_fill(fill_of(afternoon.intent, "F-close", quantity=2, net_value="2.20", days_later=18))

    # Act
    [as_of_morning] = ledger.positions(open_only=True, as_of=FILL_TIME + timedelta(days=17))
    why_not = record_exit(ledger, _plan(as_of_morning, 0), as_of_morning, TEN_AM)

    # Assert
    assert why_not is not None and why_not.startswith("changed since")
