"""SqlLedger: the Ledger protocol on SQLAlchemy Core, idempotent and race-safe on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import JSON, Connection, Table, and_, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from trading_pipeline.adapters.ledger import rows, schema
from trading_pipeline.adapters.ledger.engine import WRITE_OPTION, create_ledger_engine, dumps_json
from trading_pipeline.adapters.ledger.migrate import upgrade
from trading_pipeline.core.decisions import Decision
from trading_pipeline.core.iv_history import OWN_SOURCE_PREFIX, IvObservation
from trading_pipeline.core.ladder import OrderStep, StepStatus
from trading_pipeline.core.orders import (
    InvalidTransitionError,
    OrderIntent,
    OrderStatus,
    is_stale_report,
    transition,
)
from trading_pipeline.core.positions import (
    Fill,
    FillMismatchError,
    Position,
    PositionMark,
    PositionStatus,
    StaleMark,
    apply_fill,
    position_id_of,
    positions_from_fills,
)
from trading_pipeline.core.reconciliation import BreakKind, ReconciliationBreak
from trading_pipeline.core.settlement import StockDelivery
from trading_pipeline.core.trading_state import TradingStateEvent

#: Arbitrary constant key of the PostgreSQL advisory lock that makes decisions one writer at a time.
_DECISION_LOCK_KEY = 0x7470_6465_6369  # "tpdeci"


class UnknownOrderError(LookupError):
    """A fill or order update names a client order id the ledger never recorded."""


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT with ON CONFLICT support in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _insert_once(conn: Connection, table: Table, values: dict[str, Any], unique: str) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: True when the row is new; race-safe across processes."""
    stmt = _insert(conn, table).values(values).on_conflict_do_nothing(index_elements=[unique])
    return conn.execute(stmt.returning(*table.primary_key.columns)).first() is not None


