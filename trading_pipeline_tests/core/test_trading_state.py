"""Automatic kill triggers and operators' acts: each trip names its cause, once per trigger and session."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from trading_pipeline.core.trading_state import (
    TradingState,
    Trigger,
    current_state,
    daily_loss_trip,
    operator_event,
    rejection_burst_trip,
    stale_data_trip,
)

SESSION = date(2025, 10, 8)
NOW = datetime(2025, 10, 8, 14, 0, tzinfo=UTC)


def test_a_daily_loss_beyond_the_limit_trips_halted_naming_loss_and_limit() -> None:
    trip = daily_loss_trip(Decimal("-2500.00"), Decimal("100000.00"), 2.0, SESSION, NOW)

    assert trip is not None and trip.state is TradingState.HALTED and trip.trigger is Trigger.DAILY_LOSS
    assert trip.cause == (
        "daily loss 2500.00 exceeds the limit 2000.00 (2% of the session's opening equity 100000.00)"
    )
    assert trip.key == "daily_loss:2025-10-08"


def test_a_loss_at_the_limit_or_a_gain_does_not_trip() -> None:
    assert daily_loss_trip(Decimal("-2000.00"), Decimal("100000.00"), 2.0, SESSION, NOW) is None
    assert daily_loss_trip(Decimal("500.00"), Decimal("100000.00"), 2.0, SESSION, NOW) is None


def test_a_burst_of_broker_rejections_inside_the_window_trips() -> None:
    recent = [NOW - timedelta(minutes=m) for m in (1, 5, 20)]
    old = [NOW - timedelta(hours=3)]

    trip = rejection_burst_trip(recent + old, 3, timedelta(minutes=30), SESSION, NOW)

    assert trip is not None and trip.cause == "3 broker rejections in the last 30 min (burst limit 3)"
    assert rejection_burst_trip(recent[:2] + old, 3, timedelta(minutes=30), SESSION, NOW) is None


def test_market_data_silent_longer_than_the_limit_trips() -> None:
    trip = stale_data_trip(45 * 60.0, 30, SESSION, NOW)

    assert trip is not None and trip.trigger is Trigger.STALE_DATA
    assert trip.cause == "market data stale: the newest quote is 45.0 min old (limit 30 min)"
    assert stale_data_trip(29 * 60.0, 30, SESSION, NOW) is None
    assert stale_data_trip(None, 30, SESSION, NOW) is None  # no chain at all: the checks block the run


def test_an_operator_act_needs_a_name_and_a_reason() -> None:
    event = operator_event(TradingState.ACTIVE, " ana ", "loss reviewed", NOW)

    assert current_state(event) == (TradingState.ACTIVE, "ACTIVE by ana: loss reviewed")
    with pytest.raises(ValueError, match="operator"):
        operator_event(TradingState.ACTIVE, " ", "x", NOW)
    with pytest.raises(ValueError, match="reason"):
        operator_event(TradingState.HALTED, "ana", "", NOW)


def test_nothing_recorded_means_active() -> None:
    assert current_state(None)[0] is TradingState.ACTIVE
