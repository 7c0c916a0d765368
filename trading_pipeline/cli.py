"""Command line: run the trading session job over a span of sessions and print what happened.

`trading-pipeline run --sessions 20` materializes the whole asset graph for each session (at each
configured decision time) on a persistent Dagster instance, so every run shows up in the UI.
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

DEFAULT_END = date(2025, 12, 31)
REPO_ROOT = Path(__file__).resolve().parents[1]


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


def _parse(argv: list[str]) -> tuple[str, RunArgs]:
    parser = argparse.ArgumentParser(prog="trading-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the trading session job over recent sessions")
    run.add_argument("--sessions", type=int, default=20, help="number of NYSE sessions (default 20)")
    run.add_argument(
        "--end",
        type=date.fromisoformat,
        default=DEFAULT_END,
        help=f"last session to run, YYYY-MM-DD (default {DEFAULT_END})",
    )
    args = parser.parse_args(argv)
    if args.sessions < 1:
        parser.error(f"--sessions must be >= 1, got {args.sessions}")
    return args.command, RunArgs(args.sessions, args.end)


def quiet_library_warnings() -> None:
    """Keep the summary readable: preview/deprecation notices from Dagster and pandas 3 shims."""
    import dagster as dg
    import pandas as pd

    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=pd.errors.Pandas4Warning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `trading-pipeline` command."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    quiet_library_warnings()
    _command, args = _parse(sys.argv[1:] if argv is None else argv)
    from trading_pipeline.settings import ConfigError, EnvSettings

    settings = EnvSettings()
    ensure_dagster_home(settings.data_dir)
    try:
        from trading_pipeline.runner import run_sessions
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    report = run_sessions(args.sessions, args.end, settings)
    print(report.render())
    print(
        f"\nfinished in {time.monotonic() - started:.1f} s; "
        f"open the UI with `make ui` (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
