"""The kill points of the chaos suite are where they claim: before, or after, the broker takes the order."""

from __future__ import annotations

import os
import signal
from datetime import datetime

from trading_pipeline.adapters.brokers.base import BrokerOrder, BrokerPosition
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, opening_intent
from trading_pipeline_tests.chaos.workers import KillingBroker, KillPoint


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


def _submit_in_a_child(point: KillPoint) -> tuple[int, bytes]:
    """Submit through a KillingBroker in a forked child; its exit code and what the broker took."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            KillingBroker(PipeBroker(write), point).submit(opening_intent(), DECISION_TIME)
        finally:
            os._exit(0)
    os.close(write)
    exit_code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    with os.fdopen(read, "rb") as pipe:
        return exit_code, pipe.read()


def test_kill_before_submit_dies_before_the_broker_takes_the_order() -> None:
    exit_code, taken = _submit_in_a_child(KillPoint.BEFORE_SUBMIT)

    assert (exit_code, taken) == (-signal.SIGKILL, b"")


def test_kill_after_accept_dies_once_the_broker_took_the_order() -> None:
    exit_code, taken = _submit_in_a_child(KillPoint.AFTER_ACCEPT)

    assert (exit_code, taken) == (-signal.SIGKILL, opening_intent().client_order_id.encode())


def test_killing_broker_answers_everything_but_submit_from_the_wrapped_broker() -> None:
    broker = KillingBroker(PipeBroker(pipe=-1), KillPoint.AFTER_ACCEPT)

    name = broker.name

    assert name == "pipe"
