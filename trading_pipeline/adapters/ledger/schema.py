"""Ledger tables (SQLAlchemy Core) and the column types that keep money exact and time zone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

#: Explicit constraint and index names, so migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 4
MONEY_PRECISION = 18
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
_MONEY_MAX_DIGITS_BEFORE_POINT = MONEY_PRECISION - MONEY_SCALE

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Money(TypeDecorator[Decimal]):
    """NUMERIC(18,4) on PostgreSQL, integer units of 1/10,000 (BIGINT) on SQLite; floats are refused.

    SQLite has no exact decimal type: integer units keep SUM, MAX and comparisons exact in plain SQL.
    Values are rounded half away from zero to 4 places on both backends (what PostgreSQL does),
    so the two backends always return the same Decimal.
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[object]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal | int) or isinstance(value, bool):
            raise TypeError(f"money must be a Decimal, got {type(value).__name__} {value!r}")
        amount = Decimal(value)
        if not amount.is_finite() or amount.adjusted() >= _MONEY_MAX_DIGITS_BEFORE_POINT:
            raise ValueError(f"money amount {value} is not finite or does not fit NUMERIC(18,4)")
        amount = amount.quantize(_MONEY_QUANTUM, rounding=ROUND_HALF_UP)
        return int(amount.scaleb(MONEY_SCALE)) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name != "sqlite":
            return Decimal(str(value))
        if not isinstance(value, int):
            raise TypeError(f"SQLite money must be integer units, got {type(value).__name__} {value!r}")
        return Decimal(value).scaleb(-MONEY_SCALE)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps stored in UTC; SQLite drops tzinfo, so UTC is re-attached on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"ledger timestamps must be timezone-aware, got {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id_column(name: str = "id") -> Column[int]:
    return Column(name, Integer, primary_key=True, autoincrement=True)


