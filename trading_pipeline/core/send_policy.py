"""When a recorded order may go to a broker: never from a rerun of a past tick against a real market."""

from __future__ import annotations

from datetime import datetime, timedelta

#: Environments whose broker fills against the run's own (simulated or historical) clock.
REPLAYABLE_ENVIRONMENTS = frozenset({"sim", "replay"})


def hold_reason(env: str, decision_time: datetime, wall_now: datetime, max_lag: timedelta) -> str | None:
    """Why an order decided at `decision_time` must not be sent at `wall_now`, or None if it may be.

    In sim and replay the broker lives on the run's clock, so any session may be rerun. Against a real
    market an order belongs to its tick: one decided more than `max_lag` ago, or in the future, is held.
    """
    if env in REPLAYABLE_ENVIRONMENTS:
        return None
    lag = wall_now - decision_time
    if lag > max_lag:
        return (
            f"not sent: decided at {decision_time.isoformat()}, {lag.total_seconds():.0f} s ago "
            f"(a rerun of a past tick never sends in {env}; limit {max_lag.total_seconds():.0f} s)"
        )
    if lag < -timedelta(seconds=1):
        return f"not sent: decision time {decision_time.isoformat()} is after {wall_now.isoformat()}"
    return None
