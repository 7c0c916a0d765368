"""Fills, structure-level positions and marks; how a fill opens, adds to, rolls or closes a position."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from trading_pipeline.core.instruments import Leg, contract_multiplier, to_money
from trading_pipeline.core.orders import OrderIntent, PositionEffect
from trading_pipeline.core.pnl import structure_pnl, structure_value

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
    #: Each leg's average fill price per contract (unsigned, as fills report them), in leg order; empty when
    #: the opening fills did not report them. A roll books its closed legs' P&L from these.
    leg_entry_prices: tuple[Decimal, ...] = ()

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
        leg_entry_prices=fill.leg_prices if len(fill.leg_prices) == len(intent.legs) else (),
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

    def averaged(held: Decimal, added: Decimal) -> Decimal:
        mean = (held * position.quantity + added * fill.quantity) / total
        return mean.quantize(ENTRY_VALUE_QUANTUM, rounding=ROUND_HALF_UP)

    known = len(position.leg_entry_prices) == len(fill.leg_prices) == len(position.legs)
    return replace(
        position,
        quantity=total,
        entry_value=averaged(position.entry_value, fill.net_value),
        fees=position.fees + fill.commission,
        leg_entry_prices=tuple(map(averaged, position.leg_entry_prices, fill.leg_prices)) if known else (),
    )


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


def _closes(leg: Leg, held: Leg) -> bool:
    """Whether an order leg closes a held leg (same contract and ratio, opposite side)."""
    return leg.contract == held.contract and leg.ratio == held.ratio and leg.side is held.side.opposite


def roll_position(position: Position, intent: OrderIntent, fill: Fill) -> Position:
    """Apply a roll's fill: each leg it closes leaves the position with its P&L realized (entry price to the
    roll's price), each leg it opens joins at its fill price, and the entry value drops the closed legs' entry
    values and adds the new legs' fill values. A roll moves the whole position in one fill."""
    if position.status is PositionStatus.CLOSED:
        raise FillMismatchError(f"position {position.position_id} is already closed")
    if fill.quantity != position.quantity:
        raise FillMismatchError(
            f"roll fill {fill.fill_id} of {fill.quantity} must move the whole open quantity "
            f"{position.quantity}"
        )
    if len(position.leg_entry_prices) != len(position.legs) or len(fill.leg_prices) != len(intent.legs):
        raise FillMismatchError(
            f"roll fill {fill.fill_id} on position {position.position_id} needs a price for every leg of the "
            "roll and of the position to book the closed legs' P&L"
        )
    held = list(zip(position.legs, position.leg_entry_prices, strict=True))
    realized, entry_value = Decimal(0), position.entry_value
    for leg, price in zip(intent.legs, fill.leg_prices, strict=True):
        closed = next((i for i, (old, _) in enumerate(held) if _closes(leg, old)), None)
        if closed is None:
            held.append((leg, price))
            entry_value += structure_value((leg,), (price,))
            continue
        old, entry = held.pop(closed)
        old_value = structure_value((old,), (entry,))
        entry_value -= old_value
        realized += structure_pnl(
            old_value, structure_value((old,), (price,)), fill.quantity, position.multiplier
        )
    if not held:
        raise FillMismatchError(
            f"roll fill {fill.fill_id} closes every leg of {position.position_id}: not a roll"
        )
    legs, prices = tuple(leg for leg, _ in held), tuple(price for _, price in held)
    return replace(
        position,
        legs=legs,
        leg_entry_prices=prices,
        entry_value=entry_value.quantize(ENTRY_VALUE_QUANTUM, rounding=ROUND_HALF_UP),
        realized_pnl=position.realized_pnl + realized,
        fees=position.fees + fill.commission,
    )


def position_id_of(intent: OrderIntent) -> str | None:
    """The position an intent's fills apply to: its own id when it opens, the named one when it closes."""
    return intent.client_order_id if intent.effect is PositionEffect.OPEN else intent.position_id


def apply_fill(current: Position | None, intent: OrderIntent, fill: Fill) -> Position:
    """The position after one fill of `intent`: opened, added to, rolled or reduced (`current` is before)."""
    if intent.effect is PositionEffect.OPEN:
        return open_position(intent, fill) if current is None else add_to_position(current, fill)
    if current is None:
        raise FillMismatchError(
            f"closing order {intent.client_order_id} names no recorded position "
            f"(position_id={intent.position_id!r})"
        )
    if intent.effect is PositionEffect.ROLL:
        return roll_position(current, intent, fill)
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
