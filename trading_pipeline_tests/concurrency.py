"""Races for tests: callables run at one instant from threads, each with its own ledger connections."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from trading_pipeline.adapters.ledger.repository import SqlLedger

T = TypeVar("T")


def race(url: str, calls: Sequence[Callable[[SqlLedger], T]]) -> list[T]:
    """Run each call with its own SqlLedger on `url`, all released together; results in finish order.

    Any exception in a call fails the race (asserted after every thread has joined).
    """
    ledgers = [SqlLedger(url) for _ in calls]
    barrier = threading.Barrier(len(calls))
    results: list[T] = []
    errors: list[BaseException] = []

    def run(call: Callable[[SqlLedger], T], ledger: SqlLedger) -> None:
        barrier.wait()
        try:
            results.append(call(ledger))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in zip(calls, ledgers, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ledger in ledgers:
        ledger.dispose()
    assert errors == []
    return results
