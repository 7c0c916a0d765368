"""Conversions between domain objects and ledger rows; the one place that knows the JSON layouts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from trading_pipeline.core.decisions import Decision, DecisionKind
from trading_pipeline.core.instruments import legs_from_json, legs_to_json
from trading_pipeline.core.ladder import OrderStep, StepKind, StepStatus
from trading_pipeline.core.orders import OrderIntent, OrderStatus, PositionEffect
from trading_pipeline.core.positions import GREEKS, Fill, Position, PositionMark, PositionStatus, StaleMark
from trading_pipeline.core.settlement import StockDelivery
from trading_pipeline.core.trading_state import TradingState, TradingStateEvent, Trigger

Row = Mapping[str, Any]


def decision_row(decision: Decision) -> dict[str, Any]:
    """Column values of a decision; reasons and details go to JSON columns."""
    return {
        "decision_id": decision.decision_id,
        "session": decision.session,
        "decided_at": decision.decided_at,
        "strategy": decision.strategy,
        "underlying": decision.underlying,
        "kind": decision.kind.value,
        "approved": decision.approved,
        "reasons": list(decision.reasons),
        "client_order_id": decision.client_order_id,
        "details": dict(decision.details),
    }


def decision_from_row(row: Row) -> Decision:
    """The decision as recorded."""
    return Decision(
        decision_id=row["decision_id"],
        session=row["session"],
        decided_at=row["decided_at"],
        strategy=row["strategy"],
        underlying=row["underlying"],
        kind=DecisionKind(row["kind"]),
        approved=bool(row["approved"]),
        reasons=tuple(row["reasons"]),
        client_order_id=row["client_order_id"],
        details=dict(row["details"]),
    )


def mark_row(session: date, mark: PositionMark) -> dict[str, Any]:
    """Column values of a mark; an unknown (NaN) greek is stored as NULL, the same on every backend."""
    return {
        "session": session,
        "position_id": mark.position_id,
        "marked_at": mark.marked_at,
        "mark_value": mark.mark_value,
        "unrealized_pnl": mark.unrealized_pnl,
        **{greek: None if math.isnan(value := getattr(mark, greek)) else value for greek in GREEKS},
    }


def mark_from_row(row: Row) -> PositionMark:
    """A recorded position mark; a NULL greek reads back as NaN (unknown)."""
    return PositionMark(
        position_id=row["position_id"],
        marked_at=row["marked_at"],
        mark_value=row["mark_value"],
        unrealized_pnl=row["unrealized_pnl"],
        **{greek: math.nan if row[greek] is None else row[greek] for greek in GREEKS},
    )


def stale_mark_row(session: date, stale: StaleMark) -> dict[str, Any]:
    """Column values of a stale mark."""
    return {
        "session": session,
        "position_id": stale.position_id,
        "marked_at": stale.marked_at,
        "reason": stale.reason,
    }


def stale_mark_from_row(row: Row) -> StaleMark:
    """A recorded stale mark."""
    return StaleMark(position_id=row["position_id"], marked_at=row["marked_at"], reason=row["reason"])


def intent_row(intent: OrderIntent) -> dict[str, Any]:
    """Column values of an intent (its status and timestamps are set by the ledger)."""
    return {
        "client_order_id": intent.client_order_id,
        "strategy": intent.strategy,
        "session": intent.session,
        "decision_time": intent.decision_time,
        "underlying": intent.underlying,
        "legs": legs_to_json(intent.legs),
        "quantity": intent.quantity,
        "limit_price": intent.limit_price,
        "effect": intent.effect.value,
        "position_id": intent.position_id,
        "reason": intent.reason,
        "tags": dict(intent.tags),
    }


def intent_from_row(row: Row) -> tuple[OrderIntent, OrderStatus]:
    """The intent exactly as recorded, with its current status."""
    intent = OrderIntent(
        client_order_id=row["client_order_id"],
        strategy=row["strategy"],
        session=row["session"],
        decision_time=row["decision_time"],
        underlying=row["underlying"],
        legs=legs_from_json(row["legs"]),
        quantity=row["quantity"],
        limit_price=row["limit_price"],
        effect=PositionEffect(row["effect"]),
        position_id=row["position_id"],
        reason=row["reason"],
        tags=dict(row["tags"]),
    )
    return intent, OrderStatus(row["status"])


def fill_row(fill: Fill) -> dict[str, Any]:
    """Column values of a fill; leg prices are kept as exact decimal strings."""
    return {
        "fill_id": fill.fill_id,
        "client_order_id": fill.client_order_id,
        "broker_order_id": fill.broker_order_id,
        "filled_at": fill.filled_at,
        "quantity": fill.quantity,
        "net_value": fill.net_value,
        "leg_prices": [str(Decimal(str(price))) for price in fill.leg_prices],
        "commission": fill.commission,
    }


def position_row(position: Position) -> dict[str, Any]:
    """Column values of a position as computed by core.positions."""
    return {
        "position_id": position.position_id,
        "strategy": position.strategy,
        "underlying": position.underlying,
        "legs": legs_to_json(position.legs),
        "quantity": position.quantity,
        "entry_value": position.entry_value,
        "opened_at": position.opened_at,
        "status": position.status.value,
        "fees": position.fees,
        "realized_pnl": position.realized_pnl,
        "closed_at": position.closed_at,
        "leg_entry_prices": [str(price) for price in position.leg_entry_prices],
    }


def position_from_row(row: Row) -> Position:
    """The position as last saved."""
    return Position(
        position_id=row["position_id"],
        strategy=row["strategy"],
        underlying=row["underlying"],
        legs=legs_from_json(row["legs"]),
        quantity=row["quantity"],
        entry_value=row["entry_value"],
        opened_at=row["opened_at"],
        status=PositionStatus(row["status"]),
        fees=row["fees"],
        realized_pnl=row["realized_pnl"],
        closed_at=row["closed_at"],
        leg_entry_prices=tuple(Decimal(price) for price in row.get("leg_entry_prices") or ()),
    )


def fill_from_row(row: Row) -> Fill:
    """A recorded fill."""
    return Fill(
        fill_id=row["fill_id"],
        client_order_id=row["client_order_id"],
        broker_order_id=row["broker_order_id"],
        filled_at=row["filled_at"],
        quantity=row["quantity"],
        net_value=row["net_value"],
        leg_prices=tuple(Decimal(str(price)) for price in row["leg_prices"]),
        commission=row["commission"],
    )


def trading_state_row(event: TradingStateEvent) -> dict[str, Any]:
    """Column values of a trading-state change."""
    return {
        "key": event.key,
        "state": event.state.value,
        "trigger": event.trigger.value,
        "cause": event.cause,
        "actor": event.actor[:64],
        "at": event.at,
        "session": event.session,
    }


def trading_state_from_row(row: Row) -> TradingStateEvent:
    """A recorded trading-state change."""
    return TradingStateEvent(
        key=row["key"],
        state=TradingState(row["state"]),
        trigger=Trigger(row["trigger"]),
        cause=row["cause"],
        at=row["at"],
        session=row["session"],
        actor=row["actor"],
    )


def order_step_row(step: OrderStep) -> dict[str, Any]:
    """Column values of one ladder step."""
    return {
        "client_order_id": step.client_order_id,
        "step": step.step,
        "kind": step.kind.value,
        "limit_price": step.limit_price,
        "requested_at": step.requested_at,
        "requested_by": step.requested_by[:128],
        "claimed_at": datetime.now(UTC),
        "reason": step.reason,
        "status": step.status.value,
        "answered_at": step.answered_at,
        "message": step.message,
    }


def order_step_from_row(row: Row) -> OrderStep:
    """A recorded ladder step."""
    return OrderStep(
        client_order_id=row["client_order_id"],
        step=row["step"],
        kind=StepKind(row["kind"]),
        limit_price=row["limit_price"],
        requested_at=row["requested_at"],
        requested_by=row["requested_by"],
        claimed_at=row["claimed_at"],
        reason=row["reason"],
        status=StepStatus(row["status"]),
        answered_at=row["answered_at"],
        message=row["message"],
    )


def stock_lot_row(fill_id: str, delivery: StockDelivery) -> dict[str, Any]:
    """Column values of the shares one settled leg delivered."""
    return {
        "fill_id": fill_id,
        "occ_symbol": delivery.occ_symbol,
        "position_id": delivery.position_id,
        "underlying": delivery.underlying,
        "shares": delivery.shares,
        "price": delivery.price,
        "acquired_at": delivery.acquired_at,
    }


def stock_lot_from_row(row: Row) -> StockDelivery:
    """A recorded delivery of shares."""
    return StockDelivery(
        underlying=row["underlying"],
        shares=row["shares"],
        price=row["price"],
        acquired_at=row["acquired_at"],
        position_id=row["position_id"],
        occ_symbol=row["occ_symbol"],
    )
