"""One partition per NYSE session, and the decision time of a run (from its tags or the config)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

from trading_pipeline.core.calendar import decision_times, session_close, sessions_between
from trading_pipeline.settings import PipelineConfig

PARTITION_START = date(2000, 1, 3)
PARTITION_END = date(2030, 12, 31)
#: Run tag carrying the tick time (ISO 8601, UTC) of an intraday run of a session partition.
DECISION_TIME_TAG = "trading/decision_time"
#: Run tag naming the strategies (comma-separated) whose entries a session run considers; absent: every one.
STRATEGIES_TAG = "trading/strategies"
#: Run tag that puts broker-touching runs in the single execution lane (see dagster.yaml).
EXECUTION_LANE_TAG = "trading/lane"
#: The value of that tag for the one lane that may touch a broker.
EXECUTION_LANE = "execution"

session_partitions = dg.StaticPartitionsDefinition(
    [d.isoformat() for d in sessions_between(PARTITION_START, PARTITION_END)]
)


def session_of_partition(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> date:
    return date.fromisoformat(context.partition_key)


def decision_time_of(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, config: PipelineConfig
) -> datetime:
    """The run's tick time: the decision-time tag if present, else the session's first decision time."""
    session = session_of_partition(context)
    tagged = context.run.tags.get(DECISION_TIME_TAG)
    if tagged:
        at = datetime.fromisoformat(tagged)
        if at.tzinfo is None:
            raise ValueError(f"run tag {DECISION_TIME_TAG}={tagged!r} must carry a timezone")
        return at
    times = decision_times(session, list(config.sessions.decision_times_et))
    return times[0] if times else session_close(session)


def strategies_of(context: dg.AssetExecutionContext) -> frozenset[str] | None:
    """The strategies the run's STRATEGIES_TAG limits entries to, or None without the tag (every one)."""
    tagged = context.run.tags.get(STRATEGIES_TAG)
    if tagged is None:
        return None
    names = frozenset(name.strip() for name in tagged.split(",") if name.strip())
    if not names:
        raise ValueError(f"run tag {STRATEGIES_TAG}={tagged!r} names no strategy")
    return names


#: The end-of-day run's time after a session's close (16:15 ET, 13:15 ET on half-days): PM-settled options
#: have settled and the close is in the daily bar.
END_OF_DAY_AFTER_CLOSE = timedelta(minutes=15)


def end_of_day_time(session: date) -> datetime:
    """When the end-of-day job of `session` runs (its decision-time tag)."""
    return session_close(session) + END_OF_DAY_AFTER_CLOSE
