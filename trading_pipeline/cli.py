"""Command line: run the trading session job over a span of sessions and print what happened.

`trading-pipeline run --sessions 20` materializes the whole asset graph for each session (at each
configured decision time) on a persistent Dagster instance, so every run shows up in the UI.
`trading-pipeline init-ledger` creates (or migrates) the ledger at TRADING_LEDGER_URL.
`trading-pipeline prune --older-than-days 90` deletes finished Dagster runs and their run outputs.
A start-up problem (environment, configuration, data directory, ledger) is one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from trading_pipeline.core.calendar import sessions_between
from trading_pipeline.settings import (
    ConfigError,
    EnvSettings,
    check_data_dir,
    check_environment_variables,
    check_start_up,
    ledger_present,
    load_config,
    load_env_settings,
)

DEFAULT_END = date(2025, 12, 31)
DEFAULT_SESSIONS = 20
DEFAULT_LANE_TIMEOUT_SECONDS = 600.0
REPO_ROOT = Path(__file__).resolve().parents[1]
#: Exit code of a start-up error (and of a run that could not get the execution lane).
EXIT_REFUSED = 2


def ensure_dagster_home(data_dir: Path) -> Path:
    """Use DAGSTER_HOME if set, else `<data_dir>/dagster_home` seeded with the repo's dagster.yaml."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = (data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@dataclass(frozen=True)
class RunArgs:
    sessions: int
    end: date
    lane_timeout: float
    older_than_days: int = 90
    #: `trading-state`: show, or set (reset = ACTIVE, reduce = REDUCING, halt = HALTED) by a named operator.
    state_action: str = "show"
    operator: str = ""
    reason: str = ""


def _parse(argv: list[str]) -> tuple[str, RunArgs]:
    parser = argparse.ArgumentParser(prog="trading-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the trading session job over recent sessions")
    run.add_argument(
        "--sessions", type=int, default=None, help=f"number of NYSE sessions (default {DEFAULT_SESSIONS})"
    )
    run.add_argument(
        "--start",
        type=date.fromisoformat,
        default=None,
        help="first session to run, YYYY-MM-DD (instead of --sessions): every session from --start to --end",
    )
    run.add_argument(
        "--end",
        type=date.fromisoformat,
        default=DEFAULT_END,
        help=f"last session to run, YYYY-MM-DD (default {DEFAULT_END})",
    )
    run.add_argument(
        "--lane-timeout",
        type=float,
        default=DEFAULT_LANE_TIMEOUT_SECONDS,
        help="seconds to wait for another run to leave the execution lane "
        f"(default {DEFAULT_LANE_TIMEOUT_SECONDS:g})",
    )
    commands.add_parser("init-ledger", help="create or migrate the ledger at TRADING_LEDGER_URL")
    prune = commands.add_parser(
        "prune", help="delete finished Dagster runs (and their run outputs) older than N days"
    )
    prune.add_argument("--older-than-days", type=int, default=90, help="age in days (default 90)")
    state = commands.add_parser(
        "trading-state",
        help="show the trading state, or set it: reset (ACTIVE), reduce (REDUCING), halt (HALTED)",
    )
    state.add_argument("action", choices=sorted(STATE_ACTIONS), nargs="?", default="show")
    state.add_argument("--operator", default="", help="who acts (required to change the state)")
    state.add_argument("--reason", default="", help="why (required to change the state)")
    args = parser.parse_args(argv)
    if args.command == "trading-state":
        if args.action != "show" and not (args.operator.strip() and args.reason.strip()):
            parser.error(f"trading-state {args.action} needs --operator and --reason")
        return args.command, RunArgs(
            0,
            DEFAULT_END,
            DEFAULT_LANE_TIMEOUT_SECONDS,
            state_action=args.action,
            operator=args.operator,
            reason=args.reason,
        )
    if args.command == "init-ledger":
        return args.command, RunArgs(0, DEFAULT_END, DEFAULT_LANE_TIMEOUT_SECONDS)
    if args.command == "prune":
        if args.older_than_days < 1:
            parser.error(f"--older-than-days must be >= 1, got {args.older_than_days}")
        return args.command, RunArgs(0, DEFAULT_END, DEFAULT_LANE_TIMEOUT_SECONDS, args.older_than_days)
    if args.start is not None:
        if args.sessions is not None:
            parser.error("give --start or --sessions, not both")
        sessions = len(sessions_between(args.start, args.end))
        if sessions < 1:
            parser.error(f"no NYSE session from --start {args.start} to --end {args.end}")
        return args.command, RunArgs(sessions, args.end, args.lane_timeout)
    sessions = DEFAULT_SESSIONS if args.sessions is None else args.sessions
    if sessions < 1:
        parser.error(f"--sessions must be >= 1, got {sessions}")
    return args.command, RunArgs(sessions, args.end, args.lane_timeout)


