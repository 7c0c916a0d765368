"""Schedules on NYSE hours: cron ticks filtered against the XNYS calendar (holidays, half-days)."""

from datetime import datetime

import dagster as dg

from trading_pipeline.core.calendar import ET, is_session, session_close, session_of
from trading_pipeline.defs.jobs import analytics_job, trading_session_job
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.settings import EnvSettings, load_config

DECISION_CRONS = [
    f"{t.minute} {t.hour} * * 1-5" for t in load_config(EnvSettings().config).sessions.decision_times_et
]


def session_tick(tick: datetime) -> dg.RunRequest | dg.SkipReason:
    """A run of the session partition at `tick`, or why there is none (holiday, closed, half-day)."""
    day = tick.astimezone(ET).date()
    if not is_session(day):
        return dg.SkipReason(f"{day.isoformat()} is not an NYSE session")
    if session_of(tick) is None:
        close = session_close(day).astimezone(ET).strftime("%H:%M")
        return dg.SkipReason(f"market closed at {tick.astimezone(ET):%H:%M} ET on {day} (close {close} ET)")
    return dg.RunRequest(
        run_key=f"{day.isoformat()}T{tick.astimezone(ET):%H%M}",
        partition_key=day.isoformat(),
        tags={DECISION_TIME_TAG: tick.isoformat()},
    )


@dg.schedule(
    job=trading_session_job,
    cron_schedule=DECISION_CRONS,
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def trading_session_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Runs the trading session at each configured decision time of an open market."""
    return session_tick(context.scheduled_execution_time)


@dg.schedule(
    job=analytics_job,
    cron_schedule="30 16 * * 1-5",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def end_of_day_analytics_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Rebuilds the dbt analytics after the close of every session."""
    day = context.scheduled_execution_time.astimezone(ET).date()
    if not is_session(day):
        return dg.SkipReason(f"{day.isoformat()} is not an NYSE session")
    return dg.RunRequest(run_key=f"analytics-{day.isoformat()}")
