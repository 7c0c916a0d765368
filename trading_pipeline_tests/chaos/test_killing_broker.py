"""The kill points of the chaos suite are where they claim: before, or after, the broker takes the order;
the slow broker answers late, after it took the order."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime

import pytest

from trading_pipeline.adapters.brokers.base import BrokerOrder, BrokerPosition
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, closing_intent, opening_intent
from trading_pipeline_tests.chaos.workers import KillingBroker, KillPoint, SlowBroker


class PipeBroker:
    """Takes every order by writing its client order id to a pipe, the one record a SIGKILL cannot erase."""

    name = "pipe"

    def __init__(self, pipe: int) -> None:
        self._pipe = pipe

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        os.write(self._pipe, intent.client_order_id.encode())
        return BrokerOrder("pipe-1", intent.client_order_id, OrderStatus.SUBMITTED)

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        return None

    def orders(self) -> list[BrokerOrder]:
        return []

    def positions(self) -> list[BrokerPosition]:
        return []


#: An entry and an exit: the kill points sit on every order path.
INTENTS = [
    pytest.param(opening_intent(), id="entry"),
    pytest.param(closing_intent(opening_intent().client_order_id), id="exit"),
]


def _submit_in_a_child(point: KillPoint, intent: OrderIntent) -> tuple[int, bytes]:
    """Submit `intent` through a KillingBroker in a forked child; its exit code and what the broker took."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            KillingBroker(PipeBroker(write), point).submit(intent, DECISION_TIME)
        finally:
            os._exit(0)
    os.close(write)
    exit_code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    with os.fdopen(read, "rb") as pipe:
        return exit_code, pipe.read()


@pytest.mark.parametrize("intent", INTENTS)
def test_kill_before_submit_dies_before_the_broker_takes_the_order(intent: OrderIntent) -> None:
    exit_code, taken = _submit_in_a_child(KillPoint.BEFORE_SUBMIT, intent)

    assert (exit_code, taken) == (-signal.SIGKILL, b"")


@pytest.mark.parametrize("intent", INTENTS)
def test_kill_after_accept_dies_once_the_broker_took_the_order(intent: OrderIntent) -> None:
    exit_code, taken = _submit_in_a_child(KillPoint.AFTER_ACCEPT, intent)

    assert (exit_code, taken) == (-signal.SIGKILL, intent.client_order_id.encode())


def test_killing_broker_answers_everything_but_submit_from_the_wrapped_broker() -> None:
    broker = KillingBroker(PipeBroker(pipe=-1), KillPoint.AFTER_ACCEPT)

    name = broker.name

    assert name == "pipe"


def test_slow_broker_answers_after_its_latency_with_the_order_the_broker_took() -> None:
    read, write = os.pipe()
    intent = opening_intent()
    started = time.monotonic()

    order = SlowBroker(PipeBroker(write), latency=0.2).submit(intent, DECISION_TIME)

    elapsed = time.monotonic() - started
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        taken = pipe.read()
    assert (taken, order.client_order_id) == (intent.client_order_id.encode(), intent.client_order_id)
    assert elapsed >= 0.2
