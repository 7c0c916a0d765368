"""Hand-written builders of the domain objects the ledger tests store: a short SPY strangle and its fills."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from trading_pipeline.core.decisions import Decision, DecisionKind, make_decision_id
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.orders import OrderIntent, PositionEffect, make_client_order_id
from trading_pipeline.core.positions import Fill

SESSION = date(2025, 3, 14)
DECISION_TIME = datetime(2025, 3, 14, 10, 30, tzinfo=ZoneInfo("America/New_York"))
FILL_TIME = datetime(2025, 3, 14, 14, 31, tzinfo=UTC)
STRATEGY = "short_strangle"
EXPIRATION = date(2025, 4, 17)


def strangle_legs() -> tuple[Leg, ...]:
    """A short SPY strangle: sell the 540 put and the 600 call."""
    return (
        Leg(OptionContract("SPY", EXPIRATION, Decimal("540"), Right.PUT), Side.SELL),
        Leg(OptionContract("SPY", EXPIRATION, Decimal("600.5"), Right.CALL), Side.SELL),
    )


def opening_intent(quantity: int = 2, limit_price: str = "-2.40", key: str = "candidate-1") -> OrderIntent:
    legs = strangle_legs()
    return OrderIntent(
        client_order_id=make_client_order_id(STRATEGY, SESSION, key, legs, PositionEffect.OPEN),
        strategy=STRATEGY,
        session=SESSION,
        decision_time=DECISION_TIME,
        underlying="SPY",
        legs=legs,
        quantity=quantity,
        limit_price=Decimal(limit_price),
        effect=PositionEffect.OPEN,
        reason="iv rank 62 in a calm regime",
        tags={"regime": "calm", "dte": "34"},
    )


def closing_intent(position_id: str, quantity: int = 2, limit_price: str = "1.20") -> OrderIntent:
    legs = tuple(leg.closing() for leg in strangle_legs())
    session = SESSION + timedelta(days=3)
    return OrderIntent(
        client_order_id=make_client_order_id(STRATEGY, session, position_id, legs, PositionEffect.CLOSE),
        strategy=STRATEGY,
        session=session,
        decision_time=DECISION_TIME + timedelta(days=3),
        underlying="SPY",
        legs=legs,
        quantity=quantity,
        limit_price=Decimal(limit_price),
        effect=PositionEffect.CLOSE,
        position_id=position_id,
        reason="50% of max profit",
    )


def fill_of(
    intent: OrderIntent,
    fill_id: str,
    quantity: int,
    net_value: str,
    commission: str = "2.60",
    days_later: int = 0,
) -> Fill:
    """A fill of `intent`; net_value is signed per unit (+ debit paid, - credit received)."""
    return Fill(
        fill_id=fill_id,
        client_order_id=intent.client_order_id,
        broker_order_id=f"broker-{intent.client_order_id}",
        filled_at=FILL_TIME + timedelta(days=days_later),
        quantity=quantity,
        net_value=Decimal(net_value),
        leg_prices=(Decimal("1.20"), Decimal("1.2050")),
        commission=Decimal(commission),
    )


def entry_decision(approved: bool = True) -> Decision:
    return Decision(
        decision_id=make_decision_id(STRATEGY, SESSION, DecisionKind.ENTRY, "candidate-1"),
        session=SESSION,
        decided_at=DECISION_TIME,
        strategy=STRATEGY,
        underlying="SPY",
        kind=DecisionKind.ENTRY,
        approved=approved,
        reasons=("iv rank above 50", "within portfolio delta limit"),
        client_order_id=opening_intent().client_order_id,
        details={"iv_rank": Decimal("62.5"), "credit": "2.40"},
    )
