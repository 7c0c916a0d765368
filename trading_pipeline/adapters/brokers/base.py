"""The Broker protocol real brokers implement: submit a multi-leg order, follow it, step or cancel it, and
read the account's orders, positions and balances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import Fill


class BrokerError(RuntimeError):
    """The broker refused or could not process a request (whether an order exists may be unknown)."""


class BrokerRejectedError(BrokerError):
    """The broker definitely did not accept the order (nothing exists at the broker under its id)."""


@dataclass(frozen=True)
class BrokerOrder:
    """The broker's view of one order: its status, the fills reported so far, the limit it works at and how
    many replaces (ladder steps) it has taken."""

    broker_order_id: str
    client_order_id: str
    status: OrderStatus
    fills: tuple[Fill, ...] = ()
    message: str = ""
    limit_price: Decimal | None = None
    step: int = 0

    @property
    def filled_quantity(self) -> int:
        return sum(fill.quantity for fill in self.fills)


@dataclass(frozen=True)
class BrokerPosition:
    """Signed contracts the broker holds in one option (+ long, - short)."""

    occ_symbol: str
    quantity: int


@dataclass(frozen=True)
class AccountBalances:
    """The account as the broker values it: cash, net liquidation value at current marks, the margin the
    open options need, and what is left to trade with."""

    as_of: datetime
    cash: Decimal
    net_liquidation: Decimal
    option_requirement: Decimal

    @property
    def buying_power(self) -> Decimal:
        return self.net_liquidation - self.option_requirement


class Broker(Protocol):
    """Where orders go. Reconciliation compares `orders()` and `positions()` with the ledger every tick.

    A multi-leg order is one combo order at a signed net limit (+ debit paid, - credit received). Each
    request names the order by our client order id, which the broker keeps (Tradier `tag`, tastytrade
    and Alpaca client order ids), so an order is found again after a crash.
    """

    name: str

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        """Send an order; returns the broker's acknowledgement (and fills, if any at once)."""
        ...

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        """The broker's record of an order sent with this client order id, or None (order status)."""
        ...

    def orders(self) -> list[BrokerOrder]:
        """Every order the account holds at the broker, ours or not, with their fills."""
        ...

    def positions(self) -> list[BrokerPosition]:
        """The account's non-zero option positions per contract."""
        ...

    def cancel(self, client_order_id: str, now: datetime) -> BrokerOrder:
        """Cancel a working order; an order that filled or ended first is returned as it is."""
        ...

    def replace(self, client_order_id: str, limit_price: Decimal, step: int, now: datetime) -> BrokerOrder:
        """Move a working order to a new limit as ladder step `step`; asking for a step the order already
        took changes nothing (a retried request is safe), and an order no longer working is returned as is."""
        ...

    def balances(self, now: datetime) -> AccountBalances:
        """Cash, net liquidation value, option requirement and buying power of the account."""
        ...

    def advance(self, now: datetime) -> None:
        """Let the broker's world reach `now` before it is read: a simulated broker matches its resting
        orders against the market and expires day orders after the close; real orders move on their own."""
        ...
