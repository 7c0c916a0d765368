"""Paper broker: marketable orders fill at the modeled price, others rest; an idempotent, persistent book."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from trading_pipeline.adapters.brokers.base import BrokerError
from trading_pipeline.adapters.brokers.paper import PaperBroker, paper_orders
from trading_pipeline.core.fills import FillModel
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline_tests.adapters.brokers.stubs import FixedChainMarket, strangle_chain
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, closing_intent, opening_intent

#: Half the half-spread on each leg: sells of the 540 put (1.10/1.30) and 600.5 call (1.00/1.20)
#: fill at 1.15 and 1.05, a credit of 2.20; buying both back costs 1.25 + 1.15 = 2.40.
FILL_MODEL = FillModel(slippage_fraction=Decimal("0.5"), commission_per_contract=Decimal("0.65"))
NOW = DECISION_TIME  # Friday 2025-03-14 10:30 ET, market open


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'broker' / 'paper.db'}"


@pytest.fixture
def market() -> FixedChainMarket:
    return FixedChainMarket(strangle_chain())


@pytest.fixture
def broker(url: str, market: FixedChainMarket) -> Iterator[PaperBroker]:
    opened = PaperBroker(url, market, FILL_MODEL)
    yield opened
    opened.dispose()


def stored_rows(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(paper_orders)).scalar_one()
    finally:
        engine.dispose()


def test_marketable_credit_limit_fills_at_fill_model_price_with_commission(broker: PaperBroker) -> None:
    # Arrange: asking for at least 2.10 credit; the model fills at 2.20.
    intent = opening_intent(quantity=2, limit_price="-2.10")

    # Act
    order = broker.submit(intent, NOW)

    # Assert
    assert order.status is OrderStatus.FILLED
    assert order.client_order_id == intent.client_order_id
    assert len(order.fills) == 1
    fill = order.fills[0]
    assert fill.client_order_id == intent.client_order_id
    assert fill.broker_order_id == order.broker_order_id
    assert fill.quantity == 2
    assert fill.leg_prices == (Decimal("1.15"), Decimal("1.05"))
    assert fill.net_value == Decimal("-2.20")
    assert fill.commission == Decimal("2.60")  # 0.65 x 2 legs x 2 units
    assert fill.filled_at == NOW
    assert fill.filled_at.tzinfo is UTC


def test_marketable_debit_limit_fills_at_fill_model_price(broker: PaperBroker) -> None:
    # Arrange: willing to pay up to 2.50 to buy the strangle back; the model pays 2.40.
    intent = closing_intent("some-position", quantity=1, limit_price="2.50")

    # Act
    order = broker.submit(intent, NOW)

    # Assert
    assert order.status is OrderStatus.FILLED
    assert order.fills[0].leg_prices == (Decimal("1.25"), Decimal("1.15"))
    assert order.fills[0].net_value == Decimal("2.40")
    assert order.fills[0].commission == Decimal("1.30")


@pytest.mark.parametrize(
    ("intent_kind", "limit", "fill_value"),
    [("open", "-2.40", "-2.20"), ("close", "2.30", "2.40")],
    ids=["credit-asks-too-much", "debit-pays-too-little"],
)
def test_unmarketable_limit_rests_as_a_working_order_naming_the_market(
    broker: PaperBroker, intent_kind: str, limit: str, fill_value: str
) -> None:
    # Arrange
    if intent_kind == "open":
        intent = opening_intent(limit_price=limit)
    else:
        intent = closing_intent("some-position", limit_price=limit)

    # Act
    order = broker.submit(intent, NOW)

    # Assert
    assert order.status is OrderStatus.WORKING
    assert order.fills == ()
    assert order.limit_price == Decimal(limit)
    assert order.message == f"working at {limit}: the market is at {fill_value}"
    assert broker.find_order(intent.client_order_id) == order


def test_quotes_are_requested_for_the_legs_dte_range(broker: PaperBroker, market: FixedChainMarket) -> None:
    # Act
    broker.submit(opening_intent(limit_price="-2.10"), NOW)

    # Assert: 2025-03-14 to 2025-04-17 is 34 days.
    assert market.chain_requests == [("SPY", NOW, 34, 34)]


def test_same_client_order_id_twice_returns_the_original_and_stores_one_row(
    broker: PaperBroker, market: FixedChainMarket, url: str
) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.10")
    first = broker.submit(intent, NOW)

    # Act
    second = broker.submit(intent, datetime(2025, 3, 14, 15, 0, tzinfo=UTC))

    # Assert
    assert second == first
    assert len(market.chain_requests) == 1
    assert stored_rows(url) == 1


def test_a_working_order_is_not_sent_again_under_the_same_client_order_id(broker: PaperBroker) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.40")
    working = broker.submit(intent, NOW)

    # Act
    again = broker.submit(intent, NOW)

    # Assert
    assert again == working
    assert again.status is OrderStatus.WORKING
    assert len(broker.orders()) == 1


def test_a_new_broker_on_the_same_database_finds_the_order(
    broker: PaperBroker, market: FixedChainMarket, url: str
) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.10")
    sent = broker.submit(intent, NOW)
    broker.dispose()

    # Act
    restarted = PaperBroker(url, market, FILL_MODEL)
    try:
        found = restarted.find_order(intent.client_order_id)
    finally:
        restarted.dispose()

    # Assert
    assert found == sent


def test_find_order_of_an_unknown_client_order_id_is_none(broker: PaperBroker) -> None:
    assert broker.find_order("tp-never-sent") is None


@pytest.mark.parametrize(
    "closed_at",
    [datetime(2025, 3, 15, 15, 0, tzinfo=UTC), datetime(2025, 3, 14, 13, 0, tzinfo=UTC)],
    ids=["saturday", "before-the-open"],
)
def test_order_while_market_is_closed_is_rejected_without_quoting(
    broker: PaperBroker, market: FixedChainMarket, closed_at: datetime
) -> None:
    # Act
    order = broker.submit(opening_intent(limit_price="-2.10"), closed_at)

    # Assert
    assert order.status is OrderStatus.REJECTED
    assert order.fills == ()
    assert order.message == f"market closed at {closed_at.isoformat()}"
    assert market.chain_requests == []


def test_leg_missing_from_the_chain_is_a_broker_error_naming_the_symbol(url: str) -> None:
    # Arrange: only the put is quoted.
    chain = strangle_chain()
    market = FixedChainMarket(chain[chain["right"] == "P"])
    broker = PaperBroker(url, market, FILL_MODEL)
    intent = opening_intent(limit_price="-2.10")

    # Act / Assert
    try:
        with pytest.raises(BrokerError, match=re.escape("no quote for SPY   250417C00600500")):
            broker.submit(intent, NOW)
        assert broker.find_order(intent.client_order_id) is None
    finally:
        broker.dispose()


def test_order_refused_for_a_missing_quote_can_be_sent_once_the_quote_appears(url: str) -> None:
    # Arrange
    chain = strangle_chain()
    market = FixedChainMarket(chain[chain["right"] == "P"])
    broker = PaperBroker(url, market, FILL_MODEL)
    intent = opening_intent(limit_price="-2.10")
    try:
        with pytest.raises(BrokerError):
            broker.submit(intent, NOW)
        market.chain = chain

        # Act
        order = broker.submit(intent, NOW)
    finally:
        broker.dispose()

    # Assert
    assert order.status is OrderStatus.FILLED


def test_positions_net_every_filled_order_per_contract(broker: PaperBroker) -> None:
    opening = opening_intent(quantity=2, limit_price="-2.10")
    broker.submit(opening, NOW)

    held = broker.positions()

    assert [(p.occ_symbol, p.quantity) for p in held] == sorted(
        (leg.contract.occ_symbol, -2) for leg in opening.legs
    )


def test_positions_of_an_opened_and_closed_structure_are_flat(broker: PaperBroker) -> None:
    opening = opening_intent(quantity=2, limit_price="-2.10")
    broker.submit(opening, NOW)

    broker.submit(closing_intent(opening.client_order_id, quantity=2, limit_price="2.50"), NOW)

    assert broker.positions() == []
    assert [o.status for o in broker.orders()] == [OrderStatus.FILLED, OrderStatus.FILLED]


def test_every_submit_call_is_logged_even_a_duplicate(broker: PaperBroker, url: str) -> None:
    intent = opening_intent(quantity=1, limit_price="-2.10")

    broker.submit(intent, NOW)
    broker.submit(intent, NOW)

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            calls = conn.execute(sa.text("SELECT client_order_id FROM paper_broker_submit_calls")).all()
    finally:
        engine.dispose()
    assert [row[0] for row in calls] == [intent.client_order_id] * 2
    assert stored_rows(url) == 1


def test_a_different_order_under_a_known_client_order_id_is_refused(broker: PaperBroker) -> None:
    broker.submit(opening_intent(quantity=1, limit_price="-2.10"), NOW)

    with pytest.raises(BrokerError, match="already names a different order"):
        broker.submit(opening_intent(quantity=3, limit_price="-2.10"), NOW)


def test_a_leg_with_a_zero_width_market_is_rejected_not_filled(url: str) -> None:
    chain = strangle_chain()
    chain.loc[0, ["bid", "ask"]] = [1.20, 1.20]
    broker = PaperBroker(url, FixedChainMarket(chain), FILL_MODEL)
    try:
        order = broker.submit(opening_intent(quantity=1, limit_price="-2.00"), NOW)
    finally:
        broker.dispose()

    assert order.status is OrderStatus.REJECTED
    assert order.fills == ()
    assert re.search(r"zero-width market: SPY +250417P00540000 bid 1\.2 = ask 1\.2", order.message)


def _book_of_the_first_version(url: str, *rows: str) -> None:
    """A paper book with the first version's columns (no legs), holding `rows` (SQL value tuples)."""
    Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE paper_broker_orders (broker_order_id VARCHAR(64) PRIMARY KEY, "
            "client_order_id VARCHAR(64) NOT NULL UNIQUE, status VARCHAR(24) NOT NULL, "
            "message TEXT NOT NULL, fills TEXT NOT NULL, created_at VARCHAR(40) NOT NULL)"
        )
        for row in rows:
            conn.exec_driver_sql(f"INSERT INTO paper_broker_orders VALUES {row}")
    engine.dispose()


def test_a_book_written_before_legs_were_stored_gains_the_columns(url: str, market: FixedChainMarket) -> None:
    # Arrange: a book with the first version's columns only
    _book_of_the_first_version(url)

    # Act
    broker = PaperBroker(url, market, FILL_MODEL)
    try:
        order = broker.submit(opening_intent(quantity=1, limit_price="-2.10"), NOW)
        held = broker.positions()
    finally:
        broker.dispose()

    # Assert
    assert order.status is OrderStatus.FILLED
    assert len(held) == 2


def test_a_book_of_an_earlier_version_holding_orders_is_refused_with_what_to_do(url: str) -> None:
    _book_of_the_first_version(url, "('b-1', 'tp-1', 'FILLED', '', '[]', 'x')")

    with pytest.raises(BrokerError, match=r"did not record legs.*make clean"):
        PaperBroker(url, FixedChainMarket(strangle_chain()), FILL_MODEL)
