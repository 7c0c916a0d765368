"""The one profit-and-loss formula, in the signed net-value convention of order intents.

A structure's net value per unit is the sum of leg prices times signed ratios (long +, short -),
so a credit structure has a negative value. P&L is the change in that value times size.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from trading_pipeline.core.instruments import Leg, to_money


def structure_value(legs: Iterable[Leg], leg_prices: Iterable[Decimal | float]) -> Decimal:
    """Signed net value of one structure unit from per-leg prices (long +, short -)."""
    total = Decimal("0")
    for leg, price in zip(legs, leg_prices, strict=True):
        total += leg.signed_ratio * Decimal(str(price))
    return total


def structure_pnl(
    entry_value: Decimal,
    current_value: Decimal,
    quantity: int,
    multiplier: int,
    fees: Decimal = Decimal("0"),
) -> Decimal:
    """P&L of `quantity` units held from `entry_value` to `current_value`, net of fees, in cents."""
    return to_money((Decimal(current_value) - Decimal(entry_value)) * quantity * multiplier - fees)
