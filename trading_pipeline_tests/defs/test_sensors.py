"""The failure sensor turns a failed trading run into a CRITICAL notification; dead runs are failed."""

import logging
import subprocess
import sys

import dagster as dg

from trading_pipeline.definitions import build_definitions
from trading_pipeline.defs.resources import NotifierResource, TradingConfigResource
from trading_pipeline.defs.run_health import PID_TAG, process_tags
from trading_pipeline.defs.sensors import dead_runs_marked_failed, trading_run_failure_alert


def test_failed_trading_run_sends_a_critical_notification_naming_the_partition(tmp_path, caplog):
    # Arrange: a session run that fails at once (its configuration file does not exist)
    defs = build_definitions()
    job = defs.resolve_job_def("trading_session_job")
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        partition_key="2025-12-01",
        instance=instance,
        raise_on_error=False,
        resources={"trading_config": TradingConfigResource(config_path=str(tmp_path / "missing.yaml"))},
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name=trading_run_failure_alert.name,
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        resources={"notifier": NotifierResource()},
    ).for_run_failure()

    # Act
    with caplog.at_level(logging.CRITICAL, logger="trading_pipeline.notify"):
        trading_run_failure_alert(context)

    # Assert
    alerts = [r for r in caplog.records if r.name == "trading_pipeline.notify"]
    assert len(alerts) == 1
    assert alerts[0].levelno == logging.CRITICAL
    assert "trading_session_job partition 2025-12-01" in alerts[0].getMessage()
    assert result.dagster_run.run_id in alerts[0].getMessage()


def test_dead_run_sensor_marks_the_run_of_a_killed_process_failed(tmp_path):
    # Arrange: a STARTED run whose process (on this host) has exited
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=30)
    tags = {**process_tags(), PID_TAG: str(child.pid)}
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        run = instance.add_run(
            dg.DagsterRun(job_name="trading_session_job", status=dg.DagsterRunStatus.STARTED, tags=tags)
        )
        context = dg.build_sensor_context(instance=instance)

        # Act
        result = dead_runs_marked_failed(context)

        # Assert
        assert instance.get_run_by_id(run.run_id).status is dg.DagsterRunStatus.FAILURE
        assert f"process {child.pid}" in result.skip_message


def test_dead_run_sensor_is_registered_and_running_by_default():
    (sensor,) = [s for s in build_definitions().sensors if s.name == "dead_runs_marked_failed"]

    assert sensor.default_status is dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 60
