"""The wall clock, behind a function: the only place outside the ledger that asks what time it is."""

from __future__ import annotations

from datetime import UTC, datetime


def wall_clock() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)
