"""Long-lived worker processes that run ticks for the chaos trials, and the tasks they run.

Workers are started with the 'spawn' method and import Dagster once; a warm-up tick loads the rest
(great-expectations, market caches). Ticks that are to be killed run in a child forked from a warm
worker, so a trial costs a tick, not a Python start-up.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import select
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal
from enum import StrEnum
from multiprocessing.synchronize import Barrier
from types import TracebackType
from typing import Protocol

import dagster as dg

from trading_pipeline.adapters.brokers.base import Broker, BrokerOrder
from trading_pipeline.core.orders import OrderIntent
from trading_pipeline.defs.resources import PaperBrokerResource
from trading_pipeline_tests.chaos.worlds import HarnessSpec
from trading_pipeline_tests.pipeline_harness import ENTRY_SESSION, MORNING

#: How long the main process waits for a worker's answer before declaring the trial hung.
TASK_TIMEOUT_SECONDS = 180.0


class KillPoint(StrEnum):
    """Where the killed tick's process gets SIGKILL: around its first order request (the entry, the exit's
    close, or a working order's ladder step)."""

    TIMER = "at a random time"
    BEFORE_SUBMIT = "right before the broker call"
    AFTER_ACCEPT = "right after the broker accepted the order"  # or the step (replace, cancel)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingBroker:
    """A broker that SIGKILLs its own process right before, or right after, the wrapped broker takes its first
    order request (a submit, a ladder step's replace, or a cancel).

    Everything else is the wrapped broker's (reconciliation reads its orders and positions).
    """

    def __init__(self, broker: Broker, point: KillPoint) -> None:
        self._broker = broker
        self._point = point

    def _killing(self, request: Callable[[], BrokerOrder]) -> BrokerOrder:
        if self._point is KillPoint.BEFORE_SUBMIT:
            _die()
        order = request()
        if self._point is KillPoint.AFTER_ACCEPT:
            _die()
        return order

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        return self._killing(lambda: self._broker.submit(intent, now))

    def replace(self, client_order_id: str, limit_price: Decimal, step: int, now: datetime) -> BrokerOrder:
        return self._killing(lambda: self._broker.replace(client_order_id, limit_price, step, now))

    def cancel(self, client_order_id: str, now: datetime) -> BrokerOrder:
        return self._killing(lambda: self._broker.cancel(client_order_id, now))

    def __getattr__(self, name: str) -> object:
        return getattr(self._broker, name)


class KillingBrokerResource(PaperBrokerResource):
    """The paper broker resource whose broker kills the process at `kill_point` (a KillPoint value)."""

    kill_point: str

    def broker(self) -> KillingBroker:  # type: ignore[override]
        return KillingBroker(super().broker(), KillPoint(self.kill_point))


class SlowBroker:
    """A broker whose answer to `submit` arrives `latency` seconds after the wrapped broker took the order.

    The paper broker answers at once; a real one takes a round trip, during which the order is at the
    broker while the ledger still has it claimed (on its way). Everything else is the wrapped broker's.
    """

    def __init__(self, broker: Broker, latency: float) -> None:
        self._broker = broker
        self._latency = latency

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        order = self._broker.submit(intent, now)
        time.sleep(self._latency)
        return order

    def __getattr__(self, name: str) -> object:
        return getattr(self._broker, name)


class SlowBrokerResource(PaperBrokerResource):
    """The paper broker resource whose acknowledgements take `latency_seconds`."""

    latency_seconds: float

    def broker(self) -> SlowBroker:  # type: ignore[override]
        return SlowBroker(super().broker(), self.latency_seconds)


@dataclass(frozen=True)
class Tick:
    """One run of the session job: a session at a decision time (ET)."""

    session: date
    at: clock_time

    def __str__(self) -> str:
        return f"{self.session} {self.at:%H:%M}"


ENTRY_TICK = Tick(ENTRY_SESSION, MORNING)


@dataclass(frozen=True)
class TickOutcome:
    """How a tick ended: success, its duration, and the first failed step's error when it failed."""

    tick: Tick
    success: bool
    seconds: float
    failure: str = ""


def run_tick(spec: HarnessSpec, tick: Tick, broker_latency: float = 0.0) -> TickOutcome:
    """Run one tick of the spec's harness in this process and time it; the broker answers after
    `broker_latency` seconds (0: the paper broker as it is)."""
    harness = spec.harness()
    broker = None
    if broker_latency:
        broker = SlowBrokerResource(
            url=harness.broker_url,
            market=harness.market,
            config_path=str(harness.config_path),
            latency_seconds=broker_latency,
        )
    started = time.monotonic()
    result = harness.run_session(tick.session, tick.at, broker=broker)
    seconds = time.monotonic() - started
    return TickOutcome(tick, result.success, seconds, "" if result.success else _first_failure(result))


