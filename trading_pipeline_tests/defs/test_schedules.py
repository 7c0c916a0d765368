"""Schedules tick on NYSE hours only: holidays and half-day closes are skipped, sessions get a run."""

from __future__ import annotations

from datetime import date, datetime, time

import dagster as dg
import pytest

from trading_pipeline.core.calendar import ET, at_et
from trading_pipeline.defs.partitions import DECISION_TIME_TAG, STRATEGIES_TAG
from trading_pipeline.defs.schedules import (
    ENTRY_SCHEDULES,
    end_of_day_analytics_schedule,
    end_of_day_schedule,
    entry_schedule,
    trading_session_schedule,
)

#: A strategy schedule at its own decision times, as a configuration with credit_spread at 11:00 and 14:30
#: would build it.
OWN_TIMES = entry_schedule("credit_spread", (time(14, 30), time(11, 0)))


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


def test_entry_schedules_exist_for_every_enabled_packaged_strategy_and_start_stopped() -> None:
    names = {schedule.name: schedule.default_status for schedule in ENTRY_SCHEDULES}

    assert names == dict.fromkeys(
        [f"entry_schedule_{n}" for n in ("short_strangle", "credit_spread", "iron_condor", "zero_dte")],
        dg.DefaultScheduleStatus.STOPPED,
    )


def test_entry_schedule_crons_are_its_own_decision_times_in_new_york() -> None:
    assert OWN_TIMES.cron_schedule == ["0 11 * * 1-5", "30 14 * * 1-5"]
    assert OWN_TIMES.execution_timezone == "America/New_York"
    assert OWN_TIMES.job_name == "trading_session_job"


def test_entry_schedule_on_christmas_skips_as_not_a_session() -> None:
    outcome = _evaluate(OWN_TIMES, datetime(2025, 12, 25, 11, 0, tzinfo=ET))

    assert isinstance(outcome, dg.SkipReason)
    assert "2025-12-25 is not an NYSE session" in (outcome.skip_message or "")


@pytest.mark.parametrize("at", [time(13, 0), time(14, 30)])
def test_entry_schedule_at_or_after_a_half_day_close_skips(at: time) -> None:
    outcome = _evaluate(OWN_TIMES, datetime.combine(datetime(2025, 11, 28), at, tzinfo=ET))

    assert isinstance(outcome, dg.SkipReason)
    assert "(close 13:00 ET)" in (outcome.skip_message or "")


def test_entry_schedule_on_a_half_day_morning_runs_its_strategy() -> None:
    tick = datetime(2025, 11, 28, 11, 0, tzinfo=ET)

    outcome = _evaluate(OWN_TIMES, tick)

    assert isinstance(outcome, dg.RunRequest)
    assert outcome.partition_key == "2025-11-28"
    assert outcome.tags[STRATEGIES_TAG] == "credit_spread"
    assert datetime.fromisoformat(outcome.tags[DECISION_TIME_TAG]) == tick


def test_entry_schedules_key_their_runs_per_strategy_and_minute() -> None:
    tick = datetime(2025, 12, 1, 10, 0, tzinfo=ET)
    by_name = {schedule.name: schedule for schedule in ENTRY_SCHEDULES}

    spread = _evaluate(by_name["entry_schedule_credit_spread"], tick)
    condor = _evaluate(by_name["entry_schedule_iron_condor"], tick)
    every = _evaluate(trading_session_schedule, tick)

    assert isinstance(spread, dg.RunRequest)
    assert isinstance(condor, dg.RunRequest)
    assert isinstance(every, dg.RunRequest)
    assert spread.run_key == "credit_spread-2025-12-01T1000"
    assert condor.run_key == "iron_condor-2025-12-01T1000"
    assert (spread.tags[STRATEGIES_TAG], condor.tags[STRATEGIES_TAG]) == ("credit_spread", "iron_condor")
    assert STRATEGIES_TAG not in every.tags


def test_end_of_day_schedule_on_christmas_skips_as_not_a_session() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=at_et(date(2025, 12, 25), time(16, 15)))

    result = end_of_day_schedule(context)

    assert isinstance(result, dg.SkipReason)
    assert "2025-12-25 is not an NYSE session" in str(result.skip_message)


@pytest.mark.parametrize(
    ("day", "runs_at", "skipped_at"),
    [(date(2025, 11, 28), time(13, 15), time(16, 15)), (date(2025, 12, 1), time(16, 15), time(13, 15))],
    ids=["half-day", "full-day"],
)
def test_end_of_day_schedule_runs_15_minutes_after_the_sessions_own_close(
    day: date, runs_at: time, skipped_at: time
) -> None:
    # Act
    run = end_of_day_schedule(dg.build_schedule_context(scheduled_execution_time=at_et(day, runs_at)))
    skip = end_of_day_schedule(dg.build_schedule_context(scheduled_execution_time=at_et(day, skipped_at)))

    # Assert
    assert isinstance(run, dg.RunRequest)
    assert (run.run_key, run.partition_key) == (f"end-of-day-{day.isoformat()}", day.isoformat())
    assert run.tags[DECISION_TIME_TAG] == at_et(day, runs_at).isoformat()
    assert isinstance(skip, dg.SkipReason)
