"""Paper broker: day limit orders that fill only when the modeled market reaches them.

It keeps its own order book in a database table (a stand-in for the broker's side of the world), so an
order sent before a crash is found again by client order id, exactly like a real broker. An order
marketable on arrival fills at the modeled price (core/fills.FillModel: mid worsened by a share of the
half-spread that grows with wide spreads and high vol, with a seeded jitter); one that is not rests
(WORKING) and fills at its limit at a later `advance` only when the market comes to it, or expires at the
close. Every write is a compare-and-swap on the row's version, so two processes never fill one order twice.
Every call to `submit` is also logged (duplicates included), so tests can count what a real broker,
which may not deduplicate client order ids, would have received.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trading_pipeline.adapters.brokers.base import (
    AccountBalances,
    BrokerError,
    BrokerOrder,
    BrokerPosition,
    BrokerRejectedError,
)
from trading_pipeline.adapters.market_data.base import MarketData
from trading_pipeline.core.calendar import (
    ET,
    days_to_expiry,
    expiration_datetime,
    is_market_open,
    session_close,
    years_to_expiry,
)
from trading_pipeline.core.candidates import is_defined_risk
from trading_pipeline.core.chain import MissingLegError, leg_quotes, leg_rows, normalize_chain
from trading_pipeline.core.fills import (
    FillModel,
    LegMarket,
    StructureFill,
    fill_at_limit,
    fill_structure,
    limit_is_marketable,
)
from trading_pipeline.core.instruments import (
    Leg,
    Side,
    legs_from_json,
    legs_to_json,
    net_contracts,
    parse_occ_symbol,
    to_money,
)
from trading_pipeline.core.margin import naked_base_pct, uncovered_requirement, worst_expiry_payoff
from trading_pipeline.core.orders import OrderIntent, OrderStatus, PositionEffect
from trading_pipeline.core.pnl import structure_value
from trading_pipeline.core.positions import Fill
from trading_pipeline.core.pricing import implied_vol
from trading_pipeline.core.settlement import intrinsic_value as intrinsic

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
    sa.Column("working_limit", sa.String(40), nullable=False, default=""),
    sa.Column("step", sa.Integer, nullable=False, default=0),
    sa.Column("evaluated_at", sa.String(40), nullable=False, default=""),
    sa.Column("version", sa.Integer, nullable=False, default=0),
)
#: Columns added after the first version of the book; an older book file gains them on open.
_LATER_COLUMNS = {
    "underlying": "VARCHAR(16) NOT NULL DEFAULT ''",
    "legs": "TEXT NOT NULL DEFAULT '[]'",
    "quantity": "INTEGER NOT NULL DEFAULT 0",
    "limit_price": "VARCHAR(40) NOT NULL DEFAULT ''",
    "working_limit": "VARCHAR(40) NOT NULL DEFAULT ''",
    "step": "INTEGER NOT NULL DEFAULT 0",
    "evaluated_at": "VARCHAR(40) NOT NULL DEFAULT ''",
    "version": "INTEGER NOT NULL DEFAULT 0",
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
_WORKING = (OrderStatus.WORKING.value, OrderStatus.PARTIALLY_FILLED.value)


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


def _fills(row: sa.Row) -> tuple[Fill, ...]:
    return tuple(
        _fill_from_json(item, row.client_order_id, row.broker_order_id) for item in json.loads(row.fills)
    )


def _working_limit(row: sa.Row) -> Decimal:
    return Decimal(row.working_limit or row.limit_price)


def _order_from_row(row: sa.Row) -> BrokerOrder:
    return BrokerOrder(
        row.broker_order_id,
        row.client_order_id,
        OrderStatus(row.status),
        _fills(row),
        row.message,
        _working_limit(row) if row.limit_price else None,
        row.step,
    )


def current_leg_rows(
    market: MarketData, underlying: str, legs: tuple[Leg, ...], now: datetime
) -> pd.DataFrame:
    """The market's current rows of each leg; a missing contract or a malformed quote is a
    BrokerRejectedError naming it."""
    dtes = [days_to_expiry(now.astimezone(ET).date(), leg.contract.expiration) for leg in legs]
    chain = market.option_chain(underlying, now, min_dte=max(0, min(dtes)), max_dte=max(dtes))
    try:
        rows = leg_rows(normalize_chain(chain), legs)
        leg_quotes(rows)  # validates every quote (crossed, negative)
    except (MissingLegError, ValueError) as exc:
        raise BrokerRejectedError(f"{exc} at {now.isoformat()}") from None
    return rows


def leg_markets(rows: pd.DataFrame, legs: tuple[Leg, ...], now: datetime) -> tuple[LegMarket, ...]:
    """Each leg's quote with its implied vol (carry left out: a fill model input, not a greek)."""
    quotes = leg_quotes(rows)
    years = [years_to_expiry(now, leg.contract.expiration, leg.contract.root) for leg in legs]
    ivs = implied_vol(
        [float(q.bid + q.ask) / 2 for q in quotes],
        rows["underlying_price"].to_numpy(dtype=float),
        [float(leg.contract.strike) for leg in legs],
        years,
        0.0,
        0.0,
        [leg.contract.is_call for leg in legs],
    )
    return tuple(
        LegMarket(quote, None if np.isnan(iv) else float(iv)) for quote, iv in zip(quotes, ivs, strict=True)
    )


