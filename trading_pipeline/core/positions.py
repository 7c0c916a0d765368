"""Fills, structure-level positions and marks; how a fill opens, adds to or closes a position."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from trading_pipeline.core.instruments import Leg, contract_multiplier, to_money
from trading_pipeline.core.orders import OrderIntent, PositionEffect
from trading_pipeline.core.pnl import structure_pnl

#: Average entry values keep 4 decimals, the precision the ledger stores money with.
ENTRY_VALUE_QUANTUM = Decimal("0.0001")
#: The greeks a PositionMark totals (in trader units), by field name.
GREEKS = ("delta", "gamma", "vega", "theta")


class PositionStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class Fill:
    """An execution reported by a broker; `fill_id` is the broker's id and is unique."""

    fill_id: str
    client_order_id: str
    broker_order_id: str
    filled_at: datetime
    quantity: int
    net_value: Decimal  # signed per-unit value: + debit paid, - credit received
    leg_prices: tuple[Decimal, ...]
    commission: Decimal

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"fill quantity must be >= 1, got {self.quantity}")
        object.__setattr__(self, "net_value", to_money(self.net_value))
        object.__setattr__(self, "commission", to_money(self.commission))


@dataclass(frozen=True)
class Position:
    """A multi-leg structure held as one position, identified by its opening client order id.

    `realized_pnl` is gross of commissions; `fees` totals every commission paid on the position.
    """

    position_id: str
    strategy: str
    underlying: str
    legs: tuple[Leg, ...]
    quantity: int
    entry_value: Decimal
    opened_at: datetime
    status: PositionStatus = PositionStatus.OPEN
    fees: Decimal = Decimal("0")
    realized_pnl: Decimal = Decimal("0")
    closed_at: datetime | None = None

    @property
    def net_realized_pnl(self) -> Decimal:
        """Realized P&L after every commission paid on the position."""
        return self.realized_pnl - self.fees

    @property
    def multiplier(self) -> int:
        return contract_multiplier(self.underlying)


@dataclass(frozen=True)
class PositionMark:
    """A position valued at a point in time (signed net value per unit) with its unrealized P&L.

    A greek is NaN (unknown) when a leg's implied vol could not be solved: never a guessed zero.
    """

    position_id: str
    marked_at: datetime
    mark_value: Decimal
    unrealized_pnl: Decimal
    delta: float
    gamma: float
    vega: float
    theta: float


@dataclass(frozen=True)
class StaleMark:
    """A position that could not be marked at a tick (a leg without a quote): its last good mark stands,
    and no exit can be priced for it until a quote returns."""

    position_id: str
    marked_at: datetime
    reason: str


class FillMismatchError(ValueError):
    """A fill that cannot apply to the position it names (wrong size, already closed)."""


def open_position(intent: OrderIntent, fill: Fill) -> Position:
    """The position created by the first fill of an opening order."""
    if intent.effect is not PositionEffect.OPEN:
        raise FillMismatchError(f"intent {intent.client_order_id} does not open a position")
    return Position(
        position_id=intent.client_order_id,
        strategy=intent.strategy,
        underlying=intent.underlying,
        legs=intent.legs,
        quantity=fill.quantity,
        entry_value=fill.net_value,
        opened_at=fill.filled_at,
        fees=fill.commission,
    )


def add_to_position(position: Position, fill: Fill) -> Position:
    """A further fill of the same opening order: size-weighted average entry value."""
    if position.status is PositionStatus.CLOSED:
        raise FillMismatchError(f"position {position.position_id} is already closed")
    if fill.client_order_id != position.position_id:
        raise FillMismatchError(
            f"fill {fill.fill_id} of order {fill.client_order_id} does not belong to opening order"
            f" {position.position_id}"
        )
    total = position.quantity + fill.quantity
    average = (position.entry_value * position.quantity + fill.net_value * fill.quantity) / total
    average = average.quantize(ENTRY_VALUE_QUANTUM, rounding=ROUND_HALF_UP)
    return replace(position, quantity=total, entry_value=average, fees=position.fees + fill.commission)


def reduce_position(position: Position, fill: Fill) -> Position:
    """Apply a closing fill: realize P&L on the closed units; close the position when flat.

    Closing legs are the opposites of the position's legs, so the closing fill's net value is the
    negation of the structure's value at exit.
    """
    if position.status is PositionStatus.CLOSED:
        raise FillMismatchError(f"position {position.position_id} is already closed")
    if fill.quantity > position.quantity:
        raise FillMismatchError(
            f"closing fill quantity {fill.quantity} exceeds open quantity {position.quantity}"
        )
    exit_value = -fill.net_value
    gross = structure_pnl(position.entry_value, exit_value, fill.quantity, position.multiplier)
    remaining = position.quantity - fill.quantity
    return replace(
        position,
        quantity=remaining,
        fees=position.fees + fill.commission,
        realized_pnl=position.realized_pnl + gross,
        status=PositionStatus.CLOSED if remaining == 0 else PositionStatus.OPEN,
        closed_at=fill.filled_at if remaining == 0 else None,
    )


def position_id_of(intent: OrderIntent) -> str | None:
    """The position an intent's fills apply to: its own id when it opens, the named one when it closes."""
    return intent.client_order_id if intent.effect is PositionEffect.OPEN else intent.position_id


def apply_fill(current: Position | None, intent: OrderIntent, fill: Fill) -> Position:
    """The position after one fill of `intent`: opened, added to, or reduced (`current` is before)."""
    if intent.effect is PositionEffect.OPEN:
        return open_position(intent, fill) if current is None else add_to_position(current, fill)
    if current is None:
        raise FillMismatchError(
            f"closing order {intent.client_order_id} names no recorded position "
            f"(position_id={intent.position_id!r})"
        )
    return reduce_position(current, fill)


def positions_from_fills(executions: Iterable[tuple[OrderIntent, Fill]]) -> list[Position]:
    """Replay fills in time order into structure-level positions: the ledger's state at any instant.

    A point-in-time view is this replay over the fills up to that instant.
    """
    held: dict[str, Position] = {}
    for intent, fill in sorted(executions, key=lambda item: item[1].filled_at):
        updated = apply_fill(held.get(position_id_of(intent) or ""), intent, fill)
        held[updated.position_id] = updated
    return sorted(held.values(), key=lambda p: (p.opened_at, p.position_id))
