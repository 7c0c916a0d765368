"""Paper broker: fills marketable limit orders against the market's quotes with the core fill model.

It keeps its own order book in a database table (a stand-in for the broker's side of the world),
so an order sent before a crash is found again by client order id, exactly like a real broker.
Orders are immediate-or-cancel: an order whose limit is not marketable at submission is cancelled.
Every call to `submit` is also logged (duplicates included), so tests can count what a real broker,
which may not deduplicate client order ids, would have received.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trading_pipeline.adapters.brokers.base import (
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerRejectedError,
)
from trading_pipeline.adapters.market_data.base import MarketData
from trading_pipeline.core.calendar import ET, days_to_expiry, is_market_open
from trading_pipeline.core.chain import MissingLegError, leg_quotes, leg_rows, normalize_chain
from trading_pipeline.core.fills import FillModel, LegQuote, fill_structure, limit_is_marketable
from trading_pipeline.core.instruments import Leg, legs_from_json, legs_to_json, net_contracts
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.core.positions import Fill

_metadata = sa.MetaData()
paper_orders = sa.Table(
    "paper_broker_orders",
    _metadata,
    sa.Column("broker_order_id", sa.String(64), primary_key=True),
    sa.Column("client_order_id", sa.String(64), nullable=False, unique=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Column("fills", sa.Text, nullable=False, default="[]"),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("underlying", sa.String(16), nullable=False, default=""),
    sa.Column("legs", sa.Text, nullable=False, default="[]"),
    sa.Column("quantity", sa.Integer, nullable=False, default=0),
    sa.Column("limit_price", sa.String(40), nullable=False, default=""),
)
#: Columns added after the first version of the book; an older book file gains them on open.
_LATER_COLUMNS = {
    "underlying": "VARCHAR(16) NOT NULL DEFAULT ''",
    "legs": "TEXT NOT NULL DEFAULT '[]'",
    "quantity": "INTEGER NOT NULL DEFAULT 0",
    "limit_price": "VARCHAR(40) NOT NULL DEFAULT ''",
}
submit_calls = sa.Table(
    "paper_broker_submit_calls",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("client_order_id", sa.String(64), nullable=False, index=True),
    sa.Column("called_at", sa.String(40), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("limit_price", sa.String(40), nullable=False),
)


def _fill_to_json(fill: Fill) -> dict[str, object]:
    return {
        "fill_id": fill.fill_id,
        "filled_at": fill.filled_at.isoformat(),
        "quantity": fill.quantity,
        "net_value": str(fill.net_value),
        "leg_prices": [str(p) for p in fill.leg_prices],
        "commission": str(fill.commission),
    }


def _fill_from_json(data: dict[str, object], client_order_id: str, broker_order_id: str) -> Fill:
    return Fill(
        fill_id=str(data["fill_id"]),
        client_order_id=client_order_id,
        broker_order_id=broker_order_id,
        filled_at=datetime.fromisoformat(str(data["filled_at"])),
        quantity=int(str(data["quantity"])),
        net_value=Decimal(str(data["net_value"])),
        leg_prices=tuple(Decimal(str(p)) for p in data["leg_prices"]),  # type: ignore[attr-defined]
        commission=Decimal(str(data["commission"])),
    )


def _payload(intent: OrderIntent) -> tuple[int, str, str]:
    """What makes two orders the same order: size, legs and limit (as the book stores them)."""
    return intent.quantity, json.dumps(legs_to_json(intent.legs)), str(intent.limit_price)


def _order_from_row(row: sa.Row) -> BrokerOrder:
    fills = tuple(
        _fill_from_json(item, row.client_order_id, row.broker_order_id) for item in json.loads(row.fills)
    )
    return BrokerOrder(row.broker_order_id, row.client_order_id, OrderStatus(row.status), fills, row.message)


def current_leg_quotes(
    market: MarketData, underlying: str, legs: tuple[Leg, ...], now: datetime
) -> tuple[LegQuote, ...]:
    """Current bid/ask of each leg from the market's chain; a missing contract is a BrokerError."""
    dtes = [days_to_expiry(now.astimezone(ET).date(), leg.contract.expiration) for leg in legs]
    chain = market.option_chain(underlying, now, min_dte=max(0, min(dtes)), max_dte=max(dtes))
    try:
        return leg_quotes(leg_rows(normalize_chain(chain), legs))
    except (MissingLegError, ValueError) as exc:  # a missing leg, or a crossed or malformed quote
        raise BrokerRejectedError(f"{exc} at {now.isoformat()}") from None


