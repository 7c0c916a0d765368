"""Strangle roll adjustment: the untested side rolled to the target delta when spot nears a short strike, the
roll out for a net credit, and every case where nothing is planned."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from trading_pipeline.core.adjustments import StrangleRollParams, plan_strangle_roll
from trading_pipeline.core.chain import leg_quotes, leg_rows
from trading_pipeline.core.decision import plan_exits
from trading_pipeline.core.decisions import DecisionKind
from trading_pipeline.core.fills import limit_price
from trading_pipeline.core.instruments import Leg, Right, Side
from trading_pipeline.core.orders import OrderIntent, PositionEffect
from trading_pipeline.core.positions import (
    Fill,
    FillMismatchError,
    Position,
    PositionMark,
    PositionStatus,
    apply_fill,
    positions_from_fills,
)
from trading_pipeline.core.strategies.short_strangle import (
    ShortStrangle,
    ShortStrangleParams,
    short_strangle_candidates,
)
from trading_pipeline_tests.core.chain_builders import NOW, enriched_chain

LIMIT_FRACTION = Decimal("0.5")
SESSION = NOW.date()
ROLLING = ShortStrangleParams(roll=StrangleRollParams(enabled=True))


@pytest.fixture(scope="module")
def strangle() -> Position:
    """Two 16-delta SPY strangles sold at spot 500, 42 DTE: the 470 put and the 540 call."""
    chain = enriched_chain()
    candidate = short_strangle_candidates(
        chain, 50.0, True, "range_calm", ShortStrangleParams(), LIMIT_FRACTION, NOW
    ).candidates[0]
    strikes = [leg.contract.strike for leg in candidate.legs]
    assert strikes == [Decimal("470"), Decimal("540")]
    return Position("P-1", "short_strangle", "SPY", candidate.legs, 2, candidate.limit_price, NOW)


def _delta(chain: pd.DataFrame, symbol: str) -> float:
    return float(chain.loc[chain["occ_symbol"] == symbol, "delta"].iloc[0])


def test_spot_at_the_put_strike_rolls_the_untested_call_to_16_delta_in_the_same_expiration(
    strangle: Position,
) -> None:
    # Arrange: spot falls from 500 to the 470 put strike
    chain = enriched_chain(spot=470.0)

    # Act
    plan = plan_strangle_roll(strangle, chain, ROLLING, LIMIT_FRACTION, SESSION, NOW)

    # Assert: one two-leg ROLL order: buy back the 540 call, sell the call nearest 16 delta, same expiration
    assert plan is not None
    intent = plan.intent
    old_call, new_call = intent.legs
    assert (old_call.side, old_call.contract) == (Side.BUY, strangle.legs[1].contract)
    assert new_call.side is Side.SELL and new_call.contract.right is Right.CALL
    assert new_call.contract.expiration == strangle.legs[1].contract.expiration
    assert abs(_delta(chain, new_call.contract.occ_symbol) - 0.16) <= ROLLING.max_delta_error
    assert new_call.contract.strike == Decimal("505")
    assert (intent.effect, intent.position_id, intent.quantity) == (PositionEffect.ROLL, "P-1", 2)
    # A credit (negative), priced like every other order from the legs' quotes
    assert intent.limit_price == limit_price(
        intent.legs, leg_quotes(leg_rows(chain, intent.legs)), LIMIT_FRACTION
    )
    assert intent.limit_price < 0
    assert intent.reason.startswith(
        "roll: spot 470.00 is 0.00 points from the short put 470 (trigger 9.40: 2%"
    )
    assert f"net credit {-intent.limit_price}" in intent.reason


def test_a_roll_is_recorded_as_a_roll_decision_naming_its_intent_with_deterministic_ids(
    strangle: Position,
) -> None:
    # Arrange
    chain = enriched_chain(spot=470.0)

    # Act
    plan = plan_strangle_roll(strangle, chain, ROLLING, LIMIT_FRACTION, SESSION, NOW)
    again = plan_strangle_roll(strangle, chain, ROLLING, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert plan is not None and plan == again
    assert plan.decision.kind is DecisionKind.ROLL and plan.decision.approved
    assert plan.decision.client_order_id == plan.intent.client_order_id
    assert plan.intent.tags == {"decision_id": plan.decision.decision_id}
    assert plan.decision.reasons == (plan.intent.reason,)


def test_spot_near_the_call_strike_rolls_the_untested_put_up(strangle: Position) -> None:
    # Act: spot rises to 535, 5 points under the 540 call
    plan = plan_strangle_roll(strangle, enriched_chain(spot=535.0), ROLLING, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert plan is not None
    old_put, new_put = plan.intent.legs
    assert (old_put.side, old_put.contract) == (Side.BUY, strangle.legs[0].contract)
    assert new_put.side is Side.SELL and new_put.contract.right is Right.PUT
    assert new_put.contract.strike > old_put.contract.strike


def test_the_roll_is_off_by_default_so_packaged_runs_are_unchanged(strangle: Position) -> None:
    assert (
        plan_strangle_roll(
            strangle, enriched_chain(spot=470.0), ShortStrangleParams(), LIMIT_FRACTION, SESSION, NOW
        )
        is None
    )


def test_spot_outside_the_trigger_distance_plans_nothing(strangle: Position) -> None:
    # Act: 490 is 20 points (4.1%) above the put and 50 below the call; the trigger is 2% of spot
    plan = plan_strangle_roll(strangle, enriched_chain(spot=490.0), ROLLING, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert plan is None


@pytest.mark.parametrize(("moves", "rolls"), [(0.5, True), (0.1, False)], ids=["inside", "outside"])
def test_expected_move_trigger_measures_the_distance_in_expected_moves(
    strangle: Position, moves: float, rolls: bool
) -> None:
    # Arrange: spot 475 is 5 points above the put; one expected move to the 42-DTE expiry is ~32 points
    roll = StrangleRollParams(enabled=True, trigger="expected_move", trigger_expected_moves=moves)
    params = ShortStrangleParams(roll=roll)

    # Act
    plan = plan_strangle_roll(strangle, enriched_chain(spot=475.0), params, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert (plan is not None) is rolls
    assert plan is None or f"{moves:g} expected moves of " in plan.intent.reason


def test_an_untested_side_already_at_the_target_delta_is_not_rolled_again(strangle: Position) -> None:
    # Arrange: the strangle after its call was rolled to the 505 (16 delta at spot 470)
    chain = enriched_chain(spot=470.0)
    first = plan_strangle_roll(strangle, chain, ROLLING, LIMIT_FRACTION, SESSION, NOW)
    assert first is not None
    rolled = Position(
        "P-1", "short_strangle", "SPY", (strangle.legs[0], first.intent.legs[1]), 2, Decimal("-5"), NOW
    )

    # Act
    again = plan_strangle_roll(rolled, chain, ROLLING, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert again is None


def test_a_position_with_an_unquoted_leg_is_left_to_the_stale_handling(strangle: Position) -> None:
    # Arrange: the chain lost the 540 call's quote
    chain = enriched_chain(spot=470.0)
    chain = chain[chain["occ_symbol"] != strangle.legs[1].contract.occ_symbol]

    # Act / Assert
    assert plan_strangle_roll(strangle, chain, ROLLING, LIMIT_FRACTION, SESSION, NOW) is None


def test_a_breached_strangle_rolls_out_to_the_next_window_expiration_for_a_net_credit(
    strangle: Position,
) -> None:
    # Arrange: spot 468 is through the 470 put; the 49-DTE expiration is priced at 50% vol (rich premium)
    chain = pd.concat(
        [enriched_chain(spot=468.0, dtes=(42,)), enriched_chain(spot=468.0, dtes=(49,), vol=0.50)],
        ignore_index=True,
    )
    params = ShortStrangleParams(roll=StrangleRollParams(enabled=True, roll_out=True))

    # Act
    plan = plan_strangle_roll(strangle, chain, params, LIMIT_FRACTION, SESSION, NOW)

    # Assert: both legs bought back, both sold again on the later expiration at ~16 delta, for a credit
    assert plan is not None
    legs = plan.intent.legs
    assert [leg.side for leg in legs] == [Side.BUY, Side.BUY, Side.SELL, Side.SELL]
    assert [leg.contract for leg in legs[:2]] == [leg.contract for leg in strangle.legs]
    assert {leg.contract.expiration for leg in legs[2:]} == {date(2025, 5, 2)}  # 49 DTE
    assert all(abs(abs(_delta(chain, leg.contract.occ_symbol)) - 0.16) <= 0.03 for leg in legs[2:])
    assert plan.intent.limit_price < 0 and "roll out to " in plan.intent.reason


def test_a_roll_out_that_would_cost_a_debit_falls_back_to_rolling_the_untested_side(
    strangle: Position,
) -> None:
    # Arrange: flat 20% vol: rolling the breached strangle out at 16 delta would cost a debit
    params = ShortStrangleParams(roll=StrangleRollParams(enabled=True, roll_out=True))

    # Act
    plan = plan_strangle_roll(strangle, enriched_chain(spot=468.0), params, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert plan is not None and len(plan.intent.legs) == 2
    assert plan.intent.reason.startswith(
        "roll: spot 468.00 is through the short put 470; roll the untested call"
    )


# --- a roll's fill applied to the position ------------------------------------------------------------------


def _opened(legs: tuple[Leg, ...], quantity: int = 2) -> Position:
    """The strangle opened by a fill of 2.60 (put) and 2.80 (call): a 5.40 credit per unit."""
    opening = OrderIntent(
        "P-1", "short_strangle", SESSION, NOW, "SPY", legs, quantity, Decimal("-5.40"), PositionEffect.OPEN
    )
    fill = Fill(
        "F-open",
        "P-1",
        "B-1",
        NOW,
        quantity,
        Decimal("-5.40"),
        (Decimal("2.60"), Decimal("2.80")),
        Decimal("2.60"),
    )
    return apply_fill(None, opening, fill)


def _roll_fill(plan_intent: OrderIntent, quantity: int, prices: tuple[str, ...]) -> Fill:
    legs, values = plan_intent.legs, tuple(Decimal(p) for p in prices)
    net = sum((leg.signed_ratio * price for leg, price in zip(legs, values, strict=True)), Decimal(0))
    return Fill("F-roll", plan_intent.client_order_id, "B-2", NOW, quantity, net, values, Decimal("2.60"))


def test_a_roll_fill_swaps_the_untested_leg_and_books_its_realized_pnl(strangle: Position) -> None:
    # Arrange: the call sold at 2.80 is bought back at 0.30 and the 505 call sold at 2.50
    position = _opened(strangle.legs)
    plan = plan_strangle_roll(position, enriched_chain(spot=470.0), ROLLING, LIMIT_FRACTION, SESSION, NOW)
    assert plan is not None

    # Act
    rolled = apply_fill(position, plan.intent, _roll_fill(plan.intent, 2, ("0.30", "2.50")))

    # Assert: (2.80 - 0.30) x 2 units x 100 realized; the put stays, the new call joins at its fill price
    assert rolled.realized_pnl == Decimal("500.00")
    assert rolled.legs == (strangle.legs[0], plan.intent.legs[1])
    assert rolled.leg_entry_prices == (Decimal("2.60"), Decimal("2.50"))
    assert (rolled.entry_value, rolled.quantity, rolled.fees) == (Decimal("-5.10"), 2, Decimal("5.20"))
    assert rolled.status is PositionStatus.OPEN and rolled.position_id == "P-1"


def test_replaying_the_fills_gives_the_rolled_position(strangle: Position) -> None:
    # Arrange
    position = _opened(strangle.legs)
    plan = plan_strangle_roll(position, enriched_chain(spot=470.0), ROLLING, LIMIT_FRACTION, SESSION, NOW)
    assert plan is not None
    opening = OrderIntent(
        "P-1", "short_strangle", SESSION, NOW, "SPY", strangle.legs, 2, Decimal("-5.40"), PositionEffect.OPEN
    )
    open_fill = Fill(
        "F-open", "P-1", "B-1", NOW, 2, Decimal("-5.40"), (Decimal("2.60"), Decimal("2.80")), Decimal("2.60")
    )
    roll_fill = replace(_roll_fill(plan.intent, 2, ("0.30", "2.50")), filled_at=NOW + timedelta(hours=1))

    # Act
    [replayed] = positions_from_fills([(opening, open_fill), (plan.intent, roll_fill)])

    # Assert
    assert replayed == apply_fill(position, plan.intent, roll_fill)


def test_a_partial_roll_fill_is_refused_naming_the_quantities(strangle: Position) -> None:
    # Arrange
    position = _opened(strangle.legs)
    plan = plan_strangle_roll(position, enriched_chain(spot=470.0), ROLLING, LIMIT_FRACTION, SESSION, NOW)
    assert plan is not None

    # Act / Assert
    with pytest.raises(FillMismatchError, match="roll fill F-roll of 1 must move the whole open quantity 2"):
        apply_fill(position, plan.intent, _roll_fill(plan.intent, 1, ("0.30", "2.50")))


def test_a_roll_of_a_position_without_leg_entry_prices_is_refused(strangle: Position) -> None:
    # Arrange: a position recorded before legs' prices were kept
    plan = plan_strangle_roll(strangle, enriched_chain(spot=470.0), ROLLING, LIMIT_FRACTION, SESSION, NOW)
    assert plan is not None

    # Act / Assert
    with pytest.raises(FillMismatchError, match="needs a price for every leg"):
        apply_fill(strangle, plan.intent, _roll_fill(plan.intent, 2, ("0.30", "2.50")))


# --- where exits are planned --------------------------------------------------------------------------------


def test_plan_exits_rolls_a_tested_strangle_and_an_exit_wins_over_a_roll(strangle: Position) -> None:
    # Arrange: spot at the put strike; marked near entry (no exit) and at a 2.2x loss (loss stop)
    chain = enriched_chain(spot=470.0)
    strategies = {"short_strangle": ShortStrangle(ROLLING)}

    def mark(value: str) -> dict[str, PositionMark]:
        return {"P-1": PositionMark("P-1", NOW, Decimal(value), Decimal(0), 0.0, 0.0, 0.0, 1.0)}

    # Act
    [rolled] = plan_exits([strangle], mark("-6.00"), chain, strategies, LIMIT_FRACTION, SESSION, NOW)
    [closed] = plan_exits([strangle], mark("-17.00"), chain, strategies, LIMIT_FRACTION, SESSION, NOW)

    # Assert
    assert rolled.intent.effect is PositionEffect.ROLL and rolled.decision.kind is DecisionKind.ROLL
    assert closed.intent.effect is PositionEffect.CLOSE
    assert closed.decision.reasons[0].startswith("loss stop: ")
