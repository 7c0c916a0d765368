"""The position monitor requests one run a minute while the NYSE is open; none when closed, none twice."""

from __future__ import annotations

from datetime import datetime

import dagster as dg
import pytest

from trading_pipeline.core.calendar import ET
from trading_pipeline.defs.jobs import ENTRY_ASSETS, MONITOR_ASSETS, position_monitor_job
from trading_pipeline.defs.partitions import DECISION_TIME_TAG, EXECUTION_LANE, EXECUTION_LANE_TAG
from trading_pipeline.defs.resources import ClockResource
from trading_pipeline.defs.sensors import position_monitor_sensor


class StoppedClock(ClockResource):
    """A clock that always reads `at` (ISO 8601 with its offset)."""

    at: str

    def now(self) -> datetime:
        return datetime.fromisoformat(self.at)


def _evaluate(
    at: datetime, cursor: str | None = None, instance: dg.DagsterInstance | None = None
) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"clock": StoppedClock(at=at.isoformat())},
        instance=instance or dg.DagsterInstance.ephemeral(),
    )
    return position_monitor_sensor(context)


def _requests(outcome: dg.SensorResult | dg.SkipReason) -> list[dg.RunRequest]:
    return list(outcome.run_requests or []) if isinstance(outcome, dg.SensorResult) else []


def _skip_message(outcome: dg.SensorResult | dg.SkipReason) -> str:
    assert isinstance(outcome, dg.SkipReason), outcome
    return outcome.skip_message or ""


def test_monitor_on_christmas_skips_naming_the_holiday() -> None:
    # Act
    outcome = _evaluate(datetime(2025, 12, 25, 11, 0, tzinfo=ET))

    # Assert
    assert "2025-12-25 is not an NYSE session (a holiday)" in _skip_message(outcome)


def test_monitor_on_a_weekend_skips_naming_the_weekend() -> None:
    # Act
    outcome = _evaluate(datetime(2025, 11, 29, 11, 0, tzinfo=ET))

    # Assert
    assert "(a weekend)" in _skip_message(outcome)


@pytest.mark.parametrize(("hour", "minute"), [(9, 30), (10, 31), (15, 59)])
def test_monitor_on_a_normal_session_requests_a_run_from_the_open_to_the_last_minute(
    hour: int, minute: int
) -> None:
    # Act
    (request,) = _requests(_evaluate(datetime(2025, 12, 1, hour, minute, 42, tzinfo=ET)))

    # Assert
    assert request.partition_key == "2025-12-01"
    assert request.run_key == f"monitor-2025-12-01T{hour:02d}:{minute:02d}"
    assert datetime.fromisoformat(request.tags[DECISION_TIME_TAG]) == datetime(
        2025, 12, 1, hour, minute, tzinfo=ET
    )


def test_monitor_one_minute_before_the_open_skips_naming_the_open() -> None:
    # Act
    outcome = _evaluate(datetime(2025, 12, 1, 9, 29, 59, tzinfo=ET))

    # Assert
    assert "before the open at 09:29 ET on 2025-12-01 (open 09:30 ET)" in _skip_message(outcome)


def test_monitor_at_the_close_skips_naming_the_close() -> None:
    # Act
    outcome = _evaluate(datetime(2025, 12, 1, 16, 0, tzinfo=ET))

    # Assert
    assert "after the close at 16:00 ET on 2025-12-01 (close 16:00 ET)" in _skip_message(outcome)


def test_monitor_on_a_half_day_runs_until_1pm_and_nothing_after() -> None:
    # Act
    before = _evaluate(datetime(2025, 11, 28, 12, 59, tzinfo=ET))
    at_close = _evaluate(datetime(2025, 11, 28, 13, 0, tzinfo=ET))
    afternoon = _evaluate(datetime(2025, 11, 28, 15, 30, tzinfo=ET))

    # Assert
    assert [r.run_key for r in _requests(before)] == ["monitor-2025-11-28T12:59"]
    assert "(close 13:00 ET)" in _skip_message(at_close)
    assert "after the close at 15:30 ET on 2025-11-28 (close 13:00 ET)" in _skip_message(afternoon)


def test_monitor_keeps_the_requested_minute_as_its_cursor() -> None:
    # Act
    outcome = _evaluate(datetime(2025, 12, 1, 10, 31, 5, tzinfo=ET), cursor="2025-12-01T10:30")

    # Assert
    assert isinstance(outcome, dg.SensorResult)
    assert outcome.cursor == "2025-12-01T10:31"


def test_monitor_reevaluated_in_the_same_minute_requests_no_second_run() -> None:
    # Arrange: the 10:31 run was requested at 10:31:05
    first = _evaluate(datetime(2025, 12, 1, 10, 31, 5, tzinfo=ET))
    assert isinstance(first, dg.SensorResult)

    # Act
    again = _evaluate(datetime(2025, 12, 1, 10, 31, 50, tzinfo=ET), cursor=first.cursor)
    next_minute = _evaluate(datetime(2025, 12, 1, 10, 32, 1, tzinfo=ET), cursor=first.cursor)

    # Assert
    assert _requests(again) == []
    assert "already requested" in _skip_message(again)
    assert [r.run_key for r in _requests(next_minute)] == ["monitor-2025-12-01T10:32"]


def test_monitor_sensor_is_stopped_by_default_ticks_every_minute_and_targets_the_monitor_job() -> None:
    assert position_monitor_sensor.default_status is dg.DefaultSensorStatus.STOPPED
    assert position_monitor_sensor.minimum_interval_seconds == 60
    assert position_monitor_sensor.job_name == "position_monitor_job"
    assert position_monitor_sensor.description


def test_monitor_job_runs_in_the_execution_lane() -> None:
    assert position_monitor_job.tags[EXECUTION_LANE_TAG] == EXECUTION_LANE
    assert not set(ENTRY_ASSETS) & set(MONITOR_ASSETS)


def test_monitor_skips_its_minute_while_an_earlier_monitor_run_is_still_running() -> None:
    # Arrange: the 10:30 monitor run has not finished at 10:31
    instance = dg.DagsterInstance.ephemeral()
    instance.add_run(dg.DagsterRun(job_name="position_monitor_job", status=dg.DagsterRunStatus.STARTED))
    at = datetime(2025, 12, 1, 10, 31, tzinfo=ET)

    # Act
    outcome = _evaluate(at, cursor="2025-12-01T10:30", instance=instance)

    # Assert
    assert _requests(outcome) == []
    assert "1 monitor run(s) still queued or running: 2025-12-01T10:31 ET is skipped" in _skip_message(
        outcome
    )
