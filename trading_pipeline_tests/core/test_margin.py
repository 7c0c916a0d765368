"""Reg-T buying power of naked options and short strangles, checked against hand-computed numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from trading_pipeline.core.instruments import Right
from trading_pipeline.core.margin import (
    naked_base_pct,
    naked_option_requirement,
    short_strangle_requirement,
    uncovered_requirement,
)

SPOT = Decimal("500")


@pytest.mark.parametrize(
    ("strike", "premium", "expected"),
    [
        # max(0.2*500 - 50, 0.1*450) + 2.00 = 52.00 per share
        ("450", "2.00", "5200.00"),
        # deep OTM: 0.2*500 - 200 = -100 < 10% of the strike (30): 30 + 0.10
        ("300", "0.10", "3010.00"),
        # in the money: no OTM amount, 0.2*500 = 100 > 52: 100 + 22.00
        ("520", "22.00", "12200.00"),
    ],
    ids=["otm-20pct-rule", "otm-10pct-of-strike-floor", "itm"],
)
def test_naked_put_requirement_matches_hand_computation(strike: str, premium: str, expected: str) -> None:
    # Act
    requirement = naked_option_requirement(Right.PUT, Decimal(strike), SPOT, Decimal(premium), 100)

    # Assert
    assert requirement == Decimal(expected)


@pytest.mark.parametrize(
    ("strike", "premium", "expected"),
    [
        # max(0.2*500 - 30, 0.1*500) + 3.00 = 73.00 per share
        ("530", "3.00", "7300.00"),
        # far OTM: 0.2*500 - 100 = 0 < 10% of the underlying (50): 50 + 0.25
        ("600", "0.25", "5025.00"),
        # in the money: 0.2*500 + 21.00
        ("480", "21.00", "12100.00"),
    ],
    ids=["otm-20pct-rule", "otm-10pct-of-underlying-floor", "itm"],
)
def test_naked_call_requirement_matches_hand_computation(strike: str, premium: str, expected: str) -> None:
    # Act
    requirement = naked_option_requirement(Right.CALL, Decimal(strike), SPOT, Decimal(premium), 100)

    # Assert
    assert requirement == Decimal(expected)


def test_naked_requirement_is_rounded_to_cents() -> None:
    # Act: (0.2*500 - 50 + 1.2345) * 100 = 5123.45
    requirement = naked_option_requirement(Right.PUT, Decimal("450"), SPOT, Decimal("1.2345"), 100)

    # Assert
    assert requirement == Decimal("5123.45")
    assert requirement.as_tuple().exponent == -2


def test_strangle_requirement_uses_larger_call_side_plus_put_premium() -> None:
    # Arrange: put 450 @ 2.00 needs 5200; call 530 @ 3.00 needs 7300.

    # Act
    requirement = short_strangle_requirement(
        Decimal("450"), Decimal("530"), SPOT, Decimal("2.00"), Decimal("3.00"), 100
    )

    # Assert: 7300 + 2.00 * 100
    assert requirement == Decimal("7500.00")


def test_strangle_requirement_uses_larger_put_side_plus_call_premium() -> None:
    # Arrange: put 480 @ 4.00 needs (100 - 20 + 4) * 100 = 8400; call 560 @ 1.00 needs (50 + 1) * 100 = 5100.

    # Act
    requirement = short_strangle_requirement(
        Decimal("480"), Decimal("560"), SPOT, Decimal("4.00"), Decimal("1.00"), 100
    )

    # Assert: 8400 + 1.00 * 100
    assert requirement == Decimal("8500.00")


def test_strangle_requirement_is_below_the_sum_of_both_naked_requirements() -> None:
    # Arrange
    put_req = naked_option_requirement(Right.PUT, Decimal("450"), SPOT, Decimal("2.00"), 100)
    call_req = naked_option_requirement(Right.CALL, Decimal("530"), SPOT, Decimal("3.00"), 100)

    # Act
    strangle = short_strangle_requirement(
        Decimal("450"), Decimal("530"), SPOT, Decimal("2.00"), Decimal("3.00"), 100
    )

    # Assert
    assert max(put_req, call_req) < strangle < put_req + call_req


def test_broad_based_index_options_need_15_percent_of_the_index_not_20() -> None:
    spx = naked_option_requirement(
        Right.PUT, Decimal("4000"), Decimal("4400"), Decimal("5.00"), 100, naked_base_pct("SPXW")
    )
    # 15% of 4400 = 660, less 400 out of the money = 260; the floor 10% of 4000 = 400 wins; + 5 premium.
    assert spx == Decimal("40500.00")
    near = naked_option_requirement(
        Right.PUT, Decimal("4300"), Decimal("4400"), Decimal("20.00"), 100, naked_base_pct("SPX")
    )
    assert near == Decimal("58000.00")  # 660 - 100 = 560 > 430; + 20
    assert naked_base_pct("SPY") == Decimal("0.20") and naked_base_pct("XSP") == Decimal("0.15")


def test_uncovered_shorts_take_the_largest_requirement_plus_the_other_premiums() -> None:
    shorts = [
        (Right.PUT, Decimal("450"), Decimal("2.00")),
        (Right.CALL, Decimal("530"), Decimal("3.00")),
        (Right.PUT, Decimal("440"), Decimal("1.50")),
    ]
    largest = max(naked_option_requirement(r, k, SPOT, p, 100) for r, k, p in shorts)
    total = uncovered_requirement(shorts, SPOT, 100)
    assert total > largest
    assert uncovered_requirement([], SPOT, 100) == Decimal("0.00")
