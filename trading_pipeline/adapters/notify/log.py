"""The embedded notifier: writes notifications to a Python logger (visible in Dagster run logs)."""

from __future__ import annotations

import logging

from trading_pipeline.adapters.notify.base import Severity

_LEVELS = {
    Severity.INFO: logging.INFO,
    Severity.WARNING: logging.WARNING,
    Severity.CRITICAL: logging.CRITICAL,
}


class LogNotifier:
    """Logs each notification; the default until an SMTP notifier is configured."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger or logging.getLogger("trading_pipeline.notify")

    def notify(self, subject: str, body: str, severity: Severity = Severity.INFO) -> None:
        self._logger.log(_LEVELS.get(severity, logging.WARNING), "%s: %s", subject, body)
