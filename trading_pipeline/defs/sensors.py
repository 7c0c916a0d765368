"""Sensors: tell the operator when a trading run fails or is blocked by a data-quality check."""

import dagster as dg

from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.defs.jobs import trading_session_job
from trading_pipeline.defs.resources import NotifierResource


@dg.run_failure_sensor(monitored_jobs=[trading_session_job], default_status=dg.DefaultSensorStatus.RUNNING)
def trading_run_failure_alert(context: dg.RunFailureSensorContext, notifier: NotifierResource) -> None:
    """A failed or blocked session run is a CRITICAL notification naming the run and the reason."""
    run = context.dagster_run
    notifier.notifier().notify(
        f"trading run failed: {run.job_name} partition {run.tags.get('dagster/partition', '-')}",
        f"run {run.run_id}: {context.failure_event.message or 'see the run in the Dagster UI'}",
        Severity.CRITICAL,
    )
