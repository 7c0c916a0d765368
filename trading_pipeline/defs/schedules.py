"""Schedules on NYSE hours: cron ticks filtered against the XNYS calendar (holidays, half-days).

`trading_session_schedule` runs every strategy at the sessions' decision times; `entry_schedule_<name>`
runs the session job at one strategy's own decision times, its entries limited to that strategy by a tag.
"""

from datetime import datetime, time

import dagster as dg

from trading_pipeline.core.calendar import ET, is_session, session_close, session_of
from trading_pipeline.defs.jobs import analytics_job, end_of_day_job, trading_session_job
from trading_pipeline.defs.partitions import DECISION_TIME_TAG, STRATEGIES_TAG, end_of_day_time
from trading_pipeline.settings import EnvSettings, PipelineConfig, load_config

CONFIG: PipelineConfig = load_config(EnvSettings().config)


def weekday_crons(times_et: tuple[time, ...]) -> list[str]:
    """One weekday cron per time of day (ET); the calendar, not the cron, skips holidays and early closes."""
    return [f"{t.minute} {t.hour} * * 1-5" for t in sorted(times_et)]


DECISION_CRONS = weekday_crons(CONFIG.sessions.decision_times_et)


def session_tick(tick: datetime, strategy: str | None = None) -> dg.RunRequest | dg.SkipReason:
    """A run of the session partition at `tick` (entries of `strategy` only, when given), or why there is
    none (holiday, closed, half-day)."""
    day = tick.astimezone(ET).date()
    if not is_session(day):
        return dg.SkipReason(f"{day.isoformat()} is not an NYSE session")
    if session_of(tick) is None:
        close = session_close(day).astimezone(ET).strftime("%H:%M")
        return dg.SkipReason(f"market closed at {tick.astimezone(ET):%H:%M} ET on {day} (close {close} ET)")
    run_key = f"{day.isoformat()}T{tick.astimezone(ET):%H%M}"
    return dg.RunRequest(
        run_key=f"{strategy}-{run_key}" if strategy else run_key,
        partition_key=day.isoformat(),
        tags={DECISION_TIME_TAG: tick.isoformat(), **({STRATEGIES_TAG: strategy} if strategy else {})},
    )


@dg.schedule(
    job=trading_session_job,
    cron_schedule=DECISION_CRONS,
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every enabled strategy's entries, marks and exits at sessions.decision_times_et on NYSE "
    "sessions; skips holidays and times at or after a half-day's close.",
)
def trading_session_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Runs the trading session, every strategy, at each configured decision time of an open market."""
    return session_tick(context.scheduled_execution_time)


def entry_schedule(strategy: str, times_et: tuple[time, ...]) -> dg.ScheduleDefinition:
    """The session job at `strategy`'s decision times (ET) of an open market, its entries that strategy's."""

    @dg.schedule(
        name=f"entry_schedule_{strategy}",
        job=trading_session_job,
        cron_schedule=weekday_crons(times_et),
        execution_timezone="America/New_York",
        default_status=dg.DefaultScheduleStatus.STOPPED,
        description=f"Entries of {strategy} (and every position's marks and exits) at "
        f"{', '.join(t.strftime('%H:%M') for t in sorted(times_et))} ET on NYSE sessions; skips holidays "
        "and times at or after a half-day's close.",
    )
    def _entry_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        return session_tick(context.scheduled_execution_time, strategy)

    return _entry_schedule


#: One entry schedule per enabled strategy of the configuration.
ENTRY_SCHEDULES = [
    entry_schedule(name, CONFIG.decision_times_of(name))
    for name, params in CONFIG.strategies.sections().items()
    if params.enabled  # type: ignore[attr-defined]
]


@dg.schedule(
    job=end_of_day_job,
    cron_schedule=["15 13 * * 1-5", "15 16 * * 1-5"],
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def end_of_day_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Settles expirations, reconciles the broker and records the account 15 minutes after each close
    (13:15 ET on half-days, 16:15 ET otherwise)."""
    return end_of_day_tick(context.scheduled_execution_time)


def end_of_day_tick(tick: datetime) -> dg.RunRequest | dg.SkipReason:
    """The end-of-day run of the session closing 15 minutes before `tick`, or why there is none."""
    day = tick.astimezone(ET).date()
    if not is_session(day):
        return dg.SkipReason(f"{day.isoformat()} is not an NYSE session")
    due = end_of_day_time(day)
    if tick.astimezone(ET).replace(second=0, microsecond=0) != due.astimezone(ET):
        return dg.SkipReason(
            f"the end of day of {day.isoformat()} runs at {due.astimezone(ET):%H:%M} ET,"
            f" not {tick.astimezone(ET):%H:%M} ET"
        )
    return dg.RunRequest(
        run_key=f"end-of-day-{day.isoformat()}",
        partition_key=day.isoformat(),
        tags={DECISION_TIME_TAG: due.isoformat()},
    )


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
