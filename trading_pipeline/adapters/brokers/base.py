"""The Broker protocol: submit an order intent, look orders up, list the account's orders and positions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import Fill


class BrokerError(RuntimeError):
    """The broker refused or could not process a request (whether an order exists may be unknown)."""


class BrokerRejectedError(BrokerError):
    """The broker definitely did not accept the order (nothing exists at the broker under its id)."""


@dataclass(frozen=True)
class BrokerOrder:
    """The broker's view of one order, with the fills it has reported so far."""

    broker_order_id: str
    client_order_id: str
    status: OrderStatus
    fills: tuple[Fill, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class BrokerPosition:
    """Signed contracts the broker holds in one option (+ long, - short)."""

    occ_symbol: str
    quantity: int


class Broker(Protocol):
    """Where orders go. Reconciliation compares `orders()` and `positions()` with the ledger every tick."""

    name: str

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        """Send an order; returns the broker's acknowledgement (and fills, if any at once)."""
        ...

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        """The broker's record of an order sent with this client order id, or None (reconciliation)."""
        ...

    def orders(self) -> list[BrokerOrder]:
        """Every order the account holds at the broker, ours or not, with their fills."""
        ...

    def positions(self) -> list[BrokerPosition]:
        """The account's non-zero option positions per contract."""
        ...