decisions = Table(
    "decisions",
    metadata,
    _id_column(),
    Column("decision_id", String(64), nullable=False, unique=True),
    Column("session", Date, nullable=False, index=True),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("strategy", String(64), nullable=False),
    Column("underlying", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("client_order_id", String(64), nullable=True),
    Column("details", JSON, nullable=False),
)

order_intents = Table(
    "order_intents",
    metadata,
    _id_column(),
    Column("client_order_id", String(64), nullable=False, unique=True),
    Column("strategy", String(64), nullable=False),
    Column("session", Date, nullable=False, index=True),
    Column("decision_time", UtcDateTime, nullable=False),
    Column("underlying", String(16), nullable=False),
    Column("legs", JSON, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("limit_price", Money, nullable=False),
    Column("effect", String(8), nullable=False),
    Column("position_id", String(64), nullable=True),
    Column("reason", Text, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Who claimed the intent for sending (NEW -> SUBMITTING) and when; only the claimant calls the broker.
    Column("claimed_by", String(128), nullable=True),
    Column("claimed_at", UtcDateTime, nullable=True),
)

_INTENT_FK = "order_intents.client_order_id"

orders = Table(
    "orders",
    metadata,
    _id_column(),
    Column("client_order_id", String(64), ForeignKey(_INTENT_FK), nullable=False, unique=True),
    Column("broker_order_id", String(128), nullable=False, index=True),
    Column("status", String(24), nullable=False),
    Column("filled_quantity", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("message", Text, nullable=False),
)

order_events = Table(
    "order_events",
    metadata,
    _id_column(),
    Column("client_order_id", String(64), ForeignKey(_INTENT_FK), nullable=False, index=True),
    Column("broker_order_id", String(128), nullable=False),
    Column("previous_status", String(24), nullable=False),
    Column("status", String(24), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("message", Text, nullable=False),
)

fills = Table(
    "fills",
    metadata,
    _id_column(),
    Column("fill_id", String(128), nullable=False, unique=True),
    Column("client_order_id", String(64), ForeignKey(_INTENT_FK), nullable=False, index=True),
    Column("broker_order_id", String(128), nullable=False),
    Column("filled_at", UtcDateTime, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("net_value", Money, nullable=False),
    Column("leg_prices", JSON, nullable=False),
    Column("commission", Money, nullable=False),
)

positions = Table(
    "positions",
    metadata,
    Column("position_id", String(64), primary_key=True),
    Column("strategy", String(64), nullable=False),
    Column("underlying", String(16), nullable=False),
    Column("legs", JSON, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("entry_value", Money, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("status", String(8), nullable=False, index=True),
    Column("fees", Money, nullable=False),
    Column("realized_pnl", Money, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    # Each leg's average fill price (decimal strings, leg order); null for positions opened before 0007.
    Column("leg_entry_prices", JSON, nullable=True),
)

position_marks = Table(
    "position_marks",
    metadata,
    _id_column(),
    Column("session", Date, nullable=False),
    Column("position_id", String(64), ForeignKey("positions.position_id"), nullable=False, index=True),
    Column("marked_at", UtcDateTime, nullable=False),
    Column("mark_value", Money, nullable=False),
    Column("unrealized_pnl", Money, nullable=False),
    # NULL: unknown (a leg's implied vol could not be solved), never a guessed zero.
    Column("delta", Float, nullable=True),
    Column("gamma", Float, nullable=True),
    Column("vega", Float, nullable=True),
    Column("theta", Float, nullable=True),
    # One mark per position and tick time: marks are history, read "as of" a decision time.
    UniqueConstraint("position_id", "marked_at"),
)

#: Ticks at which a position could not be marked (a leg without a quote); its last good mark stands.
stale_marks = Table(
    "stale_marks",
    metadata,
    _id_column(),
    Column("session", Date, nullable=False),
    Column("position_id", String(64), ForeignKey("positions.position_id"), nullable=False, index=True),
    Column("marked_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    UniqueConstraint("position_id", "marked_at"),
)

iv_observations = Table(
    "iv_observations",
    metadata,
    _id_column(),
    Column("underlying", String(16), nullable=False),
    Column("session", Date, nullable=False),
    Column("iv_30d", Float, nullable=False),
    Column("source", String(64), nullable=False),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    UniqueConstraint("underlying", "session"),
)

reconciliation_breaks = Table(
    "reconciliation_breaks",
    metadata,
    _id_column(),
    Column("found_at", UtcDateTime, nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("detail", Text, nullable=False),
    UniqueConstraint("found_at", "kind", "subject"),
)

#: Changes of the trading state (ACTIVE / REDUCING / HALTED): automatic trips and operators' acts, in the
#: order recorded; the latest row is the current state. `key` makes an automatic trip once per session.
trading_state_events = Table(
    "trading_state_events",
    metadata,
    _id_column(),
    Column("key", String(128), nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("cause", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("session", Date, nullable=True),
)

#: Shares delivered by exercise or assignment at expiration: one row per option leg settled by delivery,
#: at the strike (the lot's cost basis), tied to the expiration fill that closed the option position.
stock_lots = Table(
    "stock_lots",
    metadata,
    _id_column(),
    Column("fill_id", String(128), ForeignKey("fills.fill_id"), nullable=False, index=True),
    Column("occ_symbol", String(32), nullable=False),
    Column("position_id", String(64), nullable=False),
    Column("underlying", String(16), nullable=False),
    Column("shares", Integer, nullable=False),
    Column("price", Money, nullable=False),
    Column("acquired_at", UtcDateTime, nullable=False),
    UniqueConstraint("fill_id", "occ_symbol"),
)

#: The ladder of each working order: one row per step (a new limit, or the final cancel), claimed once by
#: (order, step) before the broker is asked, then answered. The rows are the order's ladder history.
order_steps = Table(
    "order_steps",
    metadata,
    _id_column(),
    Column("client_order_id", String(64), ForeignKey(_INTENT_FK), nullable=False, index=True),
    Column("step", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("limit_price", Money, nullable=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("answered_at", UtcDateTime, nullable=True),
    Column("message", Text, nullable=False),
    UniqueConstraint("client_order_id", "step"),
)
