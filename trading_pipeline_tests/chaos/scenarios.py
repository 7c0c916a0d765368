"""The chaos scenarios: trials on fresh worlds, each followed by the invariant check.

- concurrent pair: two workers run the same tick (ENTRY_SESSION 10:00) at the same instant;
- two decision times: ENTRY_SESSION 10:00 and 15:30 at the same instant (at most one entry);
- kill: the entry tick is SIGKILLed (at a random time, right before the broker call, or right after
  the broker accepted the order), then the next tick runs (15:30 or the next session's 10:00);
- concurrent exit pair: from a world holding the entry tick's position, with a configuration whose time
  exit fires at every tick, two workers run the exit tick (15:30) at the same instant, or 15:30 and the
  next session's 10:00;
- kill exit: from that world, the exit tick is SIGKILLed at the same kill points (its close is its only
  order), then the next session's 10:00 runs;
- concurrent ladder pair: from a world whose entry tick left its orders resting (WORKING) at the broker,
  two workers run the 10:05 tick, where each order's ladder takes its first step, at the same instant;
- kill ladder: from that world, the 10:05 tick is SIGKILLed (at a random time, right before a step's
  replace reaches the broker, or right after the broker applied it), then 10:06 or 10:10 runs.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time as clock
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from tabulate import tabulate

from trading_pipeline.core.orders import OrderStatus, PositionEffect
from trading_pipeline.core.positions import PositionStatus
from trading_pipeline_tests.chaos.invariants import (
    check_invariants,
    harness_limits,
    observe,
    orders_sent,
    unfinished_exits,
)
from trading_pipeline_tests.chaos.settings import ChaosSettings
from trading_pipeline_tests.chaos.workers import (
    ENTRY_TICK,
    ForkedOutcome,
    ForkedTick,
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
    exit_config_sections,
    resting_config_sections,
)
from trading_pipeline_tests.pipeline_harness import AFTERNOON, ENTRY_SESSION, MORNING, PipelineHarness

#: Kill points in turn: half the kills at a random time, a quarter at each named point of the order path.
KILL_ROTATION = (KillPoint.TIMER, KillPoint.AFTER_ACCEPT, KillPoint.TIMER, KillPoint.BEFORE_SUBMIT)
AFTERNOON_TICK = Tick(ENTRY_SESSION, AFTERNOON)
NEXT_MORNING_TICK = Tick(NEXT_SESSION, MORNING)
NEXT_TICKS = (AFTERNOON_TICK, NEXT_MORNING_TICK)
#: The entry tick opens a strangle, a put credit spread and an iron condor (the regime is range_calm).
MIN_OPENED_STRATEGIES = 3
#: The first tick after the entry: the exit scenarios' time exit fires there, and at every later tick.
EXIT_TICK = AFTERNOON_TICK
#: Exit pairs in turn: one close id for both ticks (the claim decides), then two ticks with a close id
#: each for the same position (record_exit decides: no close while another is on its way).
EXIT_PAIRS = ((EXIT_TICK, EXIT_TICK), (EXIT_TICK, NEXT_MORNING_TICK))
#: The ladder world's first step is due 5 minutes after the 10:00 entries; 10:06 settles what a killed step
#: left (and waits), 10:10 takes the second step.
LADDER_TICK = Tick(ENTRY_SESSION, clock(10, 5))
LADDER_NEXT_TICKS = (Tick(ENTRY_SESSION, clock(10, 6)), Tick(ENTRY_SESSION, clock(10, 10)))
#: The broker's answer in an exit pair takes this long, as a real broker's round trip does: a close stays
#: on its way (at the broker, claimed in the ledger) long enough for the other tick's exit to meet it.
EXIT_PAIR_BROKER_LATENCY_SECONDS = 0.25


class Scenario(StrEnum):
    CONCURRENT_PAIR = "concurrent-pair"
    TWO_DECISION_TIMES = "two-decision-times"
    KILL = "kill-then-next-tick"
    CONCURRENT_EXIT = "concurrent-exit-pair"
    KILL_EXIT = "kill-exit-then-next-tick"
    CONCURRENT_LADDER = "concurrent-ladder-pair"
    KILL_LADDER = "kill-ladder-then-next-tick"


@dataclass(frozen=True)
class Start:
    """Where a scenario's trials start, and what each trial must leave behind besides the invariants."""

    worlds: TrialWorlds
    #: Names the scenario's world directories, so no scenario's trial reuses another one's directory.
    label: str
    #: A concurrent trial must get an order of this effect to the broker, else it exercised nothing.
    sends: PositionEffect
    #: Every tick's exit rule fires: each open position must end closed, or with a close of it on its way.
    exits: bool = False
    source: PipelineHarness | None = None  # the world each trial's world copies (default: the template)
    config_sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    broker_latency: float = 0.0  # seconds the broker takes to answer in a concurrent trial
    #: A concurrent trial must move a resting order up its ladder at the broker, else it exercised nothing.
    steps: bool = False

    def new_world(self, name: str) -> PipelineHarness:
        """A fresh world for one trial, copied from `source`."""
        return self.worlds.new(f"{self.label}-{name}", self.source, **self.config_sections)


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
    runs (every scenario on each backend) gets the share of what is left when it starts that its trial count
    is of the trials still to run, so an early run cannot starve a later one, nor a 10-trial run take the
    time of a 50-trial one.
    """

    def __init__(self, pool: WorkerPool, settings: ChaosSettings, base_dir: Path, planned_runs: int) -> None:
        self._deadline = time.monotonic() + settings.budget_seconds
        per_backend = settings.requested()
        self._trials_left = sum(per_backend.values()) * planned_runs / max(1, len(per_backend))
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
        requested = settings.requested()[str(scenario)]
        report = ScenarioReport(scenario, worlds.backend, requested, settings.seed)
        started = time.monotonic()
        share = requested / max(1.0, self._trials_left)
        stop_at = started + max(0.0, self._deadline - started) * min(1.0, share)
        self._trials_left -= requested
        entry = Start(worlds, str(scenario), PositionEffect.OPEN)
        run_batch = {
            Scenario.CONCURRENT_PAIR: lambda: self._pair_runner(((ENTRY_TICK, ENTRY_TICK),), rng, entry),
            Scenario.TWO_DECISION_TIMES: lambda: self._pair_runner(
                ((ENTRY_TICK, AFTERNOON_TICK),), rng, entry
            ),
            Scenario.KILL: lambda: self._kill_runner(ENTRY_TICK, NEXT_TICKS, rng, entry, report),
            Scenario.CONCURRENT_EXIT: lambda: self._pair_runner(
                EXIT_PAIRS, rng, self._exit_start(worlds, scenario)
            ),
            Scenario.KILL_EXIT: lambda: self._kill_runner(
                EXIT_TICK, (NEXT_MORNING_TICK,), rng, self._exit_start(worlds, scenario), report
            ),
            Scenario.CONCURRENT_LADDER: lambda: self._pair_runner(
                ((LADDER_TICK, LADDER_TICK),), rng, self._ladder_start(worlds, scenario)
            ),
            Scenario.KILL_LADDER: lambda: self._kill_runner(
                LADDER_TICK, LADDER_NEXT_TICKS, rng, self._ladder_start(worlds, scenario), report
            ),
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

    def _exit_start(self, worlds: TrialWorlds, scenario: Scenario) -> Start:
        """Copies of a world holding the entry tick's position (built once per backend), configured so
        that every tick's time exit fires for it."""
        opened = worlds.kept("opened", self._open_position)
        return Start(
            worlds,
            str(scenario),
            PositionEffect.CLOSE,
            exits=True,
            source=opened,
            config_sections=exit_config_sections(),
            broker_latency=EXIT_PAIR_BROKER_LATENCY_SECONDS,
        )

    def _ladder_start(self, worlds: TrialWorlds, scenario: Scenario) -> Start:
        """Copies of a world whose entry tick left its orders resting at the broker (built once per backend),
        configured so that each order's ladder steps at LADDER_TICK."""
        resting = worlds.kept("resting", self._rest_orders, **resting_config_sections())
        return Start(
            worlds,
            str(scenario),
            PositionEffect.OPEN,
            source=resting,
            config_sections=resting_config_sections(),
            steps=True,
        )

    def _rest_orders(self, harness: PipelineHarness) -> None:
        """Run the entry tick in a forked child; its entries must rest (WORKING) at the broker and in the
        ledger, with no violation."""
        self._pool.run([ForkedTick(HarnessSpec.of(harness), ENTRY_TICK)])
        world = observe(harness)
        working = [o for o in world.broker_orders if o.status is OrderStatus.WORKING]
        in_ledger = int((world.intents["status"] == OrderStatus.WORKING.value).sum())
        violations = check_invariants(world, harness_limits(harness))
        if not working or in_ledger != len(working) or violations:
            raise RuntimeError(
                f"entry tick {ENTRY_TICK} in {harness.workdir} left {len(working)} working orders at the"
                f" broker, {in_ledger} in the ledger, violations {violations}: the ladder would step nothing"
            )

    def _open_position(self, harness: PipelineHarness) -> None:
        """Run the entry tick to completion in a forked child; the ledger and the broker must then agree
        on one open position per strategy that entered (a strangle, a spread, a condor: each one's close
        is then exercised)."""
        self._pool.run([ForkedTick(HarnessSpec.of(harness), ENTRY_TICK)])
        world = observe(harness)
        is_open = world.positions["status"] == PositionStatus.OPEN.value
        open_positions = int(is_open.sum())
        strategies = set(world.positions.loc[is_open, "strategy"])
        violations = check_invariants(world, harness_limits(harness))
        if open_positions < MIN_OPENED_STRATEGIES or len(strategies) != open_positions or violations:
            raise RuntimeError(
                f"entry tick {ENTRY_TICK} in {harness.workdir} left {open_positions} open positions of"
                f" {sorted(strategies)} (expected one of each of at least {MIN_OPENED_STRATEGIES} strategies)"
                f" and violations {violations}: the exit scenarios would have too little to close"
            )

    def _check(self, harness: PipelineHarness, start: Start, concurrent: bool) -> tuple[str, ...]:
        """The trial's violations, with the start's expectations; a concurrent trial must send an order."""
        try:
            world = observe(harness)
        finally:
            start.worlds.discard(harness)
        violations = check_invariants(world, harness_limits(harness))
        if concurrent and not orders_sent(world, start.sends):
            violations.append(f"no {start.sends} order reached the broker: the trial exercised nothing")
        if start.exits:
            violations += unfinished_exits(world)
        if concurrent and start.steps and not any(order.step for order in world.broker_orders):
            violations.append("no ladder step reached the broker: the trial exercised nothing")
        return tuple(violations)

    def _pair_runner(
        self, pairs: tuple[tuple[Tick, Tick], ...], rng: random.Random, start: Start
    ) -> BatchRunner:
        """Trials where both workers start a pair of ticks at a barrier, one of them up to max_skew_seconds
        later; trial n runs the n-th of `pairs` in turn."""

        def trial(number: int, remaining: int) -> list[Trial]:
            ticks = pairs[(number - 1) % len(pairs)]
            harness = start.new_world(f"pair-{number}")
            skew = rng.uniform(0, self._settings.max_skew_seconds)
            delays = (0.0, skew) if rng.random() < 0.5 else (skew, 0.0)
            spec = HarnessSpec.of(harness)
            outcomes = self._pool.run(
                [
                    SynchronizedTick(spec, t, d, start.broker_latency)
                    for t, d in zip(ticks, delays, strict=True)
                ]
            )
            description = " + ".join(f"{t} after {d:.3f} s" for t, d in zip(ticks, delays, strict=True))
            violations = self._check(harness, start, concurrent=True)
            return [Trial(number, description, violations, _failures(outcomes))]  # type: ignore[arg-type]

        return trial

    def _kill_runner(
        self,
        killed: Tick,
        next_ticks: tuple[Tick, ...],
        rng: random.Random,
        start: Start,
        report: ScenarioReport,
    ) -> BatchRunner:
        """Kill trials of tick `killed`, one per worker, each followed by one of `next_ticks` (random);
        timer kills are uniform over the median forked `killed` tick.

        The median starts from one measured tick per worker and takes in every tick that finished before
        its kill, so a noisy first measurement (the machine is shared) does not decide every timer.
        """
        calibration = [start.new_world(f"calibrate-{i}") for i in range(WorkerPool.SIZE)]
        measured = self._pool.run([ForkedTick(HarnessSpec.of(h), killed) for h in calibration])
        for harness in calibration:
            start.worlds.discard(harness)
        durations = [outcome.seconds for outcome in measured]  # type: ignore[attr-defined]
        report.notes.append(
            f"forked {killed} ticks took {', '.join(f'{d:.2f}' for d in durations)} s unkilled"
        )

        def trials(first: int, remaining: int) -> list[Trial]:
            numbers = range(first, first + min(WorkerPool.SIZE, remaining))
            harnesses = [start.new_world(f"kill-{n}") for n in numbers]
            tick_seconds = statistics.median(durations)
            kills = [
                Kill(KILL_ROTATION[(n - 1) % len(KILL_ROTATION)], rng.uniform(0, tick_seconds))
                for n in numbers
            ]
            next_ticks_drawn = [rng.choice(next_ticks) for _ in numbers]
            tasks = [
                ForkedTick(HarnessSpec.of(h), killed, kill, tick)
                for h, kill, tick in zip(harnesses, kills, next_ticks_drawn, strict=True)
            ]
            outcomes: list[ForkedOutcome] = self._pool.run(tasks)  # type: ignore[arg-type, assignment]
            done = []
            for n, harness, kill, tick, outcome in zip(
                numbers, harnesses, kills, next_ticks_drawn, outcomes, strict=True
            ):
                fate = "killed" if outcome.killed else "finished before the kill"
                if not outcome.killed:
                    durations.append(outcome.seconds)
                description = f"kill {kill}: {fate} after {outcome.seconds:.2f} s; next tick {tick}"
                failures = _failures([outcome.next_tick]) if outcome.next_tick else ()
                violations = self._check(harness, start, concurrent=False)
                done.append(Trial(n, description, violations, failures))
            return done

        return trials


def _failures(outcomes: list[TickOutcome]) -> tuple[str, ...]:
    return tuple(f"{o.tick}: {o.failure}" for o in outcomes if not o.success)
