"""Paper broker: fills marketable limit orders against the market's quotes with the core fill model.

It keeps its own order book in a database table (a stand-in for the broker's side of the world),
so an order sent before a crash is found again by client order id, exactly like a real broker.
Orders are immediate-or-cancel: an order whose limit is not marketable at submission is cancelled.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trading_pipeline.adapters.brokers.base import BrokerError, BrokerOrder
from trading_pipeline.adapters.market_data.base import MarketData
from trading_pipeline.core.calendar import ET, days_to_expiry, is_market_open
from trading_pipeline.core.chain import MissingLegError, leg_quotes, leg_rows
from trading_pipeline.core.fills import FillModel, LegQuote, fill_structure, limit_is_marketable
from trading_pipeline.core.instruments import Leg
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


def current_leg_quotes(
    market: MarketData, underlying: str, legs: tuple[Leg, ...], now: datetime
) -> tuple[LegQuote, ...]:
    """Current bid/ask of each leg from the market's chain; a missing contract is a BrokerError."""
    dtes = [days_to_expiry(now.astimezone(ET).date(), leg.contract.expiration) for leg in legs]
    chain = market.option_chain(underlying, now, min_dte=max(0, min(dtes)), max_dte=max(dtes))
    try:
        return leg_quotes(leg_rows(chain, legs))
    except MissingLegError as exc:
        raise BrokerError(f"{exc} at {now.isoformat()}") from None


class PaperBroker:
    """A broker that fills against simulated or replayed quotes; its book lives in `url`."""

    name = "paper"

    def __init__(self, url: str, market: MarketData, fill_model: FillModel) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self._engine = sa.create_engine(url)
        _metadata.create_all(self._engine)
        self._market = market
        self._fill_model = fill_model

    def dispose(self) -> None:
        self._engine.dispose()

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(paper_orders).where(paper_orders.c.client_order_id == client_order_id)
            ).one_or_none()
        if row is None:
            return None
        fills = tuple(
            _fill_from_json(item, row.client_order_id, row.broker_order_id) for item in json.loads(row.fills)
        )
        return BrokerOrder(
            row.broker_order_id, row.client_order_id, OrderStatus(row.status), fills, row.message
        )

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        """Fill the order if its limit is marketable now, else cancel it; a duplicate returns the original."""
        existing = self.find_order(intent.client_order_id)
        if existing is not None:
            return existing
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
            priced = fill_structure(self._fill_model, intent.legs, quotes, intent.quantity)
            if limit_is_marketable(intent.limit_price, priced.net_value):
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
        return self._store(order, now)

    def _store(self, order: BrokerOrder, now: datetime) -> BrokerOrder:
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
                    )
                )
        except IntegrityError:
            stored = self.find_order(order.client_order_id)
            if stored is None:
                raise
            return stored
        return order
