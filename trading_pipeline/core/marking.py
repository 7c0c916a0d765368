"""Marking the book at a tick: each position at mid from the chain, or stale when a leg has no quote."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import pandas as pd

from trading_pipeline.core.chain import MissingLegError, leg_quotes, leg_rows
from trading_pipeline.core.fills import structure_price
from trading_pipeline.core.pnl import structure_pnl
from trading_pipeline.core.positions import GREEKS, Position, PositionMark, StaleMark


@dataclass(frozen=True)
class BookMarks:
    """One tick's marks: the positions marked at mid, and the stale ones (their last good mark stands)."""

    marks: tuple[PositionMark, ...]
    stale: tuple[StaleMark, ...]


def mark_position(position: Position, rows: pd.DataFrame, now: datetime) -> PositionMark:
    """Value a position at mid and total its greeks (per-share greeks x signed contracts x multiplier).

    A leg with NaN greeks (IV not solvable) still has a mid, so the value is known; the greeks it touches
    total to NaN (unknown) rather than to a partial sum.
    """
    mark_value = structure_price(position.legs, leg_quotes(rows), Decimal(0))
    size = [leg.signed_ratio * position.quantity * position.multiplier for leg in position.legs]
    totals = {g: float(sum(s * float(v) for s, v in zip(size, rows[g], strict=True))) for g in GREEKS}
    return PositionMark(
        position_id=position.position_id,
        marked_at=now,
        mark_value=mark_value,
        unrealized_pnl=structure_pnl(
            position.entry_value, mark_value, position.quantity, position.multiplier
        ),
        **totals,
    )


def mark_book(positions: Iterable[Position], chain: pd.DataFrame, now: datetime) -> BookMarks:
    """Mark every position from the chain; a position with a leg the chain does not quote is stale instead
    of failing the whole book, so the other positions can still be marked and exited."""
    marks, stale = [], []
    for position in positions:
        try:
            rows = leg_rows(chain, position.legs)
        except MissingLegError as exc:
            stale.append(StaleMark(position.position_id, now, str(exc)))
        else:
            marks.append(mark_position(position, rows, now))
    return BookMarks(tuple(marks), tuple(stale))


def book_greeks(marks: Iterable[PositionMark]) -> tuple[dict[str, float], int]:
    """(each greek summed over the marks that know it, number of marks with at least one unknown greek).

    Unknown (NaN) greeks are left out of the sums and counted, so one unsolvable leg neither turns the
    portfolio's greeks into NaN nor passes for zero unseen.
    """
    marks = list(marks)
    totals = {g: math.fsum(v for m in marks if not math.isnan(v := getattr(m, g))) for g in GREEKS}
    unknown = sum(any(math.isnan(getattr(m, g)) for g in GREEKS) for m in marks)
    return totals, unknown
