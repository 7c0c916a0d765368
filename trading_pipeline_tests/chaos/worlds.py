"""Fresh worlds for chaos trials: a ledger and a paper broker book per trial, the IV history pre-seeded.

The IV bootstrap (29 past sessions of chains) is computed once into a template SQLite ledger; a
SQLite trial gets a copy of that file (SQLite backup API, WAL included), a PostgreSQL trial a
database created from a template database (CREATE DATABASE ... TEMPLATE), so a tick takes about a second.
A trial of the exit path starts from a kept world instead, one whose entry tick already ran (copied the
same way), with a configuration under which the time exit fires at every later tick.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import uuid4

import dagster as dg
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.calendar import next_session
from trading_pipeline.core.iv_history import IvObservation
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.defs.resources import SimulatedMarketResource
from trading_pipeline.runner import QUIET
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    SESSION_JOB,
    PipelineHarness,
    decision_time,
    make_harness,
    packaged_strategies,
)

#: The session after the entry session: a "next tick" of the kill scenario runs there.
NEXT_SESSION = next_session(ENTRY_SESSION)

#: The assets that compute and record the IV history (and what they read).
IV_BOOTSTRAP_ASSETS = [
    dg.AssetKey(name) for name in ("underlying_bars", "option_chains", "implied_vol_history")
]


#: DTEs under which the time exit fires at every tick after the entry: the entry tick's strangle expires
#: 2026-01-16 (46 DTE on ENTRY_SESSION, 45 on NEXT_SESSION), its spreads no later, and no expiration of
#: exactly 50 DTE exists on either session, so no new entry follows. The config requires exit_dte < dte_min.
EXIT_EVERY_TICK = {"dte_min": 50, "dte_target": 50, "dte_max": 50, "exit_dte": 49}


def exit_config_sections() -> dict[str, dict[str, Any]]:
    """Config sections for make_harness: the packaged strategies, each dated one with EXIT_EVERY_TICK (a
    spread or a condor opened on the entry tick must be closed at every later tick as the strangle is).
    0DTE has no DTE window, and never enters here: the harness's one decision time leaves no tick to run
    its time stop.

    make_harness replaces whole sections, and a config file must set every field, hence the full section.
    """
    strategies = packaged_strategies()
    return {
        "strategies": {
            name: {**section, **(EXIT_EVERY_TICK if "exit_dte" in section else {})}
            for name, section in strategies.items()
        }
    }


#: Entries that rest: limits at mid against a market that takes half the half-spread, no jitter; the ladder
#: steps a quarter of the half-spread every 5 minutes, twice, so its steps never reach the market.
RESTING_EXECUTION = {
    "limit_fraction_of_half_spread": 0.0,
    "slippage_fraction": 0.5,
    "wide_spread_extra": 0.0,
    "volatility_extra": 0.0,
    "jitter": 0.0,
    "ladder": {
        "enabled": True,
        "step_fraction": 0.1,
        "step_wait_minutes": 5,
        "max_steps": 2,
        "cancel_before_close_minutes": 10,
    },
}


def resting_config_sections() -> dict[str, dict[str, Any]]:
    """Config sections for make_harness under which the entry tick's orders rest at the broker (WORKING)."""
    return {"strategies": packaged_strategies(), "execution": dict(RESTING_EXECUTION)}


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@dataclass(frozen=True)
class HarnessSpec:
    """The picklable fields of a PipelineHarness, so a worker process rebuilds the very same harness."""

    values: dict[str, Any]  # every PipelineHarness field except the market
    market_seed: int

    @classmethod
    def of(cls, harness: PipelineHarness) -> HarnessSpec:
        values = {f.name: getattr(harness, f.name) for f in fields(harness) if f.name != "market"}
        return cls(values, harness.market.seed)

    def harness(self) -> PipelineHarness:
        return PipelineHarness(**self.values, market=SimulatedMarketResource(seed=self.market_seed))


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL."""
    return Path(make_url(url).database or "")


def copy_sqlite(source_url: str, target_url: str) -> None:
    """A consistent copy of a SQLite database, including pages still in its write-ahead log."""
    target = sqlite_path(target_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(sqlite_path(source_url)) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()


def build_template(workdir: Path) -> PipelineHarness:
    """A harness whose ledger holds the IV history of ENTRY_SESSION and NEXT_SESSION, and an empty book."""
    harness = make_harness(workdir, strategies=packaged_strategies())
    job = harness.definitions().resolve_job_def(SESSION_JOB)
    for session in (ENTRY_SESSION, NEXT_SESSION):
        result = job.execute_in_process(
            partition_key=session.isoformat(),
            instance=dg.DagsterInstance.ephemeral(),
            asset_selection=IV_BOOTSTRAP_ASSETS,
            tags={DECISION_TIME_TAG: decision_time(session, MORNING).isoformat()},
            run_config=QUIET,
        )
        if not result.success:
            raise RuntimeError(f"IV bootstrap of {session} failed in run {result.run_id}")
    harness.broker_resource().broker().dispose()  # creates the book's tables
    return harness


class TrialWorlds:
    """Hands out a fresh harness per trial: its own directory, ledger and broker book (from the template)."""

    backend: Backend

    def __init__(self, template: PipelineHarness, base_dir: Path) -> None:
        self._template = template
        self._base_dir = base_dir
        self._kept: dict[str, PipelineHarness] = {}

    def new(
        self, name: str, source: PipelineHarness | None = None, **config_sections: dict[str, Any]
    ) -> PipelineHarness:
        """A fresh world named `name`: a copy of `source`'s ledger and book (default: the template's)."""
        origin = source or self._template
        workdir = self._base_dir / f"{self.backend}-{name}"
        sections = {"strategies": packaged_strategies(), **config_sections}
        harness = make_harness(workdir, ledger_url=self._new_ledger(workdir, source), **sections)
        copy_sqlite(origin.broker_url, harness.broker_url)
        return harness

    def kept(
        self, name: str, build: Callable[[PipelineHarness], None], **config_sections: dict[str, Any]
    ) -> PipelineHarness:
        """The world `name`, made once by `build` from a fresh world (configured with `config_sections`);
        a source for `new` until close()."""
        if name not in self._kept:
            harness = self.new(name, **config_sections)
            build(harness)
            self._kept[name] = harness
        return self._kept[name]

    def _new_ledger(self, workdir: Path, source: PipelineHarness | None) -> str:
        raise NotImplementedError

    def discard(self, harness: PipelineHarness) -> None:
        """Release what a finished trial holds outside its directory (the directory stays for inspection)."""

    def close(self) -> None:
        """Release what the worlds share: the kept worlds."""
        for harness in self._kept.values():
            self.discard(harness)
        self._kept.clear()


class SqliteWorlds(TrialWorlds):
    """Each trial's ledger is a copy of the template's SQLite file."""

    backend = Backend.SQLITE

    def _new_ledger(self, workdir: Path, source: PipelineHarness | None) -> str:
        url = f"sqlite:///{workdir / 'ledger.sqlite'}"
        copy_sqlite((source or self._template).ledger_url, url)
        return url


class PostgresWorlds(TrialWorlds):
    """Each trial's ledger is a database copied from a template database (or a kept world's), dropped after
    the trial. A database copied from must have no open connection (CREATE DATABASE ... TEMPLATE)."""

    backend = Backend.POSTGRES

    def __init__(self, template: PipelineHarness, base_dir: Path, admin: Engine) -> None:
        super().__init__(template, base_dir)
        self._admin = admin
        self._template_db = self._create_template_database()

    def _new_ledger(self, workdir: Path, source: PipelineHarness | None) -> str:
        return self._create_database(make_url(source.ledger_url).database if source else self._template_db)

    def discard(self, harness: PipelineHarness) -> None:
        self._drop_database(make_url(harness.ledger_url).database or "")

    def close(self) -> None:
        super().close()
        self._drop_database(self._template_db)

    def _create_template_database(self) -> str:
        """A migrated PostgreSQL ledger holding the template's IV observations; returns its name."""
        url = self._create_database(None)
        template_ledger, target = SqlLedger(self._template.ledger_url), SqlLedger.open(url)
        try:
            observations = template_ledger.snapshot()["iv_observations"]
            for underlying, rows in observations.groupby("underlying"):
                values = {
                    row.session: IvObservation(row.iv_30d, row.source, row.observed_at)
                    for row in rows.itertuples()
                }
                target.record_iv_observations(str(underlying), values)
        finally:
            template_ledger.dispose()
            target.dispose()
        return make_url(url).database or ""

    def _create_database(self, template: str | None) -> str:
        """CREATE DATABASE (a copy of `template` if given); returns its URL."""
        name = f"chaos_{uuid4().hex[:16]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        return self._admin.url.set(database=name).render_as_string(hide_password=False)

    def _drop_database(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
