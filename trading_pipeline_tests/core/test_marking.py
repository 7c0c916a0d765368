"""Marking the book: positions at mid with greek totals, stale positions when a leg has no quote, and
portfolio greek totals that skip (and count) unknown greeks."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.marking import book_greeks, mark_book, mark_position
from trading_pipeline.core.positions import Position, PositionMark, StaleMark
from trading_pipeline_tests.core.chain_builders import NOW, enriched_chain

EXPIRY = date(2025, 4, 25)  # 42 days after NOW


def strangle(position_id: str, put: int, call: int, quantity: int = 2) -> Position:
    legs = (
        Leg(OptionContract("SPY", EXPIRY, Decimal(put), Right.PUT), Side.SELL),
        Leg(OptionContract("SPY", EXPIRY, Decimal(call), Right.CALL), Side.SELL),
    )
    return Position(position_id, "short_strangle", "SPY", legs, quantity, Decimal("-3.00"), NOW)


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    return enriched_chain(dtes=(42,), strikes=range(440, 565, 5))


def row_of(chain: pd.DataFrame, leg: Leg) -> pd.Series:
    return chain[chain["occ_symbol"] == leg.contract.occ_symbol].iloc[0]


def test_mark_position_values_at_mid_and_totals_greeks_per_contract_and_multiplier(
    chain: pd.DataFrame,
) -> None:
    # Arrange
    position = strangle("P-1", 460, 540)
    put, call = (row_of(chain, leg) for leg in position.legs)

    # Act
    mark = mark_position(
        position, chain.set_index("occ_symbol").loc[[put["occ_symbol"], call["occ_symbol"]]], NOW
    )

    # Assert: short both legs, 2 contracts of 100 shares
    assert mark.mark_value == -(Decimal(str(put["mid"])) + Decimal(str(call["mid"])))
    assert mark.unrealized_pnl == (mark.mark_value - Decimal("-3.00")) * 2 * 100
    assert mark.delta == pytest.approx(-200 * (put["delta"] + call["delta"]))
    assert mark.vega == pytest.approx(-200 * (put["vega"] + call["vega"]))


def test_mark_book_marks_quoted_positions_and_makes_the_one_with_a_missing_leg_stale(
    chain: pd.DataFrame,
) -> None:
    # Arrange: the second strangle's 600 call is not listed in the chain (strikes stop at 560)
    quoted, unquoted = strangle("P-1", 460, 540), strangle("P-2", 455, 600)

    # Act
    book = mark_book([quoted, unquoted], chain, NOW)

    # Assert
    assert [m.position_id for m in book.marks] == ["P-1"]
    assert book.stale == (StaleMark("P-2", NOW, f"no quote for {unquoted.legs[1].contract.occ_symbol}"),)


def test_mark_book_of_an_empty_book_is_empty(chain: pd.DataFrame) -> None:
    # Act
    book = mark_book([], chain, NOW)

    # Assert
    assert (book.marks, book.stale) == ((), ())


def test_a_leg_without_iv_is_marked_at_mid_and_the_greeks_it_touches_are_unknown(chain: pd.DataFrame) -> None:
    # Arrange
    position = strangle("P-1", 460, 540)
    no_iv = chain.copy()
    put = no_iv["occ_symbol"] == position.legs[0].contract.occ_symbol
    no_iv.loc[put, ["iv", "delta", "gamma", "vega", "theta"]] = math.nan

    # Act
    [mark] = mark_book([position], no_iv, NOW).marks

    # Assert
    [expected] = mark_book([position], chain, NOW).marks
    assert mark.mark_value == expected.mark_value
    assert all(math.isnan(getattr(mark, greek)) for greek in ("delta", "gamma", "vega", "theta"))


def test_book_greeks_skip_unknown_greeks_and_count_the_marks_that_have_them() -> None:
    # Arrange
    def mark(position_id: str, delta: float, vega: float) -> PositionMark:
        return PositionMark(position_id, NOW, Decimal("-2"), Decimal("0"), delta, -1.0, vega, 5.0)

    marks = [mark("P-1", 10.0, -40.0), mark("P-2", math.nan, -20.0), mark("P-3", -4.0, math.nan)]

    # Act
    totals, unknown = book_greeks(marks)

    # Assert
    assert totals == {"delta": 6.0, "gamma": -3.0, "vega": -60.0, "theta": 15.0}
    assert unknown == 2