def _first_failure(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step and its root cause (Dagster wraps the asset's error, which may wrap others)."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip().splitlines()[0] if error else "no error recorded"
        return f"{event.step_key}: {message}"
    return f"run {result.run_id} failed before any step"


@dataclass(frozen=True)
class WarmUp:
    """Run the entry tick in the worker itself, so later forks start warm."""

    spec: HarnessSpec

    def run(self, barrier: Barrier) -> TickOutcome:
        return run_tick(self.spec, ENTRY_TICK)


@dataclass(frozen=True)
class SynchronizedTick:
    """Wait for every worker at the barrier, then `delay` seconds, then run the tick (see run_tick)."""

    spec: HarnessSpec
    tick: Tick
    delay: float
    broker_latency: float = 0.0

    def run(self, barrier: Barrier) -> TickOutcome:
        barrier.wait(timeout=TASK_TIMEOUT_SECONDS)
        time.sleep(self.delay)
        return run_tick(self.spec, self.tick, self.broker_latency)


@dataclass(frozen=True)
class Kill:
    """Where to kill the forked tick; `after_seconds` is the timer of KillPoint.TIMER."""

    point: KillPoint
    after_seconds: float = 0.0

    def __str__(self) -> str:
        return (
            f"{self.point} ({self.after_seconds:.2f} s)" if self.point is KillPoint.TIMER else str(self.point)
        )


@dataclass(frozen=True)
class ForkedOutcome:
    """The forked tick (killed or not, how long it ran) and the next tick run after it."""

    killed: bool
    seconds: float
    next_tick: TickOutcome | None


def _tick_in_child(spec: HarnessSpec, tick: Tick, point: KillPoint | None) -> None:
    harness = spec.harness()
    broker = None
    if point in (KillPoint.BEFORE_SUBMIT, KillPoint.AFTER_ACCEPT):
        broker = KillingBrokerResource(
            url=harness.broker_url,
            market=harness.market,
            config_path=str(harness.config_path),
            kill_point=point.value,
        )
    harness.run_session(tick.session, tick.at, broker=broker)


def _fork_tick(spec: HarnessSpec, tick: Tick, point: KillPoint | None) -> int:
    """Fork a child that runs `tick` and exits (0 on return, 1 on an exception); its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        _tick_in_child(spec, tick, point)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _exited_within(pid: int, seconds: float) -> bool:
    """Whether the child process `pid` exits within `seconds` (it stays a zombie until waited for)."""
    fd = os.pidfd_open(pid)
    try:
        return bool(select.select([fd], [], [], seconds)[0])
    finally:
        os.close(fd)


@dataclass(frozen=True)
class ForkedTick:
    """`tick` in a child forked from this warm worker, SIGKILLed per `kill`; then `next_tick` here.

    Without a kill it measures how long a forked tick takes (the kill timer's range), or builds a world
    (the child's connections close with it, so a PostgreSQL ledger it wrote can serve as a template).
    """

    spec: HarnessSpec
    tick: Tick
    kill: Kill | None = None
    next_tick: Tick | None = None

    def run(self, barrier: Barrier) -> ForkedOutcome:
        point = None if self.kill is None else self.kill.point
        started = time.monotonic()
        pid = _fork_tick(self.spec, self.tick, point)
        timer = self.kill.after_seconds if point is KillPoint.TIMER and self.kill else None
        if timer is not None and not _exited_within(pid, timer):
            os.kill(pid, signal.SIGKILL)
        if not _exited_within(pid, TASK_TIMEOUT_SECONDS):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise TimeoutError(
                f"forked tick {self.tick} (pid {pid}) still running after {TASK_TIMEOUT_SECONDS} s"
            )
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        seconds = time.monotonic() - started
        killed = code == -signal.SIGKILL
        if not killed and code != 0:
            raise RuntimeError(f"forked tick {self.tick} (pid {pid}) exited with code {code}")
        next_outcome = None if self.next_tick is None else run_tick(self.spec, self.next_tick)
        return ForkedOutcome(killed, seconds, next_outcome)


class Task(Protocol):
    def run(self, barrier: Barrier) -> object: ...


@dataclass(frozen=True)
class TaskError:
    """A task raised in the worker; the traceback travels back as text."""

    traceback: str


def _serve(inbox: mp.Queue, outbox: mp.Queue, barrier: Barrier) -> None:
    """Worker loop: run tasks until a None arrives; an exception goes back as a TaskError."""
    while (task := inbox.get()) is not None:
        try:
            outbox.put(task.run(barrier))
        except Exception:
            outbox.put(TaskError(traceback.format_exc()))


class WorkerPool:
    """A fixed pool of spawned worker processes sharing a barrier; each has its own in- and outbox."""

    SIZE = 2

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self._barrier = context.Barrier(self.SIZE)
        self._inboxes = [context.Queue() for _ in range(self.SIZE)]
        self._outboxes = [context.Queue() for _ in range(self.SIZE)]
        self._workers = [
            context.Process(target=_serve, args=(inbox, outbox, self._barrier), daemon=True)
            for inbox, outbox in zip(self._inboxes, self._outboxes, strict=True)
        ]
        for worker in self._workers:
            worker.start()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def run(self, tasks: list[Task]) -> list[object]:
        """Run up to SIZE tasks at once, one per worker; their results in task order."""
        if not 0 < len(tasks) <= self.SIZE:
            raise ValueError(f"tasks: {len(tasks)} given, the pool runs 1 to {self.SIZE} at once")
        for inbox, task in zip(self._inboxes, tasks, strict=False):
            inbox.put(task)
        results = [self._answer(i) for i in range(len(tasks))]
        for result in results:
            if isinstance(result, TaskError):
                raise RuntimeError(f"a chaos worker task failed:\n{result.traceback}")
        return results

    def _answer(self, index: int) -> object:
        """Worker `index`'s next result; an error if it died or stays silent for TASK_TIMEOUT_SECONDS."""
        worker, deadline = self._workers[index], time.monotonic() + TASK_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                return self._outboxes[index].get(timeout=1.0)
            except queue.Empty:
                if not worker.is_alive():
                    raise RuntimeError(
                        f"chaos worker {worker.pid} died (exit code {worker.exitcode})"
                    ) from None
        raise TimeoutError(f"chaos worker {worker.pid} gave no answer within {TASK_TIMEOUT_SECONDS} s")

    def close(self) -> None:
        """Stop the workers: ask each to finish, then terminate any that do not within 10 s."""
        for inbox in self._inboxes:
            inbox.put(None)
        for worker in self._workers:
            worker.join(10)
            if worker.is_alive():
                worker.terminate()
                worker.join()
