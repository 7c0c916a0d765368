"""Expiration in the ledger and at the paper broker: positions held past their settlement are settled once
(cash, delivery of shares at the strike, or worthless), to the cent, and both sides agree afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from trading_pipeline.adapters.brokers.paper import PaperBroker
from trading_pipeline.adapters.brokers.reconciliation import reconcile
from trading_pipeline.adapters.brokers.submission import submit_idempotently
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.calendar import at_et
from trading_pipeline.core.fills import FillModel
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline.core.positions import PositionStatus
from trading_pipeline.defs.execution.expirations import due_for_settlement, settle_expired
from trading_pipeline_tests.adapters.brokers.stubs import strangle_chain
from trading_pipeline_tests.adapters.ledger.builders import DECISION_TIME, EXPIRATION, fill_of, opening_intent

#: The strangle of ledger.builders (short SPY 540 put and 600.5 call) expires Thursday 2025-04-17.
AFTER_CLOSE = at_et(EXPIRATION, datetime.min.time().replace(hour=16, minute=15))
BEFORE_CLOSE = at_et(EXPIRATION, datetime.min.time().replace(hour=15, minute=30))


@dataclass
class BarsMarket:
    """MarketData with one daily bar per session and a spot that is that bar's close after 16:00."""

    closes: dict[date, float]
    chain: pd.DataFrame = field(default_factory=strangle_chain)
    name: str = "bars"

    def daily_bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        days = [d for d in sorted(self.closes) if start <= d <= end]
        return pd.DataFrame(
            {"open": [self.closes[d] for d in days], "close": [self.closes[d] for d in days]},
            index=pd.Index(days),
        )

    def spot(self, symbol: str, as_of: datetime) -> float:
        return self.closes.get(as_of.date(), 570.0)

    def option_chain(
        self, underlying: str, as_of: datetime, min_dte: int = 0, max_dte: int = 400
    ) -> pd.DataFrame:
        return self.chain.copy()


def _open_strangle(ledger: SqlLedger, quantity: int = 2) -> str:
    intent = opening_intent(quantity=quantity, limit_price="-2.40")
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-open", quantity=quantity, net_value="-2.40", commission="2.60"))
    return intent.client_order_id


def test_a_position_is_due_only_once_every_leg_has_reached_its_settlement(ledger: SqlLedger) -> None:
    _open_strangle(ledger)
    (position,) = ledger.positions()

    assert due_for_settlement([position], BEFORE_CLOSE) == []
    assert due_for_settlement([position], AFTER_CLOSE) == [position]


def test_a_short_put_in_the_money_at_expiry_is_assigned_100_shares_a_contract_at_the_strike(
    ledger: SqlLedger,
) -> None:
    # Arrange: SPY closes at 530.00 on expiration day: the 540 put is 10.00 in the money, the call worthless
    position_id = _open_strangle(ledger, quantity=2)
    market = BarsMarket({EXPIRATION: 530.0})

    # Act
    outcomes = settle_expired(ledger, market, AFTER_CLOSE)

    # Assert: the option position closes at zero (delivery), keeping the 2.40 credit less the 2.60 fees
    (outcome,) = outcomes
    assert outcome.position_id == position_id
    (position,) = ledger.positions(open_only=False)
    assert position.status is PositionStatus.CLOSED
    assert position.realized_pnl == Decimal("480.00")  # 2.40 x 100 x 2
    assert position.net_realized_pnl == Decimal("477.40")
    (lot,) = ledger.stock_lots()
    assert (lot.underlying, lot.shares, lot.price) == ("SPY", 200, Decimal("540"))
    (intent, status) = ledger.intents()[-1]
    assert status is OrderStatus.FILLED and intent.position_id == position_id


def test_settling_twice_records_nothing_more(ledger: SqlLedger) -> None:
    _open_strangle(ledger)
    market = BarsMarket({EXPIRATION: 530.0})
    settle_expired(ledger, market, AFTER_CLOSE)

    again = settle_expired(ledger, market, AFTER_CLOSE + timedelta(days=1))

    assert again == []
    assert len(ledger.fills()) == 2
    assert len(ledger.stock_lots()) == 1


def test_out_of_the_money_legs_expire_worthless_keeping_the_whole_credit(ledger: SqlLedger) -> None:
    _open_strangle(ledger, quantity=1)

    settle_expired(ledger, BarsMarket({EXPIRATION: 570.0}), AFTER_CLOSE)

    (position,) = ledger.positions(open_only=False)
    assert (position.status, position.realized_pnl) == (PositionStatus.CLOSED, Decimal("240.00"))
    assert ledger.stock_lots() == []


@pytest.fixture
def paper(tmp_path: Path) -> Iterator[PaperBroker]:
    broker = PaperBroker(
        f"sqlite:///{tmp_path / 'paper.db'}", BarsMarket({EXPIRATION: 530.0}), FillModel(Decimal("0.5"))
    )
    yield broker
    broker.dispose()


def test_after_expiry_the_broker_and_the_ledger_both_settle_and_reconcile_without_a_break(
    ledger: SqlLedger, paper: PaperBroker
) -> None:
    # Arrange: a strangle sold through the paper broker and held to expiration
    intent = opening_intent(quantity=1, limit_price="-2.10")
    assert submit_idempotently(intent, ledger, paper, DECISION_TIME).status is OrderStatus.FILLED

    # Act: the end of the expiration day: the ledger settles, then reconciliation advances the broker
    settle_expired(ledger, BarsMarket({EXPIRATION: 530.0}), AFTER_CLOSE)
    report = reconcile(ledger, paper, AFTER_CLOSE)

    # Assert: both flat in options, no break; the broker's settlement order is not taken for one of ours
    assert report.breaks == ()
    assert paper.positions() == []
    assert ledger.positions() == []
    settlements = [o for o in paper.orders() if o.client_order_id.startswith("expiry-")]
    # the short put bought back at its 10.00 intrinsic, the call at nothing
    assert sorted((o.fills[0].net_value, o.fills[0].quantity) for o in settlements) == [
        (Decimal("0.00"), 1),
        (Decimal("10.00"), 1),
    ]


def test_after_expiry_the_brokers_balances_hold_the_settlement_in_cash_and_no_expired_structure(
    ledger: SqlLedger, paper: PaperBroker
) -> None:
    # Arrange: one strangle sold for 2.20 (the 540 put assigned 10.00 in the money at 530.00)
    submit_idempotently(opening_intent(quantity=1, limit_price="-2.10"), ledger, paper, DECISION_TIME)

    # Act
    paper.advance(AFTER_CLOSE)
    balances = paper.balances(AFTER_CLOSE)

    # Assert: 100,000 + 220 credit - 1.30 commission - 1,000 paid at settlement; nothing left to value
    assert balances.cash == Decimal("99218.70")
    assert balances.net_liquidation == balances.cash
    assert balances.option_requirement == Decimal("0.00")


def test_a_position_that_cannot_be_settled_is_named_and_the_others_still_settle(ledger: SqlLedger) -> None:
    # Arrange: a strangle, and a market with no bar on its expiration day
    _open_strangle(ledger)
    refused: dict[str, str] = {}

    # Act
    outcomes = settle_expired(
        ledger, BarsMarket({EXPIRATION - timedelta(days=30): 530.0}), AFTER_CLOSE, refused
    )

    # Assert
    assert outcomes == []
    ((position_id, reason),) = refused.items()
    assert position_id == ledger.positions()[0].position_id
    assert "2025-04-17" in reason
