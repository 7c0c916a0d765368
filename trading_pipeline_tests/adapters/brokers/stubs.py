"""Hand-written stubs shared by the broker tests: a market with one fixed chain and a counting broker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from trading_pipeline.adapters.brokers.base import BrokerOrder, BrokerPosition
from trading_pipeline.core.chain import QUOTE_COLUMNS
from trading_pipeline.core.orders import OrderIntent
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, strangle_legs

#: Bid/ask of the strangle legs of ledger.builders: the 540 put and the 600.5 call.
PUT_QUOTE = (1.10, 1.30)
CALL_QUOTE = (1.00, 1.20)


def strangle_chain() -> pd.DataFrame:
    """The quotes of both strangle legs, in core.chain.QUOTE_COLUMNS."""
    rows = []
    for leg, (bid, ask) in zip(strangle_legs(), (PUT_QUOTE, CALL_QUOTE), strict=True):
        contract = leg.contract
        rows.append(
            {
                "occ_symbol": contract.occ_symbol,
                "underlying": "SPY",
                "expiration": pd.Timestamp(contract.expiration),
                "strike": float(contract.strike),
                "right": contract.right.value,
                "bid": bid,
                "ask": ask,
                "bid_size": 10,
                "ask_size": 10,
                "volume": 100,
                "open_interest": 1000,
                "underlying_price": 570.0,
                "quote_time": pd.Timestamp(DECISION_TIME),
            }
        )
    return pd.DataFrame(rows, columns=list(QUOTE_COLUMNS))


@dataclass
class FixedChainMarket:
    """MarketData that answers every option_chain request with one fixed chain and records the calls."""

    chain: pd.DataFrame
    name: str = "fixed"
    chain_requests: list[tuple[str, datetime, int, int]] = field(default_factory=list)

    def daily_bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        raise NotImplementedError("the paper broker needs option quotes only")

    def spot(self, symbol: str, as_of: datetime) -> float:
        return 570.0

    def option_chain(
        self, underlying: str, as_of: datetime, min_dte: int = 0, max_dte: int = 400
    ) -> pd.DataFrame:
        self.chain_requests.append((underlying, as_of, min_dte, max_dte))
        return self.chain.copy()


@dataclass
class CountingBroker:
    """A Broker that answers every submit with `reply(intent)` and remembers it by client order id.

    `latency` seconds pass between receiving an order and answering (a window for races); `held` is
    what `positions()` reports; `received` keeps every intent exactly as it was sent.
    """

    reply: Callable[[OrderIntent], BrokerOrder]
    name: str = "counting"
    known: dict[str, BrokerOrder] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    latency: float = 0.0
    submit_calls: int = 0
    find_calls: int = 0
    received: list[OrderIntent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        with self._lock:
            self.submit_calls += 1
            self.received.append(intent)
        time.sleep(self.latency)
        order = self.reply(intent)
        self.known[intent.client_order_id] = order
        return order

    def orders(self) -> list[BrokerOrder]:
        return list(self.known.values())

    def positions(self) -> list[BrokerPosition]:
        return [BrokerPosition(symbol, quantity) for symbol, quantity in sorted(self.held.items())]

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        self.find_calls += 1
        return self.known.get(client_order_id)

    def advance(self, now: datetime) -> None:
        """Its orders never move by themselves."""
