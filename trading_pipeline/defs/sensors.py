"""Sensors: monitor open positions every market minute; tell the operator when a trading run fails or is
blocked; fail runs whose process died."""

from datetime import datetime

import dagster as dg

from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.core.calendar import ET, UTC, market_closed_reason
from trading_pipeline.defs.jobs import position_monitor_job, trading_session_job
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.defs.resources import ClockResource, NotifierResource
from trading_pipeline.defs.run_health import mark_dead_runs_failed


@dg.run_failure_sensor(monitored_jobs=[trading_session_job], default_status=dg.DefaultSensorStatus.RUNNING)
def trading_run_failure_alert(context: dg.RunFailureSensorContext, notifier: NotifierResource) -> None:
    """A failed or blocked session run is a CRITICAL notification naming the run and the reason."""
    run = context.dagster_run
    notifier.notifier().notify(
        f"trading run failed: {run.job_name} partition {run.tags.get('dagster/partition', '-')}",
        f"run {run.run_id}: {context.failure_event.message or 'see the run in the Dagster UI'}",
        Severity.CRITICAL,
    )


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def dead_runs_marked_failed(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Marks FAILED the runs of this host whose process was killed, so none stays STARTED forever."""
    marked = mark_dead_runs_failed(context.instance)
    for message in marked:
        context.log.warning(message)
    return dg.SkipReason("; ".join(marked) or "no run of a dead process")


#: Run states in which a monitor run still holds (or waits for) the execution lane.
UNFINISHED_RUN_STATUSES = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def monitor_tick(now: datetime, cursor: str | None, unfinished: int = 0) -> dg.SensorResult | dg.SkipReason:
    """A monitor run of the session partition at `now`'s minute (the new cursor), or why there is none:
    the market is closed, that minute (`cursor`, the last one requested) already has its run, or an earlier
    monitor run is still queued or running (`unfinished`): runs never pile up behind a slow one."""
    minute = now.astimezone(ET).replace(second=0, microsecond=0)
    closed = market_closed_reason(minute)
    if closed is not None:
        return dg.SkipReason(f"market closed: {closed}")
    key = f"{minute:%Y-%m-%dT%H:%M}"
    if cursor is not None and key <= cursor:
        return dg.SkipReason(f"the monitor run of {key} ET was already requested (last: {cursor})")
    if unfinished:
        return dg.SkipReason(
            f"{unfinished} monitor run(s) still queued or running: {key} ET is skipped,"
            " the next free minute runs"
        )
    request = dg.RunRequest(
        run_key=f"monitor-{key}",
        partition_key=minute.date().isoformat(),
        tags={DECISION_TIME_TAG: minute.astimezone(UTC).isoformat()},
    )
    return dg.SensorResult(run_requests=[request], cursor=key)


@dg.sensor(
    job=position_monitor_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="While the NYSE is open (half-days to 13:00 ET), one position_monitor_job run a minute for "
    "the session partition: marks, exits, the ladder and broker sync, no entries. Started by an operator.",
)
def position_monitor_sensor(
    context: dg.SensorEvaluationContext, clock: ClockResource
) -> dg.SensorResult | dg.SkipReason:
    """Requests the minute's monitor run while the market is open and no earlier one is unfinished; the
    cursor keeps one run a minute."""
    unfinished = context.instance.get_runs_count(
        dg.RunsFilter(job_name=position_monitor_job.name, statuses=UNFINISHED_RUN_STATUSES)
    )
    return monitor_tick(clock.now(), context.cursor, unfinished)
