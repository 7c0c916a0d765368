"""Sensors: tell the operator when a trading run fails or is blocked; fail runs whose process died."""

import dagster as dg

from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.defs.jobs import trading_session_job
from trading_pipeline.defs.resources import NotifierResource
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