class PaperBroker:
    """A broker that fills against simulated or replayed quotes; its book lives in `url`."""

    name = "paper"

    def __init__(
        self, url: str, market: MarketData, fill_model: FillModel, starting_cash: Decimal = Decimal(100_000)
    ) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self._engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        _metadata.create_all(self._engine)
        self._add_later_columns()
        self._market = market
        self._fill_model = fill_model
        self._starting_cash = to_money(starting_cash)

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

    # reading the book

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        row = self._book_row(client_order_id)
        return None if row is None else _order_from_row(row)

    def orders(self) -> list[BrokerOrder]:
        """Every order in the book, oldest first."""
        return [_order_from_row(row) for row in self._rows()]

    def positions(self) -> list[BrokerPosition]:
        """Net signed contracts per option over every fill in the book."""
        held = net_contracts(
            (legs_from_json(json.loads(row.legs)), sum(f.quantity for f in _fills(row)))
            for row in self._rows()
        )
        return [BrokerPosition(symbol, quantity) for symbol, quantity in sorted(held.items())]

    def balances(self, now: datetime) -> AccountBalances:
        """Cash after every fill and its costs; open structures (every contract still held: a settled one is
        not) marked at mid now (a leg without a quote is valued at its last fill price) and margined: defined
        risk at its worst expiry loss, the rest Reg-T."""
        rows = self._rows()
        held = {p.occ_symbol for p in self.positions()}
        cash = self._starting_cash
        for row in rows:
            multiplier = legs_from_json(json.loads(row.legs))[0].contract.multiplier
            for fill in _fills(row):
                cash -= fill.net_value * fill.quantity * multiplier + fill.commission
        value, requirement = Decimal(0), Decimal(0)
        for underlying, legs, units, last_value in _open_structures(rows):
            if not all(leg.contract.occ_symbol in held for leg in legs):
                continue
            multiplier = legs[0].contract.multiplier
            try:
                leg_rows_now = current_leg_rows(self._market, underlying, legs, now)
                mids = [(q.bid + q.ask) / 2 for q in leg_quotes(leg_rows_now)]
                unit_value = structure_value(legs, mids)
            except BrokerRejectedError:
                leg_rows_now, unit_value = None, last_value
            value += unit_value * units * multiplier
            requirement += _requirement(legs, leg_rows_now) * units * multiplier
        return AccountBalances(now, to_money(cash), to_money(cash + value), to_money(requirement))

    # orders

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        """Fill the order now at the modeled price if its limit is marketable, else leave it working;
        a duplicate returns the original, and a different order under a known client order id is refused."""
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
        status, message, fills = OrderStatus.REJECTED, f"market closed at {now.isoformat()}", ()
        if is_market_open(now):
            rows = current_leg_rows(self._market, intent.underlying, intent.legs, now)
            markets = leg_markets(rows, intent.legs, now)
            locked = [
                f"{leg.contract.occ_symbol} bid {m.quote.bid} = ask {m.quote.ask}"
                for leg, m in zip(intent.legs, markets, strict=True)
                if m.quote.bid == m.quote.ask
            ]
            if locked:
                message = "zero-width market: " + "; ".join(locked)
            else:
                status, message, fills = self._meet(
                    broker_order_id,
                    intent.client_order_id,
                    intent.legs,
                    markets,
                    intent.limit_price,
                    intent.quantity,
                    (),
                    now,
                    taker=True,
                    key=(intent.client_order_id, now.isoformat()),
                )
        order = BrokerOrder(
            broker_order_id, intent.client_order_id, status, fills, message, intent.limit_price
        )
        return self._store(order, intent, now)

    def advance(self, now: datetime) -> None:
        """Match every working order against the market at `now` (once per order and time), expire those
        whose session has closed, and settle every contract held past its expiration."""
        for row in self._rows(working_only=True):
            self._work(row, now)
        self._settle_expired(now)

    def _settle_expired(self, now: datetime) -> None:
        """Take expired contracts out of the account as the OCC does: one settlement order per contract and
        expiration (client order id `expiry-...`, not ours), filled at intrinsic value from the underlying's
        price at settlement (the open for AM-settled roots, else the close). Delivered shares are not kept:
        the account's value counts them at intrinsic, which is what a delivery is worth at the close."""
        underlying_of = {
            leg.contract.occ_symbol: row.underlying
            for row in self._rows()
            for leg in legs_from_json(json.loads(row.legs))
        }
        for position in self.positions():
            contract = parse_occ_symbol(position.occ_symbol)
            settles_at = expiration_datetime(contract.expiration, contract.root)
            if now < settles_at:
                continue
            underlying = underlying_of[position.occ_symbol]
            price = Decimal(str(round(self._market.spot(underlying, settles_at), 2)))
            value = intrinsic(contract, price)
            side = Side.SELL if position.quantity > 0 else Side.BUY
            leg = Leg(contract, side)
            client_order_id = (
                f"expiry-{position.occ_symbol.replace(' ', '')}-{contract.expiration.isoformat()}"
            )
            broker_order_id = "paper-" + hashlib.sha256(client_order_id.encode()).hexdigest()[:16]
            quantity = abs(position.quantity)
            fill = Fill(
                fill_id=f"{broker_order_id}-1",
                client_order_id=client_order_id,
                broker_order_id=broker_order_id,
                filled_at=settles_at.astimezone(UTC),
                quantity=quantity,
                net_value=structure_value((leg,), (value,)),
                leg_prices=(value,),
                commission=Decimal(0),
            )
            message = f"settled at expiration: {underlying} {price}, intrinsic {value}"
            order = BrokerOrder(broker_order_id, client_order_id, OrderStatus.FILLED, (fill,), message)
            intent = OrderIntent(
                client_order_id=client_order_id,
                strategy="expiration",
                session=contract.expiration,
                decision_time=settles_at,
                underlying=underlying,
                legs=(leg,),
                quantity=quantity,
                limit_price=fill.net_value,
                effect=PositionEffect.CLOSE,
            )
            self._store(order, intent, settles_at)

    def cancel(self, client_order_id: str, now: datetime) -> BrokerOrder:
        """Cancel a working order once it met the market at `now` (it may fill first, as at a real broker)."""
        for _attempt in range(5):
            row = self._required_row(client_order_id)
            if row.status not in _WORKING:
                return _order_from_row(row)
            row = self._work(row, now)
            if row.status not in _WORKING:
                return _order_from_row(row)
            filled = sum(f.quantity for f in _fills(row))
            message = f"cancelled at {now.isoformat()} with {filled} of {row.quantity} filled"
            if self._swap(row, status=OrderStatus.CANCELLED.value, message=message):
                return _order_from_row(self._required_row(client_order_id))
        raise BrokerError(f"order {client_order_id} kept changing while it was being cancelled")

    def replace(self, client_order_id: str, limit_price: Decimal, step: int, now: datetime) -> BrokerOrder:
        """Move a working order to `limit_price` as ladder step `step`, after its old limit met the market at
        `now`; the new limit then meets the market at once. A step already taken changes nothing."""
        for _attempt in range(5):
            row = self._required_row(client_order_id)
            if row.step >= step or row.status not in _WORKING:
                return _order_from_row(row)
            row = self._work(row, now)
            if row.status not in _WORKING:
                return _order_from_row(row)
            limit = to_money(limit_price)
            if self._swap(row, working_limit=str(limit), step=step, message=f"step {step}: limit {limit}"):
                moved = self._required_row(client_order_id)
                return _order_from_row(self._work(moved, now, key_suffix=f"step-{step}", taker=True))
        raise BrokerError(f"order {client_order_id} kept changing while it was being replaced")

    # matching

    def _work(self, row: sa.Row, now: datetime, key_suffix: str = "", taker: bool = False) -> sa.Row:
        """One working order meets the market at `now` (once per time unless `key_suffix` names a new
        limit): it expires after its session's close, fills if marketable, else keeps working."""
        if row.status not in _WORKING or (not key_suffix and row.evaluated_at >= now.isoformat()):
            return row
        created = datetime.fromisoformat(row.created_at)
        close = session_close(created.astimezone(ET).date())
        fills = _fills(row)
        if now >= close:
            filled = sum(f.quantity for f in fills)
            message = (
                f"expired at the {close.astimezone(ET):%H:%M} ET close with {filled} of {row.quantity} filled"
            )
            self._swap(row, status=OrderStatus.EXPIRED.value, message=message, evaluated_at=now.isoformat())
            return self._required_row(row.client_order_id)
        legs = legs_from_json(json.loads(row.legs))
        try:
            markets = leg_markets(current_leg_rows(self._market, row.underlying, legs, now), legs, now)
        except BrokerRejectedError as exc:
            self._swap(row, message=f"working; not matched at {now.isoformat()}: {exc}")
            return self._required_row(row.client_order_id)
        status, message, fills = self._meet(
            row.broker_order_id,
            row.client_order_id,
            legs,
            markets,
            _working_limit(row),
            row.quantity,
            fills,
            now,
            taker=taker,
            key=(row.client_order_id, now.isoformat(), key_suffix),
        )
        self._swap(
            row,
            status=status.value,
            message=message,
            fills=json.dumps([_fill_to_json(f) for f in fills]),
            evaluated_at=now.isoformat(),
        )
        return self._required_row(row.client_order_id)

    def _meet(
        self,
        broker_order_id: str,
        client_order_id: str,
        legs: tuple[Leg, ...],
        markets: tuple[LegMarket, ...],
        limit: Decimal,
        quantity: int,
        fills: tuple[Fill, ...],
        now: datetime,
        taker: bool,
        key: tuple[object, ...],
    ) -> tuple[OrderStatus, str, tuple[Fill, ...]]:
        """Where an order at `limit` stands against the modeled market now: filled (all or part of what
        remains; a taker at the market's price, a resting order at its limit) or working."""
        model = self._fill_model
        remaining = quantity - sum(f.quantity for f in fills)
        fraction = model.fraction(markets, key)
        met = fill_structure(model, legs, tuple(m.quote for m in markets), remaining, fraction)
        if not limit_is_marketable(limit, met.net_value):
            status = OrderStatus.PARTIALLY_FILLED if fills else OrderStatus.WORKING
            return status, f"working at {limit}: the market is at {met.net_value}", fills
        size = model.fill_quantity(remaining, key)
        if taker:
            priced = StructureFill(met.leg_prices, met.net_value, model.costs(legs, met.leg_prices, size))
        else:
            priced = fill_at_limit(model, legs, met, limit, size)
        fill = Fill(
            fill_id=f"{broker_order_id}-{len(fills) + 1}",
            client_order_id=client_order_id,
            broker_order_id=broker_order_id,
            filled_at=now.astimezone(UTC),
            quantity=size,
            net_value=priced.net_value,
            leg_prices=priced.leg_prices,
            commission=priced.commission,
        )
        done = size == remaining
        status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        return status, f"filled {size} of {remaining} at {priced.net_value}", (*fills, fill)

    # storage

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

    def _rows(self, working_only: bool = False) -> list[sa.Row]:
        query = sa.select(paper_orders).order_by(paper_orders.c.created_at, paper_orders.c.broker_order_id)
        if working_only:
            query = query.where(paper_orders.c.status.in_(_WORKING))
        with self._engine.connect() as conn:
            return list(conn.execute(query).all())

    def _book_row(self, client_order_id: str) -> sa.Row | None:
        with self._engine.connect() as conn:
            return conn.execute(
                sa.select(paper_orders).where(paper_orders.c.client_order_id == client_order_id)
            ).one_or_none()

    def _required_row(self, client_order_id: str) -> sa.Row:
        row = self._book_row(client_order_id)
        if row is None:
            raise BrokerRejectedError(f"no order with client order id {client_order_id} at the paper broker")
        return row

    def _swap(self, row: sa.Row, **values: object) -> bool:
        """Write `values` only if nobody changed the order since `row` was read (version compare-and-swap)."""
        with self._engine.begin() as conn:
            done = conn.execute(
                paper_orders.update()
                .where(
                    paper_orders.c.client_order_id == row.client_order_id,
                    paper_orders.c.version == row.version,
                )
                .values(version=row.version + 1, **values)
            )
        return done.rowcount == 1

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
                        working_limit=limit_price,
                        step=0,
                        evaluated_at=now.isoformat(),
                        version=0,
                    )
                )
        except IntegrityError:
            stored = self.find_order(order.client_order_id)
            if stored is None:
                raise
            return stored
        return order


