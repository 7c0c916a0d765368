"""Run the trading session job over consecutive sessions and collect a readable report."""

from __future__ import annotations

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
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.settings import EnvSettings, load_config

#: Console logging of in-process runs at WARNING: the full event log is in the instance (and UI).
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class TickReport:
    """What one run (a session at one decision time) did."""

    session: date
    at: datetime
    success: bool
    metadata: dict[str, dict[str, Any]]
    failed_checks: list[str]
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


def _failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    return [
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]


def _describe_tick(tick: TickReport, ledger: SqlLedger, symbol: str) -> None:
    if tick.failed_checks:
        tick.lines.append("blocked by " + ", ".join(tick.failed_checks))
    rank = tick.value("iv_rank", f"iv_rank_{symbol}")
    if rank is not None:
        tick.lines.append(f"{symbol} IVR {rank:5.1f} ATM IV {tick.value('iv_rank', f'atm_iv_{symbol}'):.3f}")
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
        verb = "ENTRY" if intent.effect is PositionEffect.OPEN else "EXIT"
        tick.lines.append(
            f"{verb} {intent.strategy} x{intent.quantity} limit {intent.limit_price} -> {status.value}"
        )


def run_sessions(count: int, end: date, settings: EnvSettings | None = None) -> RunReport:
    """Materialize the session job for `count` sessions ending at `end`, at every decision time."""
    settings = settings or EnvSettings()
    config = load_config(settings.config)
    defs = build_definitions(settings)
    job = defs.resolve_job_def("trading_session_job")
    ledger = SqlLedger.open(settings.resolved_ledger_url)
    instance = dg.DagsterInstance.get()
    last = end if is_session(end) else previous_session(end)
    ticks = []
    for session in sessions_ending(last, count):
        for at in decision_times(session, list(config.sessions.decision_times_et)):
            result = job.execute_in_process(
                partition_key=session.isoformat(),
                instance=instance,
                raise_on_error=False,
                tags={DECISION_TIME_TAG: at.isoformat()},
                run_config=QUIET,
            )
            tick = TickReport(session, at, result.success, _metadata(result), _failed_checks(result))
            _describe_tick(tick, ledger, config.universe.regime_underlying)
            ticks.append(tick)
    analytics = defs.resolve_job_def("analytics_job").execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET
    )
    summary = _summary(ticks, ledger, analytics.success, config.account.starting_equity)
    return RunReport(
        ticks, summary, ok=all(t.success or t.failed_checks for t in ticks) and analytics.success
    )


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
