"""The Notifier protocol: how the pipeline tells people what happened (log, email, ...)."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class Notifier(Protocol):
    def notify(self, subject: str, body: str, severity: Severity = Severity.INFO) -> None:
        """Deliver one message; implementations must never raise on delivery trouble."""
        ...