class SqlLedger:
    """The ledger on a SQLAlchemy URL (SQLite file or `postgresql+psycopg://`); tables come from migrate."""

    def __init__(self, url: str) -> None:
        self._engine = create_ledger_engine(url)
        # Writes lock SQLite at BEGIN (the busy timeout then applies); reads stay deferred.
        self._writer = self._engine.execution_options(**{WRITE_OPTION: True})
        #: Inside `exclusive()`: the one connection (and transaction) every read and write goes through.
        self._bound: Connection | None = None

    @classmethod
    def open(cls, url: str) -> SqlLedger:
        """Migrate the database to the latest schema, then return a ledger on it."""
        upgrade(url)
        return cls(url)

    def dispose(self) -> None:
        """Close every pooled connection (call before the process or test ends)."""
        self._engine.dispose()

    @contextmanager
    def exclusive(self) -> Iterator[SqlLedger]:
        """One writer at a time: a ledger whose reads and writes share one locked transaction.

        SQLite takes its database write lock at BEGIN IMMEDIATE; PostgreSQL a transaction-scoped
        advisory lock. Everything done through the yielded ledger commits together, or not at all.
        """
        if self._bound is not None:
            yield self
            return
        with self._writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DECISION_LOCK_KEY})
            locked = object.__new__(SqlLedger)
            locked._engine, locked._writer, locked._bound = self._engine, self._writer, conn
            yield locked

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._bound is not None:
            yield self._bound
        else:
            with self._engine.connect() as conn:
                yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        if self._bound is not None:
            yield self._bound
        else:
            with self._writer.begin() as conn:
                yield conn

    # decisions and intents

    def record_decision(self, decision: Decision) -> bool:
        """Insert a decision once; returns False if its decision_id was already recorded."""
        with self._write() as conn:
            return _insert_once(conn, schema.decisions, rows.decision_row(decision), "decision_id")

    def decision(self, decision_id: str) -> Decision | None:
        """The recorded decision with this id, or None."""
        query = select(schema.decisions).where(schema.decisions.c.decision_id == decision_id)
        with self._read() as conn:
            row = conn.execute(query).mappings().one_or_none()
        return None if row is None else rows.decision_from_row(row)

    def decisions(self, session: date) -> list[Decision]:
        """The decisions of one session in the order they were recorded."""
        table = schema.decisions
        query = select(table).where(table.c.session == session).order_by(table.c.id)
        with self._read() as conn:
            return [rows.decision_from_row(row) for row in conn.execute(query).mappings()]

    def record_intent(self, intent: OrderIntent) -> tuple[OrderStatus, bool]:
        """Insert an intent before any broker call; returns (current status, newly created)."""
        now = datetime.now(UTC)
        values = {**rows.intent_row(intent), "status": OrderStatus.NEW.value}
        values |= {"created_at": now, "updated_at": now}
        with self._write() as conn:
            if _insert_once(conn, schema.order_intents, values, "client_order_id"):
                return OrderStatus.NEW, True
            return self._intent_status(conn, intent.client_order_id), False

    def claim_intent(self, client_order_id: str, claimant: str) -> bool:
        """Atomically move an intent from NEW to SUBMITTING; True only for the one caller that did it.

        A single conditional UPDATE: of any number of concurrent callers exactly one sees a row change,
        and only that one may call the broker.
        """
        now = datetime.now(UTC)
        message = f"claimed for sending by {claimant}"
        with self._write() as conn:
            return self._leave_new(
                conn,
                client_order_id,
                OrderStatus.SUBMITTING,
                now,
                message,
                claimed_by=claimant[:128],
                claimed_at=now,
            )

    def cancel_unclaimed(self, client_order_id: str, at: datetime, message: str) -> bool:
        """Atomically move an intent from NEW to CANCELLED (it is never sent); False if it was claimed.

        Conditional like the claim, so a cancel and a concurrent claim cannot both succeed.
        """
        with self._write() as conn:
            if not self._leave_new(conn, client_order_id, OrderStatus.CANCELLED, at, message):
                return False
            order = {"broker_order_id": "", "status": OrderStatus.CANCELLED.value, "filled_quantity": 0}
            values = {"client_order_id": client_order_id, "updated_at": at, "message": message, **order}
            conn.execute(_insert(conn, schema.orders).values(values).on_conflict_do_nothing())
            return True

    @staticmethod
    def _leave_new(
        conn: Connection, client_order_id: str, status: OrderStatus, at: datetime, message: str, **values: Any
    ) -> bool:
        """Move an intent out of NEW in one conditional UPDATE and log it; False if it was not NEW."""
        table = schema.order_intents
        stmt = (
            update(table)
            .where(table.c.client_order_id == client_order_id, table.c.status == OrderStatus.NEW.value)
            .values(status=status.value, updated_at=at, **values)
        )
        if conn.execute(stmt).rowcount != 1:
            return False
        conn.execute(
            schema.order_events.insert().values(
                client_order_id=client_order_id,
                broker_order_id="",
                previous_status=OrderStatus.NEW.value,
                status=status.value,
                at=at,
                message=message,
            )
        )
        return True

    def claimed_at(self, client_order_id: str) -> datetime | None:
        """When the intent was claimed for sending (None if never)."""
        table = schema.order_intents
        with self._read() as conn:
            return conn.execute(
                select(table.c.claimed_at).where(table.c.client_order_id == client_order_id)
            ).scalar_one_or_none()

    def intent(self, client_order_id: str) -> tuple[OrderIntent, OrderStatus] | None:
        """The stored intent and its status, or None."""
        query = select(schema.order_intents).where(schema.order_intents.c.client_order_id == client_order_id)
        with self._read() as conn:
            row = conn.execute(query).mappings().one_or_none()
        return None if row is None else rows.intent_from_row(row)

    def intents(
        self, session: date | None = None, unfinished_only: bool = False
    ) -> list[tuple[OrderIntent, OrderStatus]]:
        """Stored intents (optionally of one session, or only those not in a final status), oldest first."""
        table = schema.order_intents
        query = select(table).order_by(table.c.id)
        if session is not None:
            query = query.where(table.c.session == session)
        if unfinished_only:
            final = [status.value for status in OrderStatus if status.is_terminal]
            query = query.where(table.c.status.not_in(final))
        with self._read() as conn:
            return [rows.intent_from_row(row) for row in conn.execute(query).mappings()]

    # orders and fills

    def record_order_update(
        self,
        client_order_id: str,
        broker_order_id: str,
        status: OrderStatus,
        at: datetime,
        message: str = "",
    ) -> None:
        """Record the broker's view of an order; a status change is validated and appended to events."""
        with self._write() as conn:
            current = self._intent_status(conn, client_order_id, lock=True)
            if is_stale_report(current, OrderStatus(status)):
                return  # an older report overtaken by one already recorded
            try:
                new = transition(current, OrderStatus(status))
            except InvalidTransitionError as exc:
                raise InvalidTransitionError(f"order {client_order_id}: {exc}") from exc
            values = {
                "client_order_id": client_order_id,
                "broker_order_id": broker_order_id,
                "status": new.value,
                "filled_quantity": 0,
                "updated_at": at,
                "message": message,
            }
            stmt = _insert(conn, schema.orders).values(values)
            changed = {
                key: stmt.excluded[key] for key in ("broker_order_id", "status", "updated_at", "message")
            }
            conn.execute(stmt.on_conflict_do_update(index_elements=["client_order_id"], set_=changed))
            conn.execute(
                update(schema.order_intents)
                .where(schema.order_intents.c.client_order_id == client_order_id)
                .values(status=new.value, updated_at=at)
            )
            if new != current:
                conn.execute(
                    schema.order_events.insert().values(
                        client_order_id=client_order_id,
                        broker_order_id=broker_order_id,
                        previous_status=current.value,
                        status=new.value,
                        at=at,
                        message=message,
                    )
                )

    def record_fill(self, fill: Fill) -> bool:
        """Store a fill once (unique fill_id) and apply it to its position in the same transaction."""
        with self._write() as conn:
            intent, status = self._locked_intent(conn, fill.client_order_id)
            if not _insert_once(conn, schema.fills, rows.fill_row(fill), "fill_id"):
                return False
            self._count_fill(conn, intent, status, fill)
            position_id = position_id_of(intent)
            current = None if position_id is None else self._position(conn, position_id)
            updated = apply_fill(current, intent, fill)
            if current is None:
                conn.execute(schema.positions.insert().values(rows.position_row(updated)))
            else:
                self._save_position(conn, updated)
            return True

    def _count_fill(self, conn: Connection, intent: OrderIntent, status: OrderStatus, fill: Fill) -> None:
        """Add the fill to the order's filled quantity, refusing fills beyond the intent's size."""
        table = schema.orders
        stmt = _insert(conn, table).values(
            client_order_id=intent.client_order_id,
            broker_order_id=fill.broker_order_id,
            status=status.value,
            filled_quantity=fill.quantity,
            updated_at=fill.filled_at,
            message="",
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["client_order_id"],
            set_={"filled_quantity": table.c.filled_quantity + stmt.excluded.filled_quantity},
        ).returning(table.c.filled_quantity)
        filled = conn.execute(stmt).scalar_one()
        if filled > intent.quantity:
            raise FillMismatchError(
                f"fill {fill.fill_id} brings order {intent.client_order_id} to {filled} filled, "
                f"above its quantity {intent.quantity}"
            )

    # positions, marks and implied vol

    def positions(self, open_only: bool = True, as_of: datetime | None = None) -> list[Position]:
        """Structure-level positions, oldest first: now, or as they stood at `as_of` (from its fills)."""
        if as_of is not None:
            replayed = positions_from_fills(self._executions(as_of))
            return [p for p in replayed if p.status is PositionStatus.OPEN or not open_only]
        table = schema.positions
        query = select(table).order_by(table.c.opened_at, table.c.position_id)
        if open_only:
            query = query.where(table.c.status == PositionStatus.OPEN.value)
        with self._read() as conn:
            return [rows.position_from_row(row) for row in conn.execute(query).mappings()]

    def _executions(self, as_of: datetime) -> list[tuple[OrderIntent, Fill]]:
        """Every fill up to `as_of` with the intent it executed, in the order they happened."""
        fills_, intents_ = schema.fills, schema.order_intents
        query = (
            select(fills_, *[c.label(f"intent_{c.name}") for c in intents_.columns])
            .join(intents_, intents_.c.client_order_id == fills_.c.client_order_id)
            .where(fills_.c.filled_at <= as_of)
            .order_by(fills_.c.filled_at, fills_.c.id)
        )
        with self._read() as conn:
            found = conn.execute(query).mappings().all()
        return [
            (
                rows.intent_from_row({c.name: row[f"intent_{c.name}"] for c in intents_.columns})[0],
                rows.fill_from_row(row),
            )
            for row in found
        ]

    def fills(self) -> list[Fill]:
        """Every recorded fill, in the order they happened."""
        table = schema.fills
        with self._read() as conn:
            found = conn.execute(select(table).order_by(table.c.filled_at, table.c.id)).mappings().all()
        return [rows.fill_from_row(row) for row in found]

    def record_marks(self, session: date, marks: list[PositionMark]) -> None:
        """Upsert marks of a session's tick (one per position and mark time; a rerun rewrites its own)."""
        if not marks:
            return
        values = [rows.mark_row(session, mark) for mark in marks]
        with self._write() as conn:
            stmt = _insert(conn, schema.position_marks).values(values)
            refreshed = ("session", "mark_value", "unrealized_pnl", "delta", "gamma", "vega", "theta")
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["position_id", "marked_at"],
                    set_={key: stmt.excluded[key] for key in refreshed},
                )
            )

    def latest_marks(self, as_of: datetime | None = None) -> list[PositionMark]:
        """The most recent mark (up to `as_of`, if given) of every position open at that time."""
        table = schema.position_marks
        query = select(table).order_by(table.c.position_id, table.c.marked_at)
        if as_of is not None:
            query = query.where(table.c.marked_at <= as_of)
        with self._read() as conn:
            latest = {row["position_id"]: rows.mark_from_row(row) for row in conn.execute(query).mappings()}
        open_ids = {p.position_id for p in self.positions(open_only=True, as_of=as_of)}
        return [mark for position_id, mark in sorted(latest.items()) if position_id in open_ids]

    def record_stale_marks(self, session: date, stale: list[StaleMark]) -> list[StaleMark]:
        """Record positions that could not be marked at a tick; returns those not recorded before (a rerun
        of the tick records nothing new, so it warns nobody twice)."""
        if not stale:
            return []
        table = schema.stale_marks
        with self._write() as conn:
            stmt = _insert(conn, table).values([rows.stale_mark_row(session, mark) for mark in stale])
            stmt = stmt.on_conflict_do_nothing(index_elements=["position_id", "marked_at"])
            new = {row.position_id for row in conn.execute(stmt.returning(table.c.position_id))}
        return [mark for mark in stale if mark.position_id in new]

    def stale_marks(self, marked_at: datetime | None = None) -> list[StaleMark]:
        """Recorded stale marks (of one tick time, if given), oldest first."""
        table = schema.stale_marks
        query = select(table).order_by(table.c.marked_at, table.c.position_id)
        if marked_at is not None:
            query = query.where(table.c.marked_at == marked_at)
        with self._read() as conn:
            return [rows.stale_mark_from_row(row) for row in conn.execute(query).mappings()]

    # reconciliation

    def record_breaks(self, found_at: datetime, breaks: list[ReconciliationBreak]) -> None:
        """Record what one reconciliation could not explain (a rerun of the same tick records it once)."""
        if not breaks:
            return
        values = [
            {"found_at": found_at, "kind": b.kind.value, "subject": b.subject[:128], "detail": b.detail}
            for b in breaks
        ]
        with self._write() as conn:
            stmt = _insert(conn, schema.reconciliation_breaks).values(values)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["found_at", "kind", "subject"]))

    def breaks(self, found_at: datetime | None = None) -> list[ReconciliationBreak]:
        """Recorded breaks (of one reconciliation time, if given), oldest first."""
        table = schema.reconciliation_breaks
        query = select(table).order_by(table.c.id)
        if found_at is not None:
            query = query.where(table.c.found_at == found_at)
        with self._read() as conn:
            found = conn.execute(query).mappings().all()
        return [ReconciliationBreak(BreakKind(r["kind"]), r["subject"], r["detail"]) for r in found]

    def iv_observations(self, underlying: str, start: date, end: date) -> dict[date, IvObservation]:
        """Stored 30-day implied vols per session, `start` and `end` included, with source and time."""
        table = schema.iv_observations
        query = (
            select(table.c.session, table.c.iv_30d, table.c.source, table.c.observed_at)
            .where(table.c.underlying == underlying, table.c.session.between(start, end))
            .order_by(table.c.session)
        )
        with self._read() as conn:
            return {
                row.session: IvObservation(row.iv_30d, row.source, row.observed_at)
                for row in conn.execute(query)
            }

    def record_iv_observations(
        self, underlying: str, observations: Mapping[date, IvObservation], trusted: str = OWN_SOURCE_PREFIX
    ) -> None:
        """Record 30-day implied vols per session. A row whose source starts with `trusted` (own observations,
        of one measure when given as `chain:<measure>:`) is replaced only by a later trusted one of the same
        session, so reruns in any order keep the session's last tick; any other row by whatever comes."""
        if not observations:
            return
        now = datetime.now(UTC)
        table = schema.iv_observations
        rows_ = [
            {
                "underlying": underlying,
                "session": session,
                "iv_30d": float(observation.iv),
                "source": observation.source,
                "observed_at": observation.observed_at,
                "recorded_at": now,
            }
            for session, observation in observations.items()
        ]
        own = f"{trusted}%"
        with self._write() as conn:
            stmt = _insert(conn, table).values(rows_)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["underlying", "session"],
                    set_={
                        key: stmt.excluded[key] for key in ("iv_30d", "source", "observed_at", "recorded_at")
                    },
                    where=or_(
                        table.c.source.not_like(own),
                        and_(
                            stmt.excluded.source.like(own), stmt.excluded.observed_at >= table.c.observed_at
                        ),
                    ),
                )
            )

    # trading state

    def record_trading_state(self, event: TradingStateEvent) -> bool:
        """Record a trading-state change once by its key (a rerun's trip records nothing new)."""
        with self._write() as conn:
            return _insert_once(conn, schema.trading_state_events, rows.trading_state_row(event), "key")

    def trading_state(self) -> TradingStateEvent | None:
        """The latest recorded trading-state change, or None when the state never changed."""
        table = schema.trading_state_events
        with self._read() as conn:
            row = conn.execute(select(table).order_by(table.c.id.desc()).limit(1)).mappings().first()
        return rows.trading_state_from_row(row) if row else None

    def trading_state_events(self) -> list[TradingStateEvent]:
        """Every trading-state change, oldest first."""
        table = schema.trading_state_events
        with self._read() as conn:
            found = conn.execute(select(table).order_by(table.c.id)).mappings().all()
        return [rows.trading_state_from_row(row) for row in found]

    # expirations

    def record_expiration(
        self, intent: OrderIntent, fill: Fill, deliveries: tuple[StockDelivery, ...], message: str
    ) -> bool:
        """Record a position's expiration at once: its closing intent straight to FILLED (never sendable),
        the settlement fill and the shares delivered; False when that fill was recorded before."""
        with self.exclusive() as locked, locked._write() as conn:
            if conn.execute(select(schema.fills.c.id).where(schema.fills.c.fill_id == fill.fill_id)).first():
                return False
            locked.record_intent(intent)
            locked.record_fill(fill)
            locked.record_order_update(
                intent.client_order_id, fill.broker_order_id, OrderStatus.FILLED, fill.filled_at, message
            )
            for delivery in deliveries:
                conn.execute(schema.stock_lots.insert().values(rows.stock_lot_row(fill.fill_id, delivery)))
            return True

    def stock_lots(self) -> list[StockDelivery]:
        """Every delivery of shares by exercise or assignment, oldest first."""
        table = schema.stock_lots
        with self._read() as conn:
            return [
                rows.stock_lot_from_row(row)
                for row in conn.execute(select(table).order_by(table.c.id)).mappings()
            ]

    # ladder steps of working orders

    def request_step(self, step: OrderStep) -> bool:
        """Claim one ladder step of an order (unique by order and step number): True only for the one
        caller that recorded it, which alone may ask the broker."""
        table = schema.order_steps
        with self._write() as conn:
            self._locked_intent(conn, step.client_order_id)
            stmt = (
                _insert(conn, table)
                .values(rows.order_step_row(step))
                .on_conflict_do_nothing(index_elements=["client_order_id", "step"])
            )
            return conn.execute(stmt.returning(table.c.id)).first() is not None

    def answer_step(
        self, client_order_id: str, step: int, status: StepStatus, at: datetime, message: str = ""
    ) -> bool:
        """Record the broker's answer to a requested step once; False when it was answered already."""
        table = schema.order_steps
        with self._write() as conn:
            done = conn.execute(
                update(table)
                .where(
                    table.c.client_order_id == client_order_id,
                    table.c.step == step,
                    table.c.status == StepStatus.REQUESTED.value,
                )
                .values(status=status.value, answered_at=at, message=message)
            )
            return done.rowcount == 1

    def unanswered_steps(self) -> list[OrderStep]:
        """Ladder steps claimed but never answered (a run died between asking the broker and recording)."""
        table = schema.order_steps
        query = select(table).where(table.c.status == StepStatus.REQUESTED.value).order_by(table.c.id)
        with self._read() as conn:
            return [rows.order_step_from_row(row) for row in conn.execute(query).mappings()]

    def order_steps(self, client_order_id: str | None = None) -> list[OrderStep]:
        """Recorded ladder steps (of one order, if given), in order and step order."""
        table = schema.order_steps
        query = select(table).order_by(table.c.client_order_id, table.c.step)
        if client_order_id is not None:
            query = query.where(table.c.client_order_id == client_order_id)
        with self._read() as conn:
            return [rows.order_step_from_row(row) for row in conn.execute(query).mappings()]

    def snapshot(self) -> dict[str, pd.DataFrame]:
        """Every ledger table as a DataFrame: money as Decimal objects, JSON columns as JSON text."""
        with self._read() as conn:
            return {
                table.name: _frame(table, conn.execute(select(table).order_by(*table.primary_key)).mappings())
                for table in schema.metadata.sorted_tables
            }

    # helpers inside a transaction

    def _intent_status(self, conn: Connection, client_order_id: str, lock: bool = False) -> OrderStatus:
        query = select(schema.order_intents.c.status).where(
            schema.order_intents.c.client_order_id == client_order_id
        )
        status = conn.execute(query.with_for_update() if lock else query).scalar_one_or_none()
        if status is None:
            raise UnknownOrderError(f"no order intent with client_order_id {client_order_id!r}")
        return OrderStatus(status)

    def _locked_intent(self, conn: Connection, client_order_id: str) -> tuple[OrderIntent, OrderStatus]:
        """The intent, row-locked so concurrent fills of one order apply one after another."""
        query = select(schema.order_intents).where(schema.order_intents.c.client_order_id == client_order_id)
        row = conn.execute(query.with_for_update()).mappings().one_or_none()
        if row is None:
            raise UnknownOrderError(f"fill names unknown client_order_id {client_order_id!r}")
        return rows.intent_from_row(row)

    def _position(self, conn: Connection, position_id: str) -> Position | None:
        query = select(schema.positions).where(schema.positions.c.position_id == position_id)
        row = conn.execute(query.with_for_update()).mappings().one_or_none()
        return None if row is None else rows.position_from_row(row)

    def _save_position(self, conn: Connection, position: Position) -> None:
        values = rows.position_row(position)
        conn.execute(
            update(schema.positions)
            .where(schema.positions.c.position_id == values.pop("position_id"))
            .values(values)
        )


def _frame(table: Table, records: Any) -> pd.DataFrame:
    """One table as a DataFrame with its declared columns, even when empty."""
    json_columns = [column.name for column in table.columns if isinstance(column.type, JSON)]
    frame = pd.DataFrame([dict(record) for record in records], columns=[c.name for c in table.columns])
    for name in json_columns:
        frame[name] = frame[name].map(dumps_json)
    return frame
