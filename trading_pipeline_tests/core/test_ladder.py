"""The limit-price ladder: wait, step toward natural, cancel after the last step or at the cut-off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from trading_pipeline.core.calendar import at_et
from trading_pipeline.core.fills import LegQuote
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.ladder import (
    LadderMove,
    LadderParams,
    OrderStep,
    StepKind,
    StepStatus,
    WorkingOrder,
    ladder_action,
    working_order,
)
from trading_pipeline.core.margin import worst_expiry_payoff
from trading_pipeline_tests.adapters.ledger.builders import opening_intent

#: The strangle of ledger.builders: sells of the 540 put (1.10/1.30) and 600.5 call (1.00/1.20); mid 2.30,
#: natural 2.10 (a credit of 2.10 at the bids).
QUOTES = (LegQuote(Decimal("1.10"), Decimal("1.30")), LegQuote(Decimal("1.00"), Decimal("1.20")))
PARAMS = LadderParams(
    start_fraction=Decimal("0.25"),
    step_fraction=Decimal("0.25"),
    step_wait=timedelta(minutes=5),
    max_steps=3,
    cancel_before_close=timedelta(minutes=10),
)
SESSION = date(2025, 3, 14)
SENT = at_et(SESSION, datetime.min.time().replace(hour=10, minute=30))
INTENT = opening_intent(limit_price="-2.25")


def _order(step: int = 0, limit: str = "-2.25", since: datetime = SENT) -> WorkingOrder:
    return WorkingOrder(INTENT, step, Decimal(limit), since)


def test_an_order_inside_its_wait_waits_saying_how_long_it_has_worked() -> None:
    action = ladder_action(_order(), QUOTES, SENT + timedelta(minutes=3), PARAMS)

    assert action.move is LadderMove.WAIT
    assert action.reason == "working at -2.25 for 3 min of 5 min"


def test_after_its_wait_the_order_steps_a_quarter_of_the_half_spread_toward_natural() -> None:
    # Act
    action = ladder_action(_order(), QUOTES, SENT + timedelta(minutes=5), PARAMS)

    # Assert: 50% of the half-spread (0.10 per leg) from mid 2.30: a credit of 2.20
    assert (action.move, action.step, action.limit_price) == (LadderMove.STEP, 1, Decimal("-2.20"))
    assert action.reason == "step 1 of 3: -2.25 -> -2.20 (50% of the half-spread toward natural)"


def test_the_steps_never_go_past_the_natural_price() -> None:
    params = replace(PARAMS, step_fraction=Decimal("0.5"), max_steps=5)

    action = ladder_action(_order(step=2, limit="-2.15"), QUOTES, SENT + timedelta(minutes=30), params)

    assert (action.move, action.limit_price) == (LadderMove.STEP, Decimal("-2.10"))


def test_after_the_last_steps_wait_the_order_is_cancelled() -> None:
    action = ladder_action(_order(step=3, limit="-2.10"), QUOTES, SENT + timedelta(minutes=6), PARAMS)

    assert action.move is LadderMove.CANCEL
    assert action.reason == "unfilled at -2.10 after the last of 3 steps and 6 min"


def test_at_the_cut_off_before_the_close_the_order_is_cancelled_whatever_its_step() -> None:
    # Arrange: 2025-11-28 closes at 13:00 ET, so the cut-off is 12:50 ET
    half_day = at_et(date(2025, 11, 28), datetime.min.time().replace(hour=12, minute=50))

    action = ladder_action(_order(since=half_day - timedelta(minutes=1)), QUOTES, half_day, PARAMS)

    assert action.move is LadderMove.CANCEL
    assert action.reason == "cut-off 12:50 ET reached unfilled at -2.25"


def test_without_quotes_the_ladder_waits_instead_of_stepping_blind() -> None:
    action = ladder_action(_order(), None, SENT + timedelta(minutes=10), PARAMS)

    assert action.move is LadderMove.WAIT
    assert "does not step blind" in action.reason


def test_a_step_no_more_aggressive_than_the_working_limit_waits() -> None:
    # Arrange: the working limit already gives up more than step 1 would
    action = ladder_action(_order(limit="-2.15"), QUOTES, SENT + timedelta(minutes=5), PARAMS)

    assert action.move is LadderMove.WAIT
    assert action.reason.startswith("step 1 would price -2.20, not beyond the working -2.15")


def _step(number: int, status: StepStatus, limit: str | None, minutes: int) -> OrderStep:
    at = SENT + timedelta(minutes=minutes)
    return OrderStep(
        INTENT.client_order_id,
        number,
        StepKind.REPLACE,
        None if limit is None else Decimal(limit),
        at,
        "run",
        "r",
        status,
        at if status is not StepStatus.REQUESTED else None,
    )


def test_the_working_state_comes_from_the_last_confirmed_step_and_counts_unanswered_ones_as_taken() -> None:
    # Act
    fresh = working_order(INTENT, [], SENT)
    stepped = working_order(INTENT, [_step(1, StepStatus.CONFIRMED, "-2.20", 5)], SENT)
    pending = working_order(
        INTENT,
        [_step(1, StepStatus.CONFIRMED, "-2.20", 5), _step(2, StepStatus.REQUESTED, "-2.15", 10)],
        SENT,
    )

    # Assert
    assert (fresh.step, fresh.limit_price, fresh.working_since) == (0, Decimal("-2.25"), SENT)
    assert (stepped.step, stepped.limit_price) == (1, Decimal("-2.20"))
    assert stepped.working_since == SENT + timedelta(minutes=5)
    assert (pending.step, pending.limit_price) == (2, Decimal("-2.20"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_fraction", Decimal("1.5")),
        ("step_fraction", Decimal(0)),
        ("step_wait", timedelta(0)),
        ("max_steps", -1),
    ],
)
def test_ladder_params_out_of_bounds_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        replace(PARAMS, **{field: value})


def _leg(right: Right, strike: str, side: Side) -> Leg:
    return Leg(OptionContract("SPY", date(2025, 4, 17), Decimal(strike), right), side)


@pytest.mark.parametrize(
    ("legs", "worst"),
    [
        ((_leg(Right.PUT, "540", Side.SELL), _leg(Right.PUT, "535", Side.BUY)), Decimal("-5")),
        (
            (
                _leg(Right.PUT, "540", Side.SELL),
                _leg(Right.PUT, "530", Side.BUY),
                _leg(Right.CALL, "600", Side.SELL),
                _leg(Right.CALL, "605", Side.BUY),
            ),
            Decimal("-10"),
        ),
        ((_leg(Right.PUT, "540", Side.SELL),), Decimal("-540")),
        ((_leg(Right.CALL, "600", Side.SELL),), None),
    ],
    ids=["put-spread", "condor-wider-put-side", "naked-put", "naked-call-unbounded"],
)
def test_the_worst_expiry_payoff_of_a_structure(legs: tuple[Leg, ...], worst: Decimal | None) -> None:
    assert worst_expiry_payoff(legs) == worst
