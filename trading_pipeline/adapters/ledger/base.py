"""The Ledger protocol: the source of truth for decisions, order intents, orders, fills and positions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

import pandas as pd

from trading_pipeline.core.decisions import Decision
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import Fill, Position, PositionMark


class Ledger(Protocol):
    """Persistence every broker-touching step goes through; all writes are idempotent."""

    def record_decision(self, decision: Decision) -> bool:
        """Insert a decision once; returns False if its decision_id was already recorded."""
        ...

    def decision(self, decision_id: str) -> Decision | None:
        """The recorded decision with this id (a rerun replays it instead of deciding again)."""
        ...

    def decisions(self, session: date) -> list[Decision]:
        """The decisions of one session in the order they were recorded."""
        ...

    def record_intent(self, intent: OrderIntent) -> tuple[OrderStatus, bool]:
        """Insert an intent before any broker call; returns (current status, newly created)."""
        ...

    def intent(self, client_order_id: str) -> tuple[OrderIntent, OrderStatus] | None:
        """The stored intent and its status, or None."""
        ...

    def intents(self, session: date | None = None) -> list[tuple[OrderIntent, OrderStatus]]:
        """Stored intents (optionally of one session) in creation order."""
        ...

    def record_order_update(
        self,
        client_order_id: str,
        broker_order_id: str,
        status: OrderStatus,
        at: datetime,
        message: str = "",
    ) -> None:
        """Record the broker's view of an order (validated by the order state machine)."""
        ...

    def record_fill(self, fill: Fill) -> bool:
        """Store a fill once (unique fill_id) and apply it to its position in the same transaction."""
        ...

    def positions(self, open_only: bool = True) -> list[Position]:
        """Structure-level positions."""
        ...

    def record_marks(self, session: date, marks: list[PositionMark]) -> None:
        """Upsert the marks of a session (one per position and session)."""
        ...

    def latest_marks(self) -> list[PositionMark]:
        """The most recent mark of every open position."""
        ...

    def iv_observations(self, underlying: str, start: date, end: date) -> dict[date, float]:
        """Stored 30-day ATM implied vols per session."""
        ...

    def record_iv_observations(self, underlying: str, values: dict[date, float], source: str) -> None:
        """Upsert 30-day ATM implied vols per session."""
        ...

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every ledger table as a DataFrame, for analytics (money as Decimal objects)."""
        ...
