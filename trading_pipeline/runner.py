"""Run the trading session job over consecutive sessions and collect a readable report.

In-process runs bypass the daemon's run queue, so before each one the runner waits for the execution
lane itself (the QueuedRunCoordinator's limit of one run tagged trading/lane=execution).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import dagster as dg

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.calendar import ET, decision_times, is_session, previous_session, sessions_ending
from trading_pipeline.core.decisions import DecisionKind
from trading_pipeline.core.orders import PositionEffect
from trading_pipeline.definitions import build_definitions
from trading_pipeline.defs.partitions import (
    DECISION_TIME_TAG,
    EXECUTION_LANE,
    EXECUTION_LANE_TAG,
    end_of_day_time,
)
from trading_pipeline.defs.run_health import process_tags
from trading_pipeline.settings import EnvSettings, load_config

#: Console logging of in-process runs at WARNING: the full event log is in the instance (and UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
#: Statuses of a run that holds the execution lane (a QUEUED run waits for it and holds nothing).
LANE_HOLDING_STATUSES = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
#: Longest piece of check metadata shown in a tick's summary line.
_DETAIL_CHARS = 80
#: Step failure raised by Dagster itself when a blocking check fails; the check is reported instead.
_BLOCKED_BY_CHECK_ERROR = "DagsterAssetCheckFailedError"


class ExecutionLaneBusyError(RuntimeError):
    """Another run still held the execution lane when the wait timed out."""


@dataclass
class TickReport:
    """What one run (a session at one decision time) did."""

    session: date
    at: datetime
    success: bool
    metadata: dict[str, dict[str, Any]]
    failed_checks: list[str]
    step_failures: list[str]
    lines: list[str] = field(default_factory=list)

    def value(self, asset: str, key: str, default: Any = None) -> Any:
        return self.metadata.get(asset, {}).get(key, default)


@dataclass
class RunReport:
    ticks: list[TickReport]
    summary: list[str]
    ok: bool

    def render(self) -> str:
        out = []
        for tick in self.ticks:
            status = "ok" if tick.success else "BLOCKED" if tick.failed_checks else "FAILED"
            out.append(
                f"{tick.session} {tick.at.astimezone(ET):%H:%M} ET [{status}] " + " | ".join(tick.lines)
            )
        return "\n".join([*out, "", *self.summary])


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        values = {k: getattr(v, "value", v) for k, v in materialization.metadata.items()}
        found.setdefault(materialization.asset_key.to_user_string(), {}).update(values)
    return found


def _short(value: Any) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else " ".join(str(value).split())
    return text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 3] + "..."


def _detail(key: str, value: Any) -> str | None:
    """One piece of check metadata for a summary line: a scalar, or the first of a list of problems.

    Tables and records (dicts, lists of rows) stay in the UI: they do not fit on one line.
    """
    if isinstance(value, dict):
        return None
    if isinstance(value, list):
        problems = [item for item in value if isinstance(item, str)]
        if not problems:
            return None
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"{key}: {_short(problems[0])}{more}"
    return f"{key}={_short(value)}"


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """Each failed check as `asset:check (metadata that says why)`."""
    failed = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        details = [_detail(key, getattr(v, "value", v)) for key, v in evaluation.metadata.items()]
        shown = "; ".join(d for d in details if d)
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        failed.append(f"{name} ({shown})" if shown else name)
    return failed


def _step_failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Each failed step with the first line of its error (the user's exception, not Dagster's wrapper)."""
    failures = []
    for event in result.all_events:
        if event.event_type is not dg.DagsterEventType.STEP_FAILURE or event.step_failure_data.error is None:
            continue
        error = event.step_failure_data.error.cause or event.step_failure_data.error
        if error.cls_name == _BLOCKED_BY_CHECK_ERROR:
            continue
        first_line = (error.message.strip().splitlines() or [""])[0]
        _, named, text = first_line.partition(f"{error.cls_name}: ")  # drop the module path
        failures.append(f"{event.step_key} failed: {error.cls_name}: {text if named else first_line}")
    return failures


#: How the tick report names an order by its effect.
_VERB = {PositionEffect.OPEN: "ENTRY", PositionEffect.CLOSE: "EXIT", PositionEffect.ROLL: "ROLL"}


def tick_report(
    session: date, at: datetime, result: dg.ExecuteInProcessResult, ledger: SqlLedger, symbol: str
) -> TickReport:
    """What the run of `session` at `at` did, and why it failed or was blocked."""
    tick = TickReport(
        session, at, result.success, _metadata(result), _failed_checks(result), _step_failures(result)
    )
    _describe_tick(tick, ledger, symbol)
    return tick


def _describe_tick(tick: TickReport, ledger: SqlLedger, symbol: str) -> None:
    if tick.failed_checks:
        tick.lines.append("blocked by " + ", ".join(tick.failed_checks))
    tick.lines += tick.step_failures
    rank = tick.value("iv_rank", f"iv_rank_{symbol}")
    if rank is not None:
        tick.lines.append(f"{symbol} IVR {rank:5.1f} IV {tick.value('iv_rank', f'iv_30d_{symbol}'):.3f}")
    regime = tick.value("market_regime", "regime")
    if regime:
        tick.lines.append(f"regime {regime} (VIX {tick.value('market_regime', 'vix'):.1f})")
    skipped = tick.value("trade_candidates", "skipped") or {}
    reasons = [r for found in skipped.values() for r in found]
    candidates = tick.value("trade_candidates", "candidates")
    if candidates is not None:
        tick.lines.append(f"candidates {candidates}" + (f" ({'; '.join(reasons)})" if reasons else ""))
    for intent, status in ledger.intents(tick.session):
        if intent.decision_time != tick.at:
            continue
        verb = _VERB[intent.effect]
        tick.lines.append(
            f"{verb} {intent.strategy} x{intent.quantity} limit {intent.limit_price} -> {status.value}"
        )


