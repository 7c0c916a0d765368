"""Log notifier: each notification is one log record at the level of its severity."""

from __future__ import annotations

import logging

import pytest

from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.adapters.notify.log import LogNotifier


@pytest.mark.parametrize(
    ("severity", "level"),
    [
        (Severity.INFO, logging.INFO),
        (Severity.WARNING, logging.WARNING),
        (Severity.CRITICAL, logging.CRITICAL),
    ],
)
def test_notification_is_logged_at_the_level_of_its_severity(
    caplog: pytest.LogCaptureFixture, severity: Severity, level: int
) -> None:
    # Arrange
    notifier = LogNotifier()
    caplog.set_level(logging.DEBUG, logger="trading_pipeline.notify")

    # Act
    notifier.notify("order filled", "sold 1 SPY strangle for 2.20", severity)

    # Assert
    [record] = caplog.records
    assert record.name == "trading_pipeline.notify"
    assert record.levelno == level
    assert record.getMessage() == "order filled: sold 1 SPY strangle for 2.20"


def test_default_severity_is_info(caplog: pytest.LogCaptureFixture) -> None:
    # Arrange
    notifier = LogNotifier()
    caplog.set_level(logging.DEBUG, logger="trading_pipeline.notify")

    # Act
    notifier.notify("run finished", "no entries today")

    # Assert
    assert [record.levelno for record in caplog.records] == [logging.INFO]


def test_notifications_go_to_the_given_logger(caplog: pytest.LogCaptureFixture) -> None:
    # Arrange
    notifier = LogNotifier(logging.getLogger("ops.alerts"))
    caplog.set_level(logging.DEBUG, logger="ops.alerts")

    # Act
    notifier.notify("kill switch", "entries halted", Severity.CRITICAL)

    # Assert
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("ops.alerts", logging.CRITICAL, "kill switch: entries halted")
    ]


def test_percent_signs_in_the_message_are_logged_verbatim(caplog: pytest.LogCaptureFixture) -> None:
    # Arrange
    notifier = LogNotifier()
    caplog.set_level(logging.DEBUG, logger="trading_pipeline.notify")

    # Act
    notifier.notify("allocation 53%", "limit 50%s %d", Severity.WARNING)

    # Assert
    assert caplog.records[0].getMessage() == "allocation 53%: limit 50%s %d"
