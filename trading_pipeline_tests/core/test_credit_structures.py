"""Credit spreads and iron condors: side by regime, wings, max loss, stand-aside reasons, real chains."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from trading_pipeline.core.candidates import TradeCandidate, candidate_problems
from trading_pipeline.core.fills import price_tick
from trading_pipeline.core.instruments import Right, Side
from trading_pipeline.core.regime import MarketRegime, RegimeName, RegimeParams
from trading_pipeline.core.regime_history import classify_regime
from trading_pipeline.core.selection import expected_move
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.credit_spread import CreditSpread, CreditSpreadParams
from trading_pipeline.core.strategies.iron_condor import IronCondor, IronCondorParams
from trading_pipeline.core.strategies.names import DEFAULT_PERMISSIONS
from trading_pipeline_tests.core.chain_builders import NOW, enriched_chain
from trading_pipeline_tests.real_market_data import enriched_real_chain, needs_market_data


def _regime(name: RegimeName = RegimeName.RANGE_CALM, **changes: object) -> MarketRegime:
    closes = pd.Series(np.full(200, 100.0), index=pd.bdate_range("2023-01-02", periods=200))
    regime = classify_regime(closes, vix=18.0, iv_rank=None, params=RegimeParams())
    return replace(regime, name=name, permissions=DEFAULT_PERMISSIONS[name], **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    """SPY at 500, strikes every 5 from 400 to 600, expirations at 30, 42, 49 and 60 DTE."""
    return enriched_chain()


def _context(
    chain: pd.DataFrame, regime: MarketRegime | None = None, iv_rank: float = 50.0
) -> StrategyContext:
    return StrategyContext(
        now=NOW,
        chains=chain,
        iv_ranks={"SPY": iv_rank},
        regime=regime or _regime(),
        limit_fraction=Decimal("0.5"),
    )


def _only(outcome: object) -> TradeCandidate:
    assert outcome.skipped == (), outcome.skipped  # type: ignore[attr-defined]
    (candidate,) = outcome.candidates  # type: ignore[attr-defined]
    return candidate


def _sides(candidate: TradeCandidate) -> list[tuple[Side, Right, float]]:
    return [(leg.side, leg.contract.right, float(leg.contract.strike)) for leg in candidate.legs]


@pytest.mark.parametrize(
    ("regime", "right"),
    [
        (RegimeName.BULL_CALM, Right.PUT),
        (RegimeName.BULL_VOLATILE, Right.PUT),
        (RegimeName.BEAR_CALM, Right.CALL),
        (RegimeName.BEAR_VOLATILE, Right.CALL),
        (RegimeName.RANGE_CALM, Right.PUT),
    ],
)
def test_a_credit_spread_sells_the_side_its_regime_calls_for(
    chain: pd.DataFrame, regime: RegimeName, right: Right
) -> None:
    # Act
    candidate = _only(CreditSpread(CreditSpreadParams()).propose(_context(chain, _regime(regime))))

    # Assert: one sold and one bought contract of that right, the bought one 5 points further out
    (sell_side, sell_right, sold), (buy_side, buy_right, bought) = _sides(candidate)
    assert (sell_side, buy_side) == (Side.SELL, Side.BUY) and sell_right == buy_right == right
    assert bought == (sold - 5 if right is Right.PUT else sold + 5)


def test_the_underlyings_own_regime_decides_the_side_over_the_markets(chain: pd.DataFrame) -> None:
    # Arrange: the market is bullish, SPY's own closes bearish
    regime = _regime(RegimeName.BULL_CALM, by_underlying={"SPY": RegimeName.BEAR_CALM})

    # Act
    candidate = _only(CreditSpread(CreditSpreadParams()).propose(_context(chain, regime)))

    # Assert
    assert {leg.contract.right for leg in candidate.legs} == {Right.CALL}


def test_a_sideways_market_sells_no_spread_when_configured_so_naming_the_regime(chain: pd.DataFrame) -> None:
    # Act
    outcome = CreditSpread(CreditSpreadParams(sideways_side="none")).propose(_context(chain))

    # Assert
    assert outcome.candidates == ()
    assert outcome.skipped == ("regime range_calm calls for no credit spread side",)


def test_a_credit_spreads_max_loss_and_buying_power_are_width_less_the_credit_at_the_limit(
    chain: pd.DataFrame,
) -> None:
    # Act
    candidate = _only(CreditSpread(CreditSpreadParams(contracts=3)).propose(_context(chain)))

    # Assert: 5 wide, credit at the limit price that will be sent, x100 per contract
    credit_at_limit = -candidate.limit_price
    assert candidate.max_loss == candidate.buying_power == (Decimal(5) - credit_at_limit) * 100
    assert candidate.max_loss * candidate.quantity == (Decimal(5) - credit_at_limit) * 100 * 3
    assert candidate.mid_value < candidate.limit_price < 0
    assert candidate_problems(candidate) == []


def test_a_credit_spreads_short_strike_is_near_its_delta_and_its_breakeven_is_short_less_credit(
    chain: pd.DataFrame,
) -> None:
    # Act
    candidate = _only(CreditSpread(CreditSpreadParams()).propose(_context(chain)))

    # Assert
    sold = candidate.legs[0].contract
    row = chain.loc[chain["occ_symbol"] == sold.occ_symbol].iloc[0]
    assert abs(abs(row["delta"]) - 0.25) <= 0.05
    assert candidate.breakevens == (pytest.approx(float(sold.strike) - float(candidate.credit)),)
    assert candidate.delta > 0  # a bullish put spread is long delta
    assert candidate.theta > 0  # and earns time decay


def test_an_iron_condor_sells_both_sides_on_one_expiration_with_wings_outside(chain: pd.DataFrame) -> None:
    # Act
    candidate = _only(IronCondor(IronCondorParams()).propose(_context(chain)))

    # Assert
    sides = _sides(candidate)
    assert [(side, right) for side, right, _ in sides] == [
        (Side.SELL, Right.PUT),
        (Side.BUY, Right.PUT),
        (Side.SELL, Right.CALL),
        (Side.BUY, Right.CALL),
    ]
    (_, _, short_put), (_, _, long_put), (_, _, short_call), (_, _, long_call) = sides
    assert long_put < short_put < 500 < short_call < long_call
    assert short_put - long_put == long_call - short_call == 5
    assert len({leg.contract.expiration for leg in candidate.legs}) == 1
    low, high = candidate.breakevens
    assert low == pytest.approx(short_put - float(candidate.credit))
    assert high == pytest.approx(short_call + float(candidate.credit))
    assert candidate.max_loss == (Decimal(5) + candidate.limit_price) * 100
    assert candidate_problems(candidate) == []


def test_an_iron_condor_stands_aside_below_its_iv_rank_and_outside_its_regimes(chain: pd.DataFrame) -> None:
    # Act
    outcome = IronCondor(IronCondorParams()).propose(
        _context(chain, _regime(RegimeName.BEAR_VOLATILE), iv_rank=12.5)
    )

    # Assert: every reason at once
    assert outcome.candidates == ()
    assert outcome.skipped == (
        "regime bear_volatile does not permit iron_condor",
        "iv rank 12.5 below minimum 30.0",
    )


def test_a_credit_below_the_minimum_share_of_the_width_stands_aside_naming_both(chain: pd.DataFrame) -> None:
    # Act
    outcome = CreditSpread(CreditSpreadParams(min_credit_pct_of_width=60.0)).propose(_context(chain))

    # Assert
    assert outcome.candidates == ()
    (reason,) = outcome.skipped
    assert reason.startswith("credit at the limit ") and reason.endswith(
        "below minimum 3.00 (60% of width 5)"
    )


def test_a_wing_the_strike_grid_cannot_give_stands_aside_naming_the_closest(chain: pd.DataFrame) -> None:
    # Act: strikes are listed every 5 points; a 1-point wing can miss by at most half a point
    outcome = CreditSpread(CreditSpreadParams(width=Decimal("1"))).propose(_context(chain))

    # Assert
    (reason,) = outcome.skipped
    assert reason.startswith("no put wing about 1 points beyond strike ")
    assert reason.endswith("5 away")


def test_a_wing_priced_at_or_above_its_sold_strike_stands_aside_naming_both(chain: pd.DataFrame) -> None:
    # Arrange: the chain prices the bought put above the sold one (a side that would pay, not earn)
    sold, wing = _only(CreditSpread(CreditSpreadParams()).propose(_context(chain))).legs
    short_mid = float(chain.loc[chain["occ_symbol"] == sold.contract.occ_symbol, "mid"].iloc[0])
    crossed = chain.copy()
    at_wing = crossed["occ_symbol"] == wing.contract.occ_symbol
    crossed.loc[at_wing, ["bid", "mid", "ask"]] = [short_mid, short_mid + 0.05, short_mid + 0.10]

    # Act
    outcome = CreditSpread(CreditSpreadParams()).propose(_context(crossed))

    # Assert
    (reason,) = outcome.skipped
    assert reason.startswith(f"the put wing {wing.contract.occ_symbol.strip()} (mid ")
    assert f"priced at or above the sold {sold.contract.occ_symbol.strip()}" in reason
    assert reason.endswith("that side pays no credit")


def test_a_disabled_strategy_says_so(chain: pd.DataFrame) -> None:
    # Act
    outcome = CreditSpread(CreditSpreadParams(enabled=False)).propose(_context(chain))

    # Assert
    assert outcome.skipped == ("strategy disabled in configuration",)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"width": Decimal(0)}, "width"),
        ({"short_delta": 0.6}, "short_delta"),
        ({"min_credit_pct_of_width": 100.0}, "min_credit_pct_of_width"),
        ({"sideways_side": "both"}, "sideways_side"),
    ],
)
def test_invalid_spread_params_are_refused_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        CreditSpreadParams(**overrides)  # type: ignore[arg-type]


def test_exit_rules_come_from_each_strategys_own_parameters() -> None:
    assert CreditSpread(CreditSpreadParams(exit_dte=14)).exit_rules().exit_dte == 14
    assert IronCondor(IronCondorParams(profit_target_pct=25.0)).exit_rules().profit_target_pct == 25.0


# --- real chains --------------------------------------------------------------------------------------------


REAL = [
    ("SPX_2023-06-09_cboe.csv", "25"),
    ("SPX_2023-09-14_cboe.csv", "25"),
    ("IWM_2019-10-15_ivolatility.csv", "2"),
]


@needs_market_data
@pytest.mark.parametrize(("file", "width"), REAL)
def test_on_real_chains_spreads_and_condors_keep_one_root_their_width_and_a_defined_max_loss(
    file: str, width: str
) -> None:
    # Arrange
    chain, underlying, now = enriched_real_chain(file)
    context = replace(_context(chain, _regime(RegimeName.BEAR_CALM)), iv_ranks={underlying: 50.0}, now=now)
    spread_params = CreditSpreadParams(
        underlying=underlying, width=Decimal(width), min_credit_pct_of_width=10
    )
    condor_params = IronCondorParams(underlying=underlying, width=Decimal(width), min_credit_pct_of_width=10)

    # Act
    spread = _only(CreditSpread(spread_params).propose(context))
    condor = _only(IronCondor(condor_params).propose(replace(context, regime=_regime())))

    # Assert: a bearish call spread; a condor on both sides; one root (never SPXW over SPX), one expiry
    assert {leg.contract.right for leg in spread.legs} == {Right.CALL}
    assert {leg.contract.right for leg in condor.legs} == {Right.CALL, Right.PUT}
    for candidate in (spread, condor):
        assert len({leg.contract.root for leg in candidate.legs}) == 1
        assert len({leg.contract.expiration for leg in candidate.legs}) == 1
        assert candidate.expiration > now.date()
        strikes = [float(leg.contract.strike) for leg in candidate.legs]
        assert max(abs(a - b) for a, b in zip(strikes[::2], strikes[1::2], strict=True)) == float(width)
        assert candidate.max_loss == (Decimal(width) + candidate.limit_price) * 100
        assert candidate_problems(candidate) == []
        # The limit sent is on the root's tick (SPX: nickels under $3, dimes from $3; ETFs: cents).
        tick = price_tick(candidate.legs[0].contract.root, candidate.limit_price)
        assert candidate.limit_price % tick == 0
    sold = [chain.loc[chain["occ_symbol"] == leg.contract.occ_symbol].iloc[0] for leg in condor.legs[::2]]
    assert all(abs(abs(row["delta"]) - 0.16) <= 0.04 for row in sold)


def test_a_spread_can_sell_the_strike_one_expected_move_out_instead_of_a_delta(chain: pd.DataFrame) -> None:
    # Arrange: SPY at 500; the expected move by expiry is spot x ATM IV x sqrt(years)
    params = CreditSpreadParams(
        short_strike_by="expected_move", expected_move_multiple=1.0, min_credit_pct_of_width=5
    )

    # Act
    candidate = _only(CreditSpread(params).propose(_context(chain, _regime(RegimeName.BULL_CALM))))

    # Assert: the put sold is the listed strike nearest spot - 1 move, the wing 5 points below it
    rows = chain[chain["expiration"] == pd.Timestamp(candidate.expiration)]
    move = expected_move(rows)
    sold, wing = (float(leg.contract.strike) for leg in candidate.legs)
    listed = sorted(set(rows["strike"]))
    assert sold == min(listed, key=lambda k: (abs(k - (500 - move)), k))
    assert wing == sold - 5
    assert "expected_move" in CreditSpreadParams.model_fields["short_strike_by"].annotation.__args__


def test_an_unknown_strike_rule_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="short_strike_by"):
        CreditSpreadParams(short_strike_by="gamma")
