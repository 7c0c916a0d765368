"""Schedules tick on NYSE hours only: holidays and half-day closes are skipped, sessions get a run."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from trading_pipeline.core.calendar import ET
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.defs.schedules import end_of_day_analytics_schedule, trading_session_schedule


def _evaluate(schedule: dg.ScheduleDefinition, at: datetime) -> dg.RunRequest | dg.SkipReason:
    context = dg.build_schedule_context(scheduled_execution_time=at)
    return schedule(context)


def test_trading_schedule_on_christmas_skips_as_not_a_session() -> None:
    tick = datetime(2025, 12, 25, 10, 0, tzinfo=ET)

    outcome = _evaluate(trading_session_schedule, tick)

    assert isinstance(outcome, dg.SkipReason)
    assert "2025-12-25 is not an NYSE session" in (outcome.skip_message or "")


def test_trading_schedule_after_half_day_close_skips_as_market_closed() -> None:
    tick = datetime(2025, 11, 28, 15, 30, tzinfo=ET)  # the day after Thanksgiving closes at 13:00

    outcome = _evaluate(trading_session_schedule, tick)

    assert isinstance(outcome, dg.SkipReason)
    assert "market closed" in (outcome.skip_message or "")
    assert "13:00" in (outcome.skip_message or "")


def test_trading_schedule_on_half_day_morning_requests_the_session_partition() -> None:
    tick = datetime(2025, 11, 28, 10, 0, tzinfo=ET)

    outcome = _evaluate(trading_session_schedule, tick)

    assert isinstance(outcome, dg.RunRequest)
    assert outcome.partition_key == "2025-11-28"
    assert datetime.fromisoformat(outcome.tags[DECISION_TIME_TAG]) == tick


def test_trading_schedule_on_a_normal_session_requests_a_deterministic_run() -> None:
    tick = datetime(2025, 12, 1, 15, 30, tzinfo=ET)

    first = _evaluate(trading_session_schedule, tick)
    second = _evaluate(trading_session_schedule, tick)

    assert isinstance(first, dg.RunRequest)
    assert isinstance(second, dg.RunRequest)
    assert first.run_key == "2025-12-01T1530"
    assert second.run_key == first.run_key
    assert first.partition_key == "2025-12-01"
    assert datetime.fromisoformat(first.tags[DECISION_TIME_TAG]) == tick


def test_trading_schedule_gives_each_decision_time_its_own_run_key() -> None:
    morning = _evaluate(trading_session_schedule, datetime(2025, 12, 1, 10, 0, tzinfo=ET))
    afternoon = _evaluate(trading_session_schedule, datetime(2025, 12, 1, 15, 30, tzinfo=ET))

    assert isinstance(morning, dg.RunRequest)
    assert isinstance(afternoon, dg.RunRequest)
    assert morning.run_key != afternoon.run_key
    assert morning.partition_key == afternoon.partition_key == "2025-12-01"


def test_trading_schedule_crons_are_the_configured_decision_times() -> None:
    assert set(trading_session_schedule.cron_schedule) == {"0 10 * * 1-5", "30 15 * * 1-5"}


def test_analytics_schedule_on_a_holiday_skips() -> None:
    tick = datetime(2025, 12, 25, 16, 30, tzinfo=ET)

    outcome = _evaluate(end_of_day_analytics_schedule, tick)

    assert isinstance(outcome, dg.SkipReason)
    assert "not an NYSE session" in (outcome.skip_message or "")


def test_analytics_schedule_after_a_session_requests_a_run_keyed_by_day() -> None:
    tick = datetime(2025, 12, 1, 16, 30, tzinfo=ET)

    outcome = _evaluate(end_of_day_analytics_schedule, tick)

    assert isinstance(outcome, dg.RunRequest)
    assert outcome.run_key == "analytics-2025-12-01"
