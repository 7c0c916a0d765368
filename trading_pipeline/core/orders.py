"""Order intents, their deterministic client order ids and the order state machine."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from trading_pipeline.core.instruments import Leg, to_money

CLIENT_ORDER_ID_PREFIX = "tp-"


class PositionEffect(StrEnum):
    """Whether an order opens a new position, closes an existing one, or rolls some of its legs (closing
    legs first, then the legs that replace them, in one order)."""

    OPEN = "OPEN"
    CLOSE = "CLOSE"
    ROLL = "ROLL"


class OrderStatus(StrEnum):
    """Lifecycle of an order: recorded as an intent before the broker is ever called."""

    NEW = "NEW"  # intent recorded in the ledger, not yet claimed for sending
    SUBMITTING = "SUBMITTING"  # claimed by exactly one process, which alone may call the broker
    # Claimed long ago and still unknown to the broker: never re-sent, no longer counted as on its way,
    # but a late report from the broker is still taken.
    ABANDONED = "ABANDONED"
    SUBMITTED = "SUBMITTED"  # acknowledged by the broker, not yet resting or filled
    WORKING = "WORKING"  # resting at the broker, unfilled (a limit order the market has not reached)
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"  # a day order the close ended, unfilled or partly filled

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def on_its_way(self) -> bool:
        """Whether the order may still fill (claimed or acknowledged, not final, not abandoned)."""
        return self in {
            OrderStatus.SUBMITTING,
            OrderStatus.SUBMITTED,
            OrderStatus.WORKING,
            OrderStatus.PARTIALLY_FILLED,
        }

    @property
    def is_working(self) -> bool:
        """Whether the order rests at the broker and may be stepped, replaced or cancelled."""
        return self in {OrderStatus.WORKING, OrderStatus.PARTIALLY_FILLED}

    @property
    def progress(self) -> int:
        """How far along the lifecycle the status is; a report behind the ledger's is stale."""
        return _PROGRESS[self]


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})

_PROGRESS = {
    OrderStatus.NEW: 0,
    OrderStatus.SUBMITTING: 1,
    OrderStatus.ABANDONED: 1,
    OrderStatus.SUBMITTED: 2,
    OrderStatus.WORKING: 3,
    OrderStatus.PARTIALLY_FILLED: 4,
    OrderStatus.FILLED: 5,
    OrderStatus.CANCELLED: 5,
    OrderStatus.REJECTED: 5,
    OrderStatus.EXPIRED: 5,
}

#: What a broker may report about an order it knows.
_BROKER_STATUSES = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.WORKING,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.REJECTED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
    }
)
#: Where an order the broker holds (resting or partly filled) can go next.
_FROM_RESTING = frozenset(
    {
        OrderStatus.WORKING,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.EXPIRED,
    }
)


_ALLOWED_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # NEW goes straight to a broker status only when reconciliation finds an order sent before claims existed.
    OrderStatus.NEW: _BROKER_STATUSES | {OrderStatus.SUBMITTING},
    OrderStatus.SUBMITTING: _BROKER_STATUSES | {OrderStatus.ABANDONED},
    OrderStatus.ABANDONED: _BROKER_STATUSES,
    OrderStatus.SUBMITTED: _FROM_RESTING | {OrderStatus.REJECTED},
    OrderStatus.WORKING: _FROM_RESTING,
    OrderStatus.PARTIALLY_FILLED: _FROM_RESTING - {OrderStatus.WORKING},
}


class InvalidTransitionError(ValueError):
    """An order status change the state machine does not allow."""


def transition(current: OrderStatus, new: OrderStatus) -> OrderStatus:
    """Validate an order status change; staying in the same status is always allowed."""
    if new == current or new in _ALLOWED_TRANSITIONS.get(current, frozenset()):
        return new
    raise InvalidTransitionError(f"order status cannot go from {current} to {new}")


def is_stale_report(current: OrderStatus, reported: OrderStatus) -> bool:
    """A broker report behind what the ledger already holds (SUBMITTED arriving after FILLED)."""
    return reported.progress < current.progress


def make_client_order_id(
    strategy: str, session: date, decision_key: str, legs: tuple[Leg, ...], effect: PositionEffect
) -> str:
    """Deterministic id for one decision: the same inputs always give the same id (rerun-safe)."""
    leg_fields = [[leg.side.value, leg.ratio, leg.contract.occ_symbol] for leg in legs]
    # JSON keeps field boundaries unambiguous: a "|" inside a strategy or key cannot collide.
    text = json.dumps([strategy, session.isoformat(), decision_key, effect.value, leg_fields])
    return CLIENT_ORDER_ID_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class OrderIntent:
    """What we intend to send to a broker, recorded in the ledger before any broker call.

    `limit_price` is the signed net price per structure unit: positive is a debit paid,
    negative is a credit received (a short strangle sold for 2.40 has limit_price -2.40).
    """

    client_order_id: str
    strategy: str
    session: date
    decision_time: datetime
    underlying: str
    legs: tuple[Leg, ...]
    quantity: int
    limit_price: Decimal
    effect: PositionEffect
    position_id: str | None = None
    reason: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"quantity must be >= 1, got {self.quantity}")
        if not self.legs:
            raise ValueError("an order intent needs at least one leg")
        if self.decision_time.tzinfo is None:
            raise ValueError("decision_time must be timezone-aware")
        object.__setattr__(self, "limit_price", to_money(self.limit_price))

    @property
    def is_credit(self) -> bool:
        return self.limit_price < 0


#: Intent fields that define what is sent; the same client order id must always carry the same values.
PAYLOAD_FIELDS = (
    "strategy",
    "session",
    "underlying",
    "legs",
    "quantity",
    "limit_price",
    "effect",
    "position_id",
)


class IntentMismatchError(ValueError):
    """An intent differs from the one already recorded under its client order id; it must not be sent."""


def payload_differences(recorded: OrderIntent, proposed: OrderIntent) -> list[str]:
    """Each payload field whose value differs between the recorded and a proposed intent, named."""
    return [
        f"{name}: recorded {getattr(recorded, name)!r}, proposed {getattr(proposed, name)!r}"
        for name in PAYLOAD_FIELDS
        if getattr(recorded, name) != getattr(proposed, name)
    ]


def ensure_same_payload(recorded: OrderIntent, proposed: OrderIntent) -> None:
    """Refuse loudly when a proposed intent would send something else under a recorded client order id."""
    differences = payload_differences(recorded, proposed)
    if differences:
        raise IntentMismatchError(
            f"order {recorded.client_order_id} is already recorded with a different payload; "
            f"refusing to send it: {'; '.join(differences)}"
        )
