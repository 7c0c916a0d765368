"""The chaos scenarios: trials on fresh worlds, each followed by the invariant check.

- concurrent pair: two workers run the same tick (ENTRY_SESSION 10:00) at the same instant;
- two decision times: ENTRY_SESSION 10:00 and 15:30 at the same instant (at most one entry);
- kill: the entry tick is SIGKILLed (at a random time, right before the broker call, or right after
  the broker accepted the order), then the next tick runs (15:30 or the next session's 10:00).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine
from tabulate import tabulate

from trading_pipeline_tests.chaos.invariants import check_invariants, harness_limits, observe
from trading_pipeline_tests.chaos.settings import ChaosSettings
from trading_pipeline_tests.chaos.workers import (
    ENTRY_TICK,
    ForkedEntryTick,
    ForkedOutcome,
    Kill,
    KillPoint,
    SynchronizedTick,
    Tick,
    TickOutcome,
    WarmUp,
    WorkerPool,
)
from trading_pipeline_tests.chaos.worlds import (
    NEXT_SESSION,
    Backend,
    HarnessSpec,
    PostgresWorlds,
    SqliteWorlds,
    TrialWorlds,
    build_template,
)
from trading_pipeline_tests.pipeline_harness import AFTERNOON, ENTRY_SESSION, MORNING, PipelineHarness

#: Kill points in turn: half the kills at a random time, a quarter at each named point of the order path.
KILL_ROTATION = (KillPoint.TIMER, KillPoint.AFTER_ACCEPT, KillPoint.TIMER, KillPoint.BEFORE_SUBMIT)
AFTERNOON_TICK = Tick(ENTRY_SESSION, AFTERNOON)
NEXT_TICKS = (AFTERNOON_TICK, Tick(NEXT_SESSION, MORNING))


class Scenario(StrEnum):
    CONCURRENT_PAIR = "concurrent-pair"
    TWO_DECISION_TIMES = "two-decision-times"
    KILL = "kill-then-next-tick"


@dataclass(frozen=True)
class Trial:
    """One trial: what was done, the violations found, and any tick that failed (not a violation itself)."""

    number: int
    description: str
    violations: tuple[str, ...]
    failed_ticks: tuple[str, ...]


#: Runs trials numbered from its first argument, at most its second many; returns the trials run.
BatchRunner = Callable[[int, int], list[Trial]]


@dataclass
class ScenarioReport:
    """The trials of one scenario on one backend."""

    scenario: Scenario
    backend: Backend
    requested: int
    seed: int
    trials: list[Trial] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def stopped_by_budget(self) -> bool:
        return len(self.trials) < self.requested

    @property
    def violations(self) -> list[str]:
        return [f"trial {t.number} ({t.description}): {v}" for t in self.trials for v in t.violations]

    def row(self) -> dict[str, object]:
        return {
            "scenario": str(self.scenario),
            "backend": str(self.backend),
            "trials": f"{len(self.trials)}/{self.requested}",
            "trials with violations": sum(bool(t.violations) for t in self.trials),
            "violations": len(self.violations),
            "failed ticks": sum(len(t.failed_ticks) for t in self.trials),
            "seconds": round(self.seconds, 1),
        }

    def render(self, every_trial: bool = False) -> str:
        """A summary line, notes, every trial if asked, then every violation and failed tick, one per line."""
        row = self.row()
        lines = [
            f"chaos {self.scenario} on {self.backend}: {row['trials']} trials in {row['seconds']} s"
            f" (seed {self.seed}), {row['violations']} violations in {row['trials with violations']} trials,"
            f" {row['failed ticks']} failed ticks"
            + (" [stopped by CHAOS_BUDGET_SECONDS]" * self.stopped_by_budget),
            *(f"  note: {note}" for note in self.notes),
            *(f"  trial {t.number}: {t.description}" for t in self.trials if every_trial),
            *(f"  VIOLATION {v}" for v in self.violations),
            *(f"  failed tick in trial {t.number}: {f}" for t in self.trials for f in t.failed_ticks),
        ]
        return "\n".join(lines)


def render_table(reports: list[ScenarioReport]) -> str:
    return tabulate([r.row() for r in reports], headers="keys", tablefmt="github")


class ChaosSuite:
    """Runs scenarios on a worker pool, against fresh worlds cut from one IV-seeded template.

    The time budget (CHAOS_BUDGET_SECONDS) runs from construction; each of the `planned_runs` scenario
    runs gets an equal share of what is left when it starts, so an early run cannot starve a later one.
    """

    def __init__(self, pool: WorkerPool, settings: ChaosSettings, base_dir: Path, planned_runs: int) -> None:
        self._deadline = time.monotonic() + settings.budget_seconds
        self._runs_left = planned_runs
        self._pool = pool
        self._settings = settings
        self._base_dir = base_dir
        self._template = build_template(base_dir / "template")
        self._warm = False

    def sqlite_worlds(self) -> SqliteWorlds:
        """Worlds on SQLite files under the suite's directory."""
        return SqliteWorlds(self._template, self._base_dir / "trials")

    def postgres_worlds(self, admin: Engine) -> PostgresWorlds:
        """Worlds on the PostgreSQL server of `admin` (an AUTOCOMMIT engine); close them after use."""
        return PostgresWorlds(self._template, self._base_dir / "trials", admin)

    def run(self, scenario: Scenario, worlds: TrialWorlds) -> ScenarioReport:
        """Run the scenario's trials until its count or the time budget is reached, checking each."""
        self._warm_up(worlds)
        settings = self._settings
        rng = random.Random(f"{settings.seed}:{scenario}:{worlds.backend}")
        requested = {
            Scenario.CONCURRENT_PAIR: settings.concurrent_trials,
            Scenario.TWO_DECISION_TIMES: settings.decision_time_trials,
            Scenario.KILL: settings.kill_trials,
        }[scenario]
        report = ScenarioReport(scenario, worlds.backend, requested, settings.seed)
        started = time.monotonic()
        stop_at = started + max(0.0, self._deadline - started) / max(1, self._runs_left)
        self._runs_left -= 1
        run_batch = {
            Scenario.CONCURRENT_PAIR: lambda: self._pair_runner((ENTRY_TICK, ENTRY_TICK), rng, worlds),
            Scenario.TWO_DECISION_TIMES: lambda: self._pair_runner((ENTRY_TICK, AFTERNOON_TICK), rng, worlds),
            Scenario.KILL: lambda: self._kill_runner(rng, worlds, report),
        }[scenario]()
        while len(report.trials) < requested and time.monotonic() < stop_at:
            report.trials += run_batch(len(report.trials) + 1, requested - len(report.trials))
        report.seconds = time.monotonic() - started
        return report

    def _warm_up(self, worlds: TrialWorlds) -> None:
        """Run one entry tick in each worker (imports and caches), once per suite."""
        if self._warm:
            return
        harnesses = [worlds.new(f"warm-up-{i}") for i in range(WorkerPool.SIZE)]
        self._pool.run([WarmUp(HarnessSpec.of(h)) for h in harnesses])
        for harness in harnesses:
            worlds.discard(harness)
        self._warm = True

    def _check(self, harness: PipelineHarness, worlds: TrialWorlds, order_expected: bool) -> tuple[str, ...]:
        """The trial's violations; a trial expected to send an order and sending none tested nothing."""
        try:
            world = observe(harness)
        finally:
            worlds.discard(harness)
        violations = check_invariants(world, harness_limits(harness))
        if order_expected and not world.broker_orders:
            violations.append("no order reached the broker: the trial exercised nothing")
        return tuple(violations)

    def _pair_runner(self, ticks: tuple[Tick, Tick], rng: random.Random, worlds: TrialWorlds) -> BatchRunner:
        """Trials where both workers start `ticks` at a barrier, one of them up to max_skew_seconds later."""

        def trial(number: int, remaining: int) -> list[Trial]:
            harness = worlds.new(f"pair-{number}")
            skew = rng.uniform(0, self._settings.max_skew_seconds)
            delays = (0.0, skew) if rng.random() < 0.5 else (skew, 0.0)
            spec = HarnessSpec.of(harness)
            outcomes = self._pool.run(
                [SynchronizedTick(spec, t, d) for t, d in zip(ticks, delays, strict=True)]
            )
            description = " + ".join(f"{t} after {d:.3f} s" for t, d in zip(ticks, delays, strict=True))
            violations = self._check(harness, worlds, order_expected=True)
            return [Trial(number, description, violations, _failures(outcomes))]  # type: ignore[arg-type]

        return trial

    def _kill_runner(self, rng: random.Random, worlds: TrialWorlds, report: ScenarioReport) -> BatchRunner:
        """Kill trials, one per worker; timer kills are uniform over the median forked entry tick.

        The median starts from one measured tick per worker and takes in every tick that finished before
        its kill, so a noisy first measurement (the machine is shared) does not decide every timer.
        """
        calibration = [worlds.new(f"calibrate-{i}") for i in range(WorkerPool.SIZE)]
        measured = self._pool.run([ForkedEntryTick(HarnessSpec.of(h)) for h in calibration])
        for harness in calibration:
            worlds.discard(harness)
        durations = [outcome.seconds for outcome in measured]  # type: ignore[attr-defined]
        report.notes.append(f"forked entry ticks took {', '.join(f'{d:.2f}' for d in durations)} s unkilled")

        def trials(first: int, remaining: int) -> list[Trial]:
            numbers = range(first, first + min(WorkerPool.SIZE, remaining))
            harnesses = [worlds.new(f"kill-{n}") for n in numbers]
            tick_seconds = statistics.median(durations)
            kills = [
                Kill(KILL_ROTATION[(n - 1) % len(KILL_ROTATION)], rng.uniform(0, tick_seconds))
                for n in numbers
            ]
            next_ticks = [rng.choice(NEXT_TICKS) for _ in numbers]
            tasks = [
                ForkedEntryTick(HarnessSpec.of(h), kill, tick)
                for h, kill, tick in zip(harnesses, kills, next_ticks, strict=True)
            ]
            outcomes: list[ForkedOutcome] = self._pool.run(tasks)  # type: ignore[arg-type, assignment]
            done = []
            for n, harness, kill, tick, outcome in zip(
                numbers, harnesses, kills, next_ticks, outcomes, strict=True
            ):
                fate = "killed" if outcome.killed else "finished before the kill"
                if not outcome.killed:
                    durations.append(outcome.seconds)
                description = f"kill {kill}: {fate} after {outcome.seconds:.2f} s; next tick {tick}"
                failures = _failures([outcome.next_tick]) if outcome.next_tick else ()
                done.append(
                    Trial(n, description, self._check(harness, worlds, order_expected=False), failures)
                )
            return done

        return trials


def _failures(outcomes: list[TickOutcome]) -> tuple[str, ...]:
    return tuple(f"{o.tick}: {o.failure}" for o in outcomes if not o.success)
