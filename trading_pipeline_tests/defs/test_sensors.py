"""The failure sensor turns a failed trading run into a CRITICAL notification."""

import logging

import dagster as dg

from trading_pipeline.definitions import build_definitions
from trading_pipeline.defs.resources import NotifierResource, TradingConfigResource
from trading_pipeline.defs.sensors import trading_run_failure_alert


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