def quiet_library_warnings() -> None:
    """Keep the summary readable: preview/deprecation notices from Dagster and pandas 3 shims."""
    import dagster as dg
    import pandas as pd

    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def start_up() -> EnvSettings:
    """Every check that must pass before anything runs; ConfigError naming the variable, value or path."""
    check_environment_variables(os.environ)
    settings = load_env_settings()
    check_data_dir(settings.data_dir)
    load_config(settings.config)
    check_start_up(settings)
    return settings


def init_ledger() -> str:
    """Create or migrate the ledger at the configured URL; returns what was done (password masked)."""
    from trading_pipeline.adapters.ledger.migrate import display_url, upgrade

    check_environment_variables(os.environ)
    settings = load_env_settings()
    if settings.ledger_url is None:
        check_data_dir(settings.data_dir)
    existed = ledger_present(settings)
    upgrade(settings.resolved_ledger_url)
    return f"ledger {'migrated' if existed else 'created'} at {display_url(settings.resolved_ledger_url)}"


def run(args: RunArgs) -> int:
    """The `run` command: start-up checks, dead runs swept, then the sessions and the summary."""
    from trading_pipeline.adapters.ledger.migrate import display_url

    settings = start_up()
    print(f"ledger: {display_url(settings.resolved_ledger_url)}")
    quiet_library_warnings()
    ensure_dagster_home(settings.data_dir)
    import dagster as dg

    from trading_pipeline.defs.run_health import mark_dead_runs_failed
    from trading_pipeline.runner import ExecutionLaneBusyError, run_sessions

    for message in mark_dead_runs_failed(dg.DagsterInstance.get()):
        print(message, file=sys.stderr)
    started = time.monotonic()
    try:
        report = run_sessions(args.sessions, args.end, settings, args.lane_timeout)
    except ExecutionLaneBusyError as exc:
        return refuse(exc)
    print(report.render())
    print(
        f"\nfinished in {time.monotonic() - started:.1f} s; "
        f"open the UI with `make ui` (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    return 0 if report.ok else 1


def prune(args: RunArgs) -> str:
    """The `prune` command: Dagster history older than the cutoff goes; the ledger is never touched."""
    from datetime import UTC, datetime, timedelta

    check_environment_variables(os.environ)
    settings = load_env_settings()
    ensure_dagster_home(settings.data_dir)
    import dagster as dg

    from trading_pipeline.defs.retention import prune_dagster_history

    report = prune_dagster_history(
        dg.DagsterInstance.get(),
        timedelta(days=args.older_than_days),
        datetime.now(UTC),
        settings.data_dir.resolve() / "run_outputs",
    )
    return (
        f"pruned {len(report.deleted_run_ids)} runs finished before {report.cutoff:%Y-%m-%d %H:%M} UTC "
        f"and {len(report.removed_output_dirs)} run-output directories"
    )


#: The `trading-state` actions and the state each one records (None: only show it).
STATE_ACTIONS = {"show": None, "reset": "ACTIVE", "reduce": "REDUCING", "halt": "HALTED"}


def trading_state(args: RunArgs) -> str:
    """The `trading-state` command: the current state and its history, after recording an operator's act
    (the only way out of an automatic trip)."""
    from trading_pipeline.adapters.clock import wall_clock
    from trading_pipeline.adapters.ledger.repository import SqlLedger
    from trading_pipeline.core.trading_state import TradingState, current_state, operator_event

    check_environment_variables(os.environ)
    settings = load_env_settings()
    if settings.ledger_url is None:
        check_data_dir(settings.data_dir)
    ledger = SqlLedger.open(settings.resolved_ledger_url)
    try:
        target = STATE_ACTIONS[args.state_action]
        if target is not None:
            try:
                event = operator_event(TradingState(target), args.operator, args.reason, wall_clock())
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            ledger.record_trading_state(event)
        state, cause = current_state(ledger.trading_state())
        history = [
            f"  {e.at:%Y-%m-%d %H:%M} UTC  {e.state.value:<8} {e.trigger.value:<15} {e.cause}"
            for e in ledger.trading_state_events()[-10:]
        ]
    finally:
        ledger.dispose()
    return "\n".join(
        [f"trading state: {state.value} ({cause})", *(["last changes:", *history] if history else [])]
    )


def refuse(error: Exception) -> int:
    """Print the error as one line on stderr (no traceback) and return the refusal exit code."""
    print(f"trading-pipeline: {' '.join(str(error).split())}", file=sys.stderr)
    return EXIT_REFUSED


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `trading-pipeline` command."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    command, args = _parse(sys.argv[1:] if argv is None else argv)
    try:
        if command == "init-ledger":
            print(init_ledger())
            return 0
        if command == "prune":
            print(prune(args))
            return 0
        if command == "trading-state":
            print(trading_state(args))
            return 0
        return run(args)
    except ConfigError as exc:
        return refuse(exc)


if __name__ == "__main__":
    raise SystemExit(main())
