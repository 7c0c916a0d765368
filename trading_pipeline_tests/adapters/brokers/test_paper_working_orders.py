"""Paper broker working orders: resting limits that fill only when the market comes to them, replaces,
cancels, expiry at the close, partial fills, fees and the account's balances."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from trading_pipeline.adapters.brokers.paper import PaperBroker
from trading_pipeline.core.fills import FillModel
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline.core.pnl import structure_value
from trading_pipeline_tests.adapters.brokers.stubs import FixedChainMarket, strangle_chain
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, opening_intent

#: Sells of the 540 put (1.10/1.30) and the 600.5 call (1.00/1.20) at half the half-spread: 2.20 credit.
MODEL = FillModel(slippage_fraction=Decimal("0.5"), commission_per_contract=Decimal("0.65"))
NOW = DECISION_TIME  # Friday 2025-03-14 10:30 ET
LATER = NOW + timedelta(minutes=5)
CLOSE = NOW.replace(hour=16, minute=0)


@pytest.fixture
def market() -> FixedChainMarket:
    return FixedChainMarket(strangle_chain())


def _broker(tmp_path: Path, market: FixedChainMarket, model: FillModel = MODEL) -> PaperBroker:
    return PaperBroker(f"sqlite:///{tmp_path / 'paper.db'}", market, model, starting_cash=Decimal(100_000))


@pytest.fixture
def broker(tmp_path: Path, market: FixedChainMarket) -> Iterator[PaperBroker]:
    opened = _broker(tmp_path, market)
    yield opened
    opened.dispose()


def _lift_bids(market: FixedChainMarket, by: float) -> None:
    """The market moves toward a seller: every bid and ask up by `by`."""
    chain: pd.DataFrame = market.chain
    chain[["bid", "ask"]] = chain[["bid", "ask"]] + by


def test_a_resting_credit_order_fills_at_its_limit_when_the_market_comes_to_it(
    broker: PaperBroker, market: FixedChainMarket
) -> None:
    # Arrange: asking 2.30 while the market pays 2.20; then every quote rises 0.10 (the market pays 2.40).
    intent = opening_intent(quantity=2, limit_price="-2.30")
    assert broker.submit(intent, NOW).status is OrderStatus.WORKING
    _lift_bids(market, 0.10)

    # Act
    broker.advance(LATER)

    # Assert: a maker fill at the limit exactly, not at the better modeled price; legs add up to it
    order = broker.find_order(intent.client_order_id)
    assert order is not None and order.status is OrderStatus.FILLED
    (fill,) = order.fills
    assert fill.net_value == Decimal("-2.30")
    assert structure_value(intent.legs, fill.leg_prices) == Decimal("-2.30")
    assert (fill.quantity, fill.commission, fill.filled_at) == (2, Decimal("2.60"), LATER)


def test_advancing_twice_to_the_same_time_meets_the_market_once(
    broker: PaperBroker, market: FixedChainMarket
) -> None:
    # Arrange
    broker.submit(opening_intent(limit_price="-2.30"), NOW)
    requests = len(market.chain_requests)

    # Act
    broker.advance(LATER)
    broker.advance(LATER)

    # Assert
    assert len(market.chain_requests) == requests + 1
    assert [o.status for o in broker.orders()] == [OrderStatus.WORKING]


def test_a_day_order_still_working_at_the_close_expires_unfilled(broker: PaperBroker) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.30")
    broker.submit(intent, NOW)

    # Act
    broker.advance(CLOSE)

    # Assert
    order = broker.find_order(intent.client_order_id)
    assert order is not None and order.status is OrderStatus.EXPIRED
    assert order.message == "expired at the 16:00 ET close with 0 of 2 filled"
    assert broker.positions() == []


def test_a_replace_to_a_marketable_limit_fills_at_once_at_the_markets_price(broker: PaperBroker) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.30")
    broker.submit(intent, NOW)

    # Act: step 1 asks only 2.10; the market pays 2.20
    order = broker.replace(intent.client_order_id, Decimal("-2.10"), 1, LATER)

    # Assert
    assert (order.status, order.step, order.limit_price) == (OrderStatus.FILLED, 1, Decimal("-2.10"))
    assert order.fills[0].net_value == Decimal("-2.20")


def test_a_replace_of_a_step_already_taken_changes_nothing(broker: PaperBroker) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.40")
    broker.submit(intent, NOW)
    first = broker.replace(intent.client_order_id, Decimal("-2.35"), 1, LATER)

    # Act: the same step again (a retried request), then an older one at another price
    again = broker.replace(intent.client_order_id, Decimal("-2.35"), 1, LATER)
    older = broker.replace(intent.client_order_id, Decimal("-2.25"), 1, LATER + timedelta(minutes=1))

    # Assert
    assert first.status is OrderStatus.WORKING and first.limit_price == Decimal("-2.35")
    assert again == first
    assert older.limit_price == Decimal("-2.35") and older.step == 1


def test_a_replace_or_cancel_of_a_filled_order_returns_it_filled(broker: PaperBroker) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.10")
    filled = broker.submit(intent, NOW)

    # Act
    replaced = broker.replace(intent.client_order_id, Decimal("-2.00"), 1, LATER)
    cancelled = broker.cancel(intent.client_order_id, LATER)

    # Assert
    assert filled.status is replaced.status is cancelled.status is OrderStatus.FILLED
    assert replaced.step == 0


def test_cancelling_a_working_order_ends_it_and_a_second_cancel_changes_nothing(broker: PaperBroker) -> None:
    # Arrange
    intent = opening_intent(limit_price="-2.30")
    broker.submit(intent, NOW)

    # Act
    cancelled = broker.cancel(intent.client_order_id, LATER)
    again = broker.cancel(intent.client_order_id, LATER + timedelta(minutes=1))

    # Assert
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.message == f"cancelled at {LATER.isoformat()} with 0 of 2 filled"
    assert again == cancelled


def test_partial_fills_leave_the_order_partly_filled_until_the_rest_fills(
    tmp_path: Path, market: FixedChainMarket
) -> None:
    # Arrange: every fill takes part of what remains (probability 1)
    broker = _broker(tmp_path, market, FillModel(Decimal("0.5"), partial_fill_probability=Decimal(1)))
    intent = opening_intent(quantity=5, limit_price="-2.10")

    # Act
    first = broker.submit(intent, NOW)
    for minute in range(1, 10):
        broker.advance(NOW + timedelta(minutes=minute))
    final = broker.find_order(intent.client_order_id)

    # Assert
    assert first.status is OrderStatus.PARTIALLY_FILLED and 1 <= first.filled_quantity < 5
    assert final is not None and final.filled_quantity <= 5
    assert final.status is (
        OrderStatus.FILLED if final.filled_quantity == 5 else OrderStatus.PARTIALLY_FILLED
    )
    assert len(final.fills) >= 2
    assert [f.fill_id for f in final.fills] == [
        f"{final.broker_order_id}-{i}" for i in range(1, 1 + len(final.fills))
    ]
    broker.dispose()


def test_a_fill_pays_commission_exchange_and_regulatory_fees_and_the_sec_fee_on_sales(
    tmp_path: Path, market: FixedChainMarket
) -> None:
    # Arrange: 0.65 + 0.30 + 0.03 per contract; SEC 27.80 per million of sale proceeds
    model = FillModel(
        Decimal("0.5"),
        Decimal("0.65"),
        exchange_fee_per_contract=Decimal("0.30"),
        regulatory_fee_per_contract=Decimal("0.03"),
        sec_fee_per_million=Decimal("27.80"),
    )
    broker = _broker(tmp_path, market, model)

    # Act: sell 2 strangles, legs at 1.15 and 1.05
    order = broker.submit(opening_intent(quantity=2, limit_price="-2.10"), NOW)

    # Assert: 4 contracts x 0.98 = 3.92; proceeds (1.15 + 1.05) x 2 x 100 = 440 -> SEC 0.012232, up to 0.02
    assert order.fills[0].commission == Decimal("3.94")
    broker.dispose()


def test_balances_hold_the_credit_less_costs_in_cash_and_value_the_short_strangle_at_mid(
    broker: PaperBroker,
) -> None:
    # Arrange
    broker.submit(opening_intent(quantity=2, limit_price="-2.10"), NOW)

    # Act
    balances = broker.balances(LATER)

    # Assert: +440 credit - 2.60 commission; the strangle marks at 1.20 + 1.10 = 2.30 x 2 x 100 = 460
    assert balances.cash == Decimal("100437.40")
    assert balances.net_liquidation == Decimal("99977.40")
    # Reg-T on spot 570: put 540: 20% x 570 - 30 + 1.20 = 85.20; plus the call's premium 1.10 -> 86.30 x 200
    assert balances.option_requirement == Decimal("17260.00")
    assert balances.buying_power == balances.net_liquidation - balances.option_requirement


def test_two_processes_advancing_one_working_order_fill_it_once(
    tmp_path: Path, market: FixedChainMarket
) -> None:
    # Arrange: two brokers on one book (two processes), the market already at the order's limit
    first, second = _broker(tmp_path, market), _broker(tmp_path, market)
    intent = opening_intent(limit_price="-2.30")
    first.submit(intent, NOW)
    _lift_bids(market, 0.10)
    barrier = threading.Barrier(2)

    def advance(broker: PaperBroker) -> None:
        barrier.wait()
        broker.advance(LATER)

    # Act
    threads = [threading.Thread(target=advance, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Assert
    order = first.find_order(intent.client_order_id)
    assert order is not None and order.status is OrderStatus.FILLED
    assert len(order.fills) == 1 and order.filled_quantity == 2
    first.dispose()
    second.dispose()