def _lane_holders(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    lane = dg.RunsFilter(statuses=LANE_HOLDING_STATUSES, tags={EXECUTION_LANE_TAG: EXECUTION_LANE})
    return list(instance.get_runs(filters=lane))


def wait_for_execution_lane(
    instance: dg.DagsterInstance, timeout_seconds: float, poll_seconds: float = 2.0
) -> None:
    """Block until no run of the execution lane is in progress; ExecutionLaneBusyError after the timeout."""
    deadline = time.monotonic() + timeout_seconds
    announced = False
    while holders := _lane_holders(instance):
        holder = holders[0]
        if time.monotonic() >= deadline:
            raise ExecutionLaneBusyError(
                f"execution lane ({EXECUTION_LANE_TAG}={EXECUTION_LANE}) still held after "
                f"{timeout_seconds:g} s by run {holder.run_id} of {holder.job_name} "
                f"({holder.status.value}): wait for it to finish or terminate it in the Dagster UI"
            )
        if not announced:
            print(
                f"waiting up to {timeout_seconds:g} s for run {holder.run_id} of {holder.job_name} "
                f"({holder.status.value}) to leave the execution lane",
                file=sys.stderr,
                flush=True,
            )
            announced = True
        time.sleep(poll_seconds)


def run_sessions(
    count: int, end: date, settings: EnvSettings | None = None, lane_timeout_seconds: float = 600.0
) -> RunReport:
    """Materialize the session job for `count` sessions ending at `end`, at every decision time.

    Each run waits for the execution lane and is tagged with it and with this host and process id.
    """
    settings = settings or EnvSettings()
    config = load_config(settings.config)
    defs = build_definitions(settings)
    job = defs.resolve_job_def("trading_session_job")
    end_of_day_job = defs.resolve_job_def("end_of_day_job")
    days: list[dg.ExecuteInProcessResult] = []
    ledger = SqlLedger.open(settings.resolved_ledger_url)
    instance = dg.DagsterInstance.get()
    last = end if is_session(end) else previous_session(end)
    ticks = []
    lane_tags = {EXECUTION_LANE_TAG: EXECUTION_LANE, **process_tags()}
    for session in sessions_ending(last, count):
        for at in decision_times(session, list(config.sessions.decision_times_et)):
            wait_for_execution_lane(instance, lane_timeout_seconds)
            result = job.execute_in_process(
                partition_key=session.isoformat(),
                instance=instance,
                raise_on_error=False,
                tags={DECISION_TIME_TAG: at.isoformat(), **lane_tags},
                run_config=QUIET,
            )
            ticks.append(tick_report(session, at, result, ledger, config.universe.regime_underlying))
        wait_for_execution_lane(instance, lane_timeout_seconds)
        end_of_day = end_of_day_job.execute_in_process(
            partition_key=session.isoformat(),
            instance=instance,
            raise_on_error=False,
            tags={DECISION_TIME_TAG: end_of_day_time(session).isoformat(), **lane_tags},
            run_config=QUIET,
        )
        days.append(end_of_day)
    analytics = defs.resolve_job_def("analytics_job").execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET, tags=process_tags()
    )
    summary = _summary(ticks, ledger, analytics.success, config.account.starting_equity)
    settled = sum(_metadata(d).get("expirations", {}).get("settled_positions", 0) for d in days)
    summary.insert(
        1,
        f"end of day: {sum(d.success for d in days)} of {len(days)} runs;"
        f" positions settled at expiration: {settled}",
    )
    ok = (
        all(t.success or t.failed_checks for t in ticks)
        and all(d.success for d in days)
        and analytics.success
    )
    return RunReport(ticks, summary, ok=ok)


def _summary(
    ticks: list[TickReport], ledger: SqlLedger, analytics_ok: bool, starting_equity: Decimal
) -> list[str]:
    positions = ledger.positions(open_only=False)
    pnl = account_pnl(positions, ledger.latest_marks(), starting_equity)
    lines = [
        f"runs: {len(ticks)} ({sum(t.success for t in ticks)} succeeded, "
        f"{sum(bool(t.failed_checks) for t in ticks)} blocked by checks)"
    ]
    decisions = [d for session in sorted({t.session for t in ticks}) for d in ledger.decisions(session)]
    approved = [d for d in decisions if d.kind is DecisionKind.ENTRY and d.approved]
    rejected = [d for d in decisions if d.kind is DecisionKind.ENTRY and not d.approved]
    exits = [d for d in decisions if d.kind is DecisionKind.EXIT]
    lines.append(f"entries approved: {len(approved)}; rejected: {len(rejected)}; exits: {len(exits)}")
    lines += [f"  rejected {d.session}: {'; '.join(d.reasons)}" for d in rejected]
    lines += [f"  exit {d.session}: {'; '.join(d.reasons)}" for d in exits]
    lines.append("positions:")
    for p in positions:
        legs = " / ".join(f"{leg.side.value} {leg.contract.occ_symbol.replace(' ', '')}" for leg in p.legs)
        lines.append(
            f"  {p.status.value:6} {p.strategy} {legs} qty {p.quantity} entry {p.entry_value} "
            f"realized {p.realized_pnl} fees {p.fees}"
        )
    lines.append(
        f"P&L: realized {pnl.realized} (net of fees), unrealized {pnl.unrealized}, equity {pnl.equity}"
    )
    lines.append(f"dbt analytics: {'built' if analytics_ok else 'FAILED'}")
    return lines
