"""Reconciliation: what the broker holds and reports, compared with what the ledger knows.

A difference the ledger cannot explain is a break: it is recorded, alerted, and blocks new entries
(exits still run) until the next reconciliation finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from trading_pipeline.core.instruments import net_contracts
from trading_pipeline.core.positions import Position


class BreakKind(StrEnum):
    UNKNOWN_ORDER = "unknown_order"  # a broker order under our prefix the ledger never recorded
    POSITION_MISMATCH = "position_mismatch"  # broker and ledger hold different contracts
    ORDER_CONFLICT = "order_conflict"  # the broker reports an order state the ledger cannot take
    UNCONFIRMED_CLAIM = "unconfirmed_claim"  # claimed for sending, the broker never heard of it


@dataclass(frozen=True)
class ReconciliationBreak:
    """One unexplained difference between the broker and the ledger, with a readable detail."""

    kind: BreakKind
    subject: str
    detail: str


def ledger_contracts(open_positions: Iterable[Position]) -> dict[str, int]:
    """Signed contracts per OCC symbol held by the ledger's open positions."""
    return net_contracts((position.legs, position.quantity) for position in open_positions)


def position_breaks(ledger: Mapping[str, int], broker: Mapping[str, int]) -> list[ReconciliationBreak]:
    """Every contract whose signed quantity differs between the ledger and the broker."""
    breaks = []
    for symbol in sorted(set(ledger) | set(broker)):
        ours, theirs = ledger.get(symbol, 0), broker.get(symbol, 0)
        if ours != theirs:
            breaks.append(
                ReconciliationBreak(
                    BreakKind.POSITION_MISMATCH,
                    symbol,
                    f"broker holds {theirs:+d} contracts of {symbol}, the ledger {ours:+d}",
                )
            )
    return breaks
