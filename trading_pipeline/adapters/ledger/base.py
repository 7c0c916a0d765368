"""The Ledger protocol: the source of truth for decisions, order intents, orders, fills and positions."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

import pandas as pd

from trading_pipeline.core.decisions import Decision
from trading_pipeline.core.iv_history import OWN_SOURCE_PREFIX, IvObservation
from trading_pipeline.core.ladder import OrderStep, StepStatus
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import Fill, Position, PositionMark, StaleMark
from trading_pipeline.core.reconciliation import ReconciliationBreak
from trading_pipeline.core.settlement import StockDelivery
from trading_pipeline.core.trading_state import TradingStateEvent


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

    def claim_intent(self, client_order_id: str, claimant: str) -> bool:
        """Atomically move an intent from NEW to SUBMITTING; True only for the caller that did it."""
        ...

    def cancel_unclaimed(self, client_order_id: str, at: datetime, message: str) -> bool:
        """Atomically move an intent from NEW to CANCELLED; False if it was claimed meanwhile."""
        ...

    def claimed_at(self, client_order_id: str) -> datetime | None:
        """When the intent was claimed for sending (None if never)."""
        ...

    def exclusive(self) -> AbstractContextManager[Ledger]:
        """A ledger whose reads and writes share one transaction holding the ledger-wide write lock."""
        ...

    def intent(self, client_order_id: str) -> tuple[OrderIntent, OrderStatus] | None:
        """The stored intent and its status, or None."""
        ...

    def intents(
        self, session: date | None = None, unfinished_only: bool = False
    ) -> list[tuple[OrderIntent, OrderStatus]]:
        """Stored intents (optionally of one session, or only those not final) in creation order."""
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

    def positions(self, open_only: bool = True, as_of: datetime | None = None) -> list[Position]:
        """Structure-level positions now, or as they stood at `as_of` (replayed from its fills)."""
        ...

    def fills(self) -> list[Fill]:
        """Every recorded fill, in the order they happened."""
        ...

    def record_marks(self, session: date, marks: list[PositionMark]) -> None:
        """Upsert marks of a session's tick (one per position and mark time)."""
        ...

    def latest_marks(self, as_of: datetime | None = None) -> list[PositionMark]:
        """The most recent mark (up to `as_of`) of every position open at that time."""
        ...

    def record_stale_marks(self, session: date, stale: list[StaleMark]) -> list[StaleMark]:
        """Record positions a tick could not mark (once per position and tick); returns the new ones."""
        ...

    def stale_marks(self, marked_at: datetime | None = None) -> list[StaleMark]:
        """Recorded stale marks (of one tick time, if given)."""
        ...

    def record_breaks(self, found_at: datetime, breaks: list[ReconciliationBreak]) -> None:
        """Record what a reconciliation could not explain."""
        ...

    def breaks(self, found_at: datetime | None = None) -> list[ReconciliationBreak]:
        """Recorded reconciliation breaks (of one reconciliation time, if given)."""
        ...

    def iv_observations(self, underlying: str, start: date, end: date) -> dict[date, IvObservation]:
        """Stored 30-day implied vols per session, `start` and `end` included, with source and time."""
        ...

    def record_iv_observations(
        self, underlying: str, observations: Mapping[date, IvObservation], trusted: str = OWN_SOURCE_PREFIX
    ) -> None:
        """Record 30-day implied vols per session; a row whose source starts with `trusted` is replaced only
        by a later trusted one of the same session, any other row by whatever comes."""
        ...

    def record_trading_state(self, event: TradingStateEvent) -> bool:
        """Record a trading-state change once (by its key); False if that key was recorded before."""
        ...

    def trading_state(self) -> TradingStateEvent | None:
        """The latest recorded trading-state change (None: never changed, the account is ACTIVE)."""
        ...

    def trading_state_events(self) -> list[TradingStateEvent]:
        """Every trading-state change in the order recorded."""
        ...

    def record_expiration(
        self, intent: OrderIntent, fill: Fill, deliveries: tuple[StockDelivery, ...], message: str
    ) -> bool:
        """Record a position's expiration (intent FILLED at once, its fill, the shares delivered) once."""
        ...

    def stock_lots(self) -> list[StockDelivery]:
        """Every delivery of shares by exercise or assignment, oldest first."""
        ...

    def request_step(self, step: OrderStep) -> bool:
        """Claim one ladder step of a working order once (by order and step); True only for its claimant."""
        ...

    def answer_step(
        self, client_order_id: str, step: int, status: StepStatus, at: datetime, message: str = ""
    ) -> bool:
        """Record the broker's answer to a requested step once."""
        ...

    def unanswered_steps(self) -> list[OrderStep]:
        """Ladder steps claimed but never answered, oldest first."""
        ...

    def order_steps(self, client_order_id: str | None = None) -> list[OrderStep]:
        """Recorded ladder steps (of one order, if given) in step order."""
        ...

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every ledger table as a DataFrame, for analytics (money as Decimal objects)."""
        ...
