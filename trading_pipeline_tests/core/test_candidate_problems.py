"""The candidate check judges each structure by its own rules: credit or debit, defined risk, limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from trading_pipeline.core.candidates import Premium, TradeCandidate, candidate_problems, is_defined_risk
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side

EXPIRATION = date(2025, 4, 25)


def _leg(strike: str, right: Right, side: Side) -> Leg:
    return Leg(OptionContract("SPY", EXPIRATION, Decimal(strike), right), side)


#: A 5-point put credit spread: sell the 500 put, buy the 495 put, for 1.50 at mid.
PUT_SPREAD = TradeCandidate(
    strategy="credit_spread",
    underlying="SPY",
    expiration=EXPIRATION,
    legs=(_leg("500", Right.PUT, Side.SELL), _leg("495", Right.PUT, Side.BUY)),
    quantity=1,
    mid_value=Decimal("-1.50"),
    natural_value=Decimal("-1.30"),
    limit_price=Decimal("-1.45"),
    buying_power=Decimal("350"),
    max_loss=Decimal("350"),
    breakevens=(498.5,),
    delta=-20.0,
    theta=3.0,
    vega=-4.0,
    score=0.2,
    rationale="test spread",
    premium=Premium.CREDIT,
)


def test_a_credit_spread_with_its_max_loss_is_well_formed() -> None:
    assert candidate_problems(PUT_SPREAD) == []


def test_a_mixed_structure_that_declares_no_premium_is_refused() -> None:
    assert candidate_problems(replace(PUT_SPREAD, premium=None)) == [
        "a structure of bought and sold legs must declare whether it is a credit or a debit"
    ]


def test_a_credit_structure_priced_as_a_debit_is_refused_and_a_debit_one_too() -> None:
    # Arrange: the same spread read as a debit, and a bought put priced as a credit
    as_debit = replace(PUT_SPREAD, premium=Premium.DEBIT)
    long_put = replace(
        PUT_SPREAD,
        legs=(_leg("500", Right.PUT, Side.BUY),),
        premium=None,
        mid_value=Decimal("-2.00"),
        natural_value=Decimal("-1.90"),
        limit_price=Decimal("-1.95"),
    )

    # Act / Assert
    assert candidate_problems(as_debit) == ["debit structure must have a positive mid value, got -1.50"]
    assert candidate_problems(long_put) == ["debit structure must have a positive mid value, got -2.00"]


def test_a_defined_risk_structure_without_its_max_loss_is_refused() -> None:
    assert candidate_problems(replace(PUT_SPREAD, max_loss=None)) == [
        "a defined-risk structure must state its max loss"
    ]


@pytest.mark.parametrize(
    ("legs", "defined"),
    [
        ((_leg("500", Right.PUT, Side.SELL), _leg("495", Right.PUT, Side.BUY)), True),
        (
            (
                _leg("500", Right.PUT, Side.SELL),
                _leg("495", Right.PUT, Side.BUY),
                _leg("540", Right.CALL, Side.SELL),
                _leg("545", Right.CALL, Side.BUY),
            ),
            True,
        ),
        ((_leg("500", Right.PUT, Side.SELL), _leg("545", Right.CALL, Side.BUY)), False),
        ((_leg("500", Right.PUT, Side.SELL), _leg("540", Right.CALL, Side.SELL)), False),
    ],
    ids=["vertical", "iron condor", "put covered by a call", "strangle"],
)
def test_defined_risk_means_every_short_is_covered_by_a_long_of_its_right_and_expiration(
    legs: tuple[Leg, ...], defined: bool
) -> None:
    assert is_defined_risk(legs) is defined


def test_a_limit_outside_mid_and_natural_is_refused() -> None:
    problems = candidate_problems(replace(PUT_SPREAD, limit_price=Decimal("-1.60")))
    assert problems == ["limit -1.60 must lie between mid -1.50 and natural -1.30"]