def _open_structures(rows: Iterable[sa.Row]) -> list[tuple[str, tuple[Leg, ...], int, Decimal]]:
    """(underlying, legs, open units, last fill value per unit) of every structure the book still holds:
    orders on the same contracts net out, a closing order's legs being the opening ones reversed."""
    held: dict[frozenset[str], list] = {}
    for row in rows:
        legs = legs_from_json(json.loads(row.legs))
        fills = _fills(row)
        if not fills:
            continue
        sides = {leg.contract.occ_symbol: leg.side for leg in legs}
        entry = held.setdefault(frozenset(sides), [row.underlying, legs, 0, Decimal(0)])
        first = entry[1][0]
        same_way = sides[first.contract.occ_symbol] is first.side
        for fill in fills:
            entry[2] += fill.quantity if same_way else -fill.quantity
            entry[3] = fill.net_value if same_way else -fill.net_value
    return [(u, legs, units, last) for u, legs, units, last in held.values() if units > 0]


def _requirement(legs: tuple[Leg, ...], rows: pd.DataFrame | None) -> Decimal:
    """Margin per unit in points: a bounded structure's worst expiry loss, else Reg-T from current marks
    (without quotes: 20%/15% of the strike as a stand-in for spot)."""
    worst = worst_expiry_payoff(legs)
    if worst is not None and is_defined_risk(legs):
        return -min(worst, Decimal(0))
    if rows is None:
        spot = max(leg.contract.strike for leg in legs)
        mids = [Decimal(0)] * len(legs)
    else:
        spot = Decimal(str(float(rows["underlying_price"].iloc[0])))
        mids = [(q.bid + q.ask) / 2 for q in leg_quotes(rows)]
    shorts = [
        (leg.contract.right, leg.contract.strike, mid * leg.ratio)
        for leg, mid in zip(legs, mids, strict=True)
        if leg.side.sign < 0
    ]
    return uncovered_requirement(shorts, spot, 1, naked_base_pct(legs[0].contract.root))