class PaperBroker:
    """A broker that fills against simulated or replayed quotes; its book lives in `url`."""

    name = "paper"

    def __init__(self, url: str, market: MarketData, fill_model: FillModel) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self._engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        _metadata.create_all(self._engine)
        self._add_later_columns()
        self._market = market
        self._fill_model = fill_model

    def dispose(self) -> None:
        self._engine.dispose()

    def _add_later_columns(self) -> None:
        """Bring an empty book of an earlier version up to the current columns; refuse a filled one.

        Orders in such a book carry no legs, so its positions cannot be known: reconciliation would
        report differences forever.
        """
        present = {c["name"] for c in sa.inspect(self._engine).get_columns(paper_orders.name)}
        with self._engine.begin() as conn:
            if (
                "legs" not in present
                and conn.execute(sa.select(sa.func.count()).select_from(paper_orders)).scalar()
            ):
                raise BrokerError(
                    f"paper broker book {self._engine.url.render_as_string(hide_password=True)} was written "
                    "by a version that did not record legs, so its positions are unknown: start a fresh "
                    "simulation (`make clean`, or delete the book and the ledger together)"
                )
            for name, ddl in _LATER_COLUMNS.items():
                if name not in present:
                    conn.exec_driver_sql(f"ALTER TABLE {paper_orders.name} ADD COLUMN {name} {ddl}")

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        row = self._book_row(client_order_id)
        return None if row is None else _order_from_row(row)

    def orders(self) -> list[BrokerOrder]:
        """Every order in the book, oldest first."""
        with self._engine.connect() as conn:
            found = conn.execute(sa.select(paper_orders).order_by(paper_orders.c.created_at)).all()
        return [_order_from_row(row) for row in found]

    def positions(self) -> list[BrokerPosition]:
        """Net signed contracts per option over every fill in the book."""
        with self._engine.connect() as conn:
            found = conn.execute(sa.select(paper_orders.c.legs, paper_orders.c.fills)).all()
        held = net_contracts(
            (
                legs_from_json(json.loads(row.legs)),
                sum(int(item["quantity"]) for item in json.loads(row.fills)),
            )
            for row in found
        )
        return [BrokerPosition(symbol, quantity) for symbol, quantity in sorted(held.items())]

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        """Fill the order if its limit is marketable now, else cancel it; a duplicate returns the original.

        A different order under a client order id already in the book is refused.
        """
        self._log_call(intent)
        existing = self._book_row(intent.client_order_id)
        if existing is not None:
            if (existing.quantity, existing.legs, existing.limit_price) != _payload(intent):
                quantity, legs, limit = _payload(intent)
                raise BrokerError(
                    f"client order id {intent.client_order_id} already names a different order "
                    f"(book: {existing.quantity} x {existing.legs} at {existing.limit_price}; "
                    f"sent: {quantity} x {legs} at {limit})"
                )
            return _order_from_row(existing)
        broker_order_id = "paper-" + hashlib.sha256(intent.client_order_id.encode()).hexdigest()[:16]
        if not is_market_open(now):
            order = BrokerOrder(
                broker_order_id,
                intent.client_order_id,
                OrderStatus.REJECTED,
                message=f"market closed at {now.isoformat()}",
            )
        else:
            quotes = current_leg_quotes(self._market, intent.underlying, intent.legs, now)
            locked = [
                f"{leg.contract.occ_symbol} bid {quote.bid} = ask {quote.ask}"
                for leg, quote in zip(intent.legs, quotes, strict=True)
                if quote.bid == quote.ask
            ]
            priced = fill_structure(self._fill_model, intent.legs, quotes, intent.quantity)
            if locked:
                order = BrokerOrder(
                    broker_order_id,
                    intent.client_order_id,
                    OrderStatus.REJECTED,
                    message="zero-width market: " + "; ".join(locked),
                )
            elif limit_is_marketable(intent.limit_price, priced.net_value):
                fill = Fill(
                    fill_id=f"{broker_order_id}-1",
                    client_order_id=intent.client_order_id,
                    broker_order_id=broker_order_id,
                    filled_at=now.astimezone(UTC),
                    quantity=intent.quantity,
                    net_value=priced.net_value,
                    leg_prices=priced.leg_prices,
                    commission=priced.commission,
                )
                order = BrokerOrder(broker_order_id, intent.client_order_id, OrderStatus.FILLED, (fill,))
            else:
                order = BrokerOrder(
                    broker_order_id,
                    intent.client_order_id,
                    OrderStatus.CANCELLED,
                    message=f"not marketable: fill value {priced.net_value} vs limit {intent.limit_price} "
                    "(immediate-or-cancel)",
                )
        return self._store(order, intent, now)

    def _log_call(self, intent: OrderIntent) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                submit_calls.insert().values(
                    client_order_id=intent.client_order_id,
                    called_at=datetime.now(UTC).isoformat(),
                    quantity=intent.quantity,
                    limit_price=str(intent.limit_price),
                )
            )

    def _book_row(self, client_order_id: str) -> sa.Row | None:
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(paper_orders).where(paper_orders.c.client_order_id == client_order_id)
            ).one_or_none()

    def _store(self, order: BrokerOrder, intent: OrderIntent, now: datetime) -> BrokerOrder:
        quantity, legs, limit_price = _payload(intent)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    paper_orders.insert().values(
                        broker_order_id=order.broker_order_id,
                        client_order_id=order.client_order_id,
                        status=order.status.value,
                        message=order.message,
                        fills=json.dumps([_fill_to_json(f) for f in order.fills]),
                        created_at=now.isoformat(),
                        underlying=intent.underlying,
                        legs=legs,
                        quantity=quantity,
                        limit_price=limit_price,
                    )
                )
        except IntegrityError:
            stored = self.find_order(order.client_order_id)
            if stored is None:
                raise
            return stored
        return order
