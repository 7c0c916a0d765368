"""Account equity from positions and marks: the one place that adds realized and unrealized P&L."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from trading_pipeline.core.positions import Position, PositionMark


@dataclass(frozen=True)
class AccountPnl:
    """Realized P&L net of every commission paid, unrealized P&L of open positions, and equity."""

    realized: Decimal
    unrealized: Decimal
    equity: Decimal


def account_pnl(
    positions: Iterable[Position], open_marks: Iterable[PositionMark], starting_equity: Decimal
) -> AccountPnl:
    """Equity = starting equity + realized (net of all fees) + unrealized marks of open positions."""
    realized = sum((p.net_realized_pnl for p in positions), Decimal(0))
    unrealized = sum((m.unrealized_pnl for m in open_marks), Decimal(0))
    return AccountPnl(realized, unrealized, starting_equity + realized + unrealized)
