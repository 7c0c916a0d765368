"""Short strangle entry: stand-aside reasons, strike and expiration choice, pricing and params bounds."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from pydantic import ValidationError

from trading_pipeline.core.calendar import ET
from trading_pipeline.core.candidates import StrategyOutcome, TradeCandidate
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.chain import enrich_chain
from trading_pipeline.core.instruments import Right, Side
from trading_pipeline.core.strategies.short_strangle import ShortStrangleParams, short_strangle_candidates
from trading_pipeline_tests.core.chain_builders import DIV, NOW, RATE, SPOT, enriched_chain, quote_chain
from trading_pipeline_tests.real_market_data import enriched_real_chain, needs_market_data

LIMIT_FRACTION = Decimal("0.5")
PARAMS = ShortStrangleParams()


def run(
    chain: pd.DataFrame,
    iv_rank: float = 50.0,
    allowed: bool = True,
    regime: str = "range_calm",
    params: ShortStrangleParams = PARAMS,
) -> StrategyOutcome:
    return short_strangle_candidates(chain, iv_rank, allowed, regime, params, LIMIT_FRACTION, NOW)


def only_candidate(outcome: StrategyOutcome) -> TradeCandidate:
    assert outcome.skipped == ()
    assert len(outcome.candidates) == 1
    return outcome.candidates[0]


def leg_row(chain: pd.DataFrame, candidate: TradeCandidate, index: int) -> pd.Series:
    symbol = candidate.legs[index].contract.occ_symbol
    return chain.loc[chain["occ_symbol"] == symbol].iloc[0]


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    """Expirations at 30, 42, 49 and 60 DTE; 42 is the closest to the 45-DTE target."""
    return enriched_chain()


def test_iv_rank_below_minimum_skips_naming_the_rank(chain: pd.DataFrame) -> None:
    # Act
    outcome = run(chain, iv_rank=22.5)

    # Assert
    assert outcome.candidates == ()
    assert outcome.skipped == ("iv rank 22.5 below minimum 30.0",)


def test_regime_not_allowing_the_strategy_skips_naming_the_regime(chain: pd.DataFrame) -> None:
    # Act
    outcome = run(chain, allowed=False, regime="bear_volatile")

    # Assert
    assert outcome.candidates == ()
    assert outcome.skipped == ("regime bear_volatile does not permit short_strangle",)


def test_every_stand_aside_reason_is_reported_at_once(chain: pd.DataFrame) -> None:
    # Arrange
    params = ShortStrangleParams(enabled=False)

    # Act
    outcome = run(chain, iv_rank=10.0, allowed=False, regime="crisis", params=params)

    # Assert
    assert outcome.skipped == (
        "strategy disabled in configuration",
        "regime crisis does not permit short_strangle",
        "iv rank 10.0 below minimum 30.0",
    )


def test_no_expiration_in_dte_window_skips_listing_the_dtes() -> None:
    # Arrange
    chain = enriched_chain(dtes=(30, 60))

    # Act
    outcome = run(chain)

    # Assert
    assert outcome.candidates == ()
    assert outcome.skipped == ("no expiration with DTE in [40, 50]; listed DTEs: [30, 60]",)


def test_chain_of_another_underlying_only_skips_with_no_listed_dtes() -> None:
    # Arrange
    chain = enrich_chain(quote_chain(underlying="QQQ"), NOW, {"QQQ": Carry(RATE, DIV, "test")})

    # Act
    outcome = run(chain)

    # Assert
    assert outcome.candidates == ()
    assert outcome.skipped == ("no expiration with DTE in [40, 50]; listed DTEs: []",)


def test_happy_path_sells_one_put_and_one_call_in_expiration_closest_to_target(chain: pd.DataFrame) -> None:
    # Act
    candidate = only_candidate(run(chain))

    # Assert
    expected_expiration = NOW.astimezone(ET).date() + timedelta(days=42)
    assert candidate.strategy == "short_strangle"
    assert candidate.underlying == "SPY"
    assert candidate.quantity == 1
    assert candidate.expiration == expected_expiration
    assert [leg.side for leg in candidate.legs] == [Side.SELL, Side.SELL]
    assert [leg.contract.right for leg in candidate.legs] == [Right.PUT, Right.CALL]
    assert all(leg.contract.expiration == expected_expiration for leg in candidate.legs)
    assert candidate.legs[0].contract.strike < Decimal(str(SPOT)) < candidate.legs[1].contract.strike
    assert candidate.details["dte"] == 42
    assert candidate.max_loss is None


@pytest.mark.parametrize(("index", "right"), [(0, "P"), (1, "C")])
def test_happy_path_leg_has_the_abs_delta_closest_to_target_among_quoted_contracts(
    chain: pd.DataFrame, index: int, right: str
) -> None:
    # Act
    candidate = only_candidate(run(chain))

    # Assert
    chosen = leg_row(chain, candidate, index)
    same_expiry = chain[
        (chain["expiration"] == pd.Timestamp(candidate.expiration))
        & (chain["right"] == right)
        & (chain["bid"] > 0)
        & chain["delta"].notna()
    ]
    distances = (same_expiry["delta"].abs() - PARAMS.target_delta).abs()
    assert abs(abs(chosen["delta"]) - PARAMS.target_delta) == pytest.approx(distances.min())
    assert abs(abs(chosen["delta"]) - PARAMS.target_delta) < 0.03


def test_happy_path_credit_is_the_sum_of_leg_mids_and_limit_lies_between_mid_and_natural(
    chain: pd.DataFrame,
) -> None:
    # Act
    candidate = only_candidate(run(chain))

    # Assert
    put, call = leg_row(chain, candidate, 0), leg_row(chain, candidate, 1)
    bids = Decimal(str(put["bid"])) + Decimal(str(call["bid"]))
    asks = Decimal(str(put["ask"])) + Decimal(str(call["ask"]))
    assert candidate.credit == (bids + asks) / 2
    assert candidate.mid_value == -candidate.credit
    assert candidate.natural_value == -bids
    # Signed values (credit negative): mid is the most credit, natural the least, the limit between.
    assert candidate.mid_value < candidate.limit_price < candidate.natural_value


def test_happy_path_buying_power_is_the_reg_t_strangle_requirement(chain: pd.DataFrame) -> None:
    # Act
    candidate = only_candidate(run(chain))

    # Assert: the put side is larger here: (20% of spot - put OTM amount) + both premiums, x100.
    put_strike = candidate.legs[0].contract.strike
    spot = Decimal(str(SPOT))
    expected = (Decimal("0.2") * spot - (spot - put_strike) + candidate.credit) * 100
    assert candidate.buying_power > 0
    assert candidate.buying_power == expected
    assert candidate.score == pytest.approx(float(candidate.credit) * 100 / float(expected))


def test_happy_path_breakevens_are_strikes_widened_by_the_credit(chain: pd.DataFrame) -> None:
    # Act
    candidate = only_candidate(run(chain))

    # Assert
    credit = float(candidate.credit)
    put_strike, call_strike = (float(leg.contract.strike) for leg in candidate.legs)
    assert candidate.breakevens == pytest.approx((put_strike - credit, call_strike + credit))


def test_happy_path_greeks_are_those_of_a_short_strangle(chain: pd.DataFrame) -> None:
    # Act
    candidate = only_candidate(run(chain))

    # Assert: roughly delta neutral, collects theta, short vega.
    assert abs(candidate.delta) < 0.1
    assert candidate.theta > 0
    assert candidate.vega < 0


def test_no_strike_within_the_delta_tolerance_skips_naming_target_and_best() -> None:
    # Arrange: strikes 25 apart, so the call nearest 16 delta is far from it.
    chain = enriched_chain(strikes=range(400, 625, 25))

    # Act
    outcome = run(chain)

    # Assert
    assert outcome.candidates == ()
    [reason] = outcome.skipped
    assert reason.startswith("no liquid put for ") and "within 0.03 of target delta 0.16" in reason


def test_a_thin_expiration_closest_to_target_loses_to_a_liquid_one(chain: pd.DataFrame) -> None:
    # Arrange: the 42-DTE expiration (closest to 45) was just listed: open interest 20 everywhere.
    thin_chain = chain.copy()
    closest = thin_chain["dte"] == 42
    thin_chain.loc[closest, "open_interest"] = 20.0

    # Act
    candidate = only_candidate(run(thin_chain))

    # Assert
    assert candidate.expiration == NOW.astimezone(ET).date() + timedelta(days=49)
    assert candidate.details["dte"] == 49


def test_sold_strikes_pass_the_liquidity_floor() -> None:
    # Arrange: on a $1 grid, the 16-delta strikes lose their open interest; their neighbours keep it.
    chain = enriched_chain(dtes=(42,), strikes=range(400, 601))
    candidate = only_candidate(run(chain))
    first_choice = [leg.contract.occ_symbol for leg in candidate.legs]
    thin = chain.copy()
    thin.loc[thin["occ_symbol"].isin(first_choice), "open_interest"] = 0.0

    # Act
    second = only_candidate(run(thin))

    # Assert
    assert [leg.contract.occ_symbol for leg in second.legs] != first_choice
    assert all(leg_row(thin, second, i)["open_interest"] >= PARAMS.min_open_interest for i in (0, 1))


def test_credit_below_minimum_skips_naming_credit_and_minimum(chain: pd.DataFrame) -> None:
    # Arrange
    params = ShortStrangleParams(min_credit=Decimal("50.00"))

    # Act
    outcome = run(chain, params=params)

    # Assert
    assert outcome.candidates == ()
    assert len(outcome.skipped) == 1
    assert outcome.skipped[0].startswith("credit ")
    assert outcome.skipped[0].endswith(" below minimum 50.00")


def test_minimum_credit_holds_against_the_limit_price_sent_not_the_mid(chain: pd.DataFrame) -> None:
    # Arrange: a minimum between the credit at the limit and the (larger) credit at mid
    candidate = only_candidate(run(chain))
    at_mid, at_limit = -candidate.mid_value, -candidate.limit_price
    assert at_limit < at_mid
    between = ShortStrangleParams(min_credit=(at_limit + at_mid) / 2)

    # Act
    outcome = run(chain, params=between)
    at_minimum = run(chain, params=ShortStrangleParams(min_credit=at_limit))

    # Assert: no trade whose limit (the least a fill can give) is under the minimum; one exactly at it
    assert outcome.candidates == ()
    assert outcome.skipped == (
        f"credit at the limit {at_limit} (mid {at_mid}) below minimum {between.min_credit}",
    )
    assert only_candidate(at_minimum).limit_price == candidate.limit_price


def test_contracts_parameter_sets_candidate_quantity(chain: pd.DataFrame) -> None:
    # Arrange
    params = ShortStrangleParams(contracts=3)

    # Act
    candidate = only_candidate(run(chain, params=params))

    # Assert
    assert candidate.quantity == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"dte_min": 46}, "dte_min"),
        ({"dte_target": 55}, "dte_max"),
        ({"exit_dte": 40}, "exit_dte"),
        ({"target_delta": 0.6}, "target_delta"),
        ({"contracts": 0}, "contracts"),
        ({"max_delta_error": 0.0}, "max_delta_error"),
        ({"max_delta_error": 0.16}, "max_delta_error"),
        ({"min_open_interest": -1}, "min_open_interest"),
        ({"max_spread_pct": 0.0}, "max_spread_pct"),
        ({"max_spread_pct": 101.0}, "max_spread_pct"),
        ({"unknown_knob": 1}, "unknown_knob"),
    ],
)
def test_invalid_params_are_rejected_naming_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        ShortStrangleParams(**overrides)  # type: ignore[arg-type]


def test_max_delta_error_not_below_target_delta_is_refused_naming_both_values() -> None:
    with pytest.raises(ValidationError, match=r"max_delta_error \(0.2\) must be below target_delta \(0.16\)"):
        ShortStrangleParams(max_delta_error=0.2)


def test_exit_dte_error_names_both_values() -> None:
    with pytest.raises(ValidationError, match=r"exit_dte \(40\) must be below dte_min \(40\)"):
        ShortStrangleParams(exit_dte=40)


def test_params_are_frozen() -> None:
    with pytest.raises(ValidationError):
        PARAMS.contracts = 2  # type: ignore[misc]


def test_a_high_iv_rank_band_moves_the_expiration_to_its_own_window(chain: pd.DataFrame) -> None:
    params = ShortStrangleParams(
        dte_by_iv_rank=({"min_iv_rank": 60, "dte_min": 25, "dte_target": 30, "dte_max": 35},)
    )

    rich, normal = (
        only_candidate(run(chain, iv_rank=75.0, params=params)),
        only_candidate(run(chain, params=params)),
    )

    assert rich.details["dte"] == 30 and normal.details["dte"] == 42
    assert "DTE window 25-35" in rich.rationale


def test_the_regimes_own_delta_replaces_the_target_delta(chain: pd.DataFrame) -> None:
    params = ShortStrangleParams(delta_by_regime={"range_volatile": 0.10})

    calm = only_candidate(run(chain, params=params))
    volatile = only_candidate(run(chain, regime="range_volatile", params=params))

    put_delta = abs(float(leg_row(chain, volatile, 0)["delta"]))
    assert abs(put_delta - 0.10) <= params.max_delta_error
    assert volatile.legs[0].contract.strike < calm.legs[0].contract.strike  # further out of the money
    assert volatile.legs[1].contract.strike > calm.legs[1].contract.strike


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delta_by_regime": {"bull_sunny": 0.1}}, "delta_by_regime: unknown regime 'bull_sunny'"),
        ({"delta_by_regime": {"crisis": 0.6}}, "delta_by_regime.crisis: 0.6 must lie in"),
        (
            {"dte_by_iv_rank": [{"min_iv_rank": 60, "dte_min": 20, "dte_target": 30, "dte_max": 35}]},
            "dte_by_iv_rank (min_iv_rank 60)",
        ),
    ],
)
def test_bad_strangle_options_are_refused_naming_the_field(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ShortStrangleParams(**options)


# --- real chains --------------------------------------------------------------------------------------------


@needs_market_data
@pytest.mark.parametrize(
    ("file", "window"),
    [
        ("SPY_2015-01-05.csv", {}),
        # IWM's only expiration in 40-50 DTE (2019-11-29, a month-end weekly) is thin at the money.
        ("IWM_2019-10-15_ivolatility.csv", {"dte_min": 28, "dte_max": 70}),
    ],
)
def test_on_real_chains_the_strangle_sells_strikes_within_the_delta_tolerance_of_16_delta(
    file: str, window: dict[str, int]
) -> None:
    # Arrange
    chain, underlying, now = enriched_real_chain(file)
    params = ShortStrangleParams(underlying=underlying, **window)

    # Act
    candidate = only_candidate(
        short_strangle_candidates(chain, 50.0, True, "range_calm", params, LIMIT_FRACTION, now)
    )

    # Assert: a put below and a call above spot, one expiration in the DTE window, each |delta| near 0.16
    spot = float(chain["underlying_price"].iloc[0])
    put, call = (leg_row(chain, candidate, index) for index in (0, 1))
    assert float(put["strike"]) < spot < float(call["strike"])
    assert params.dte_min <= candidate.details["dte"] <= params.dte_max
    for row in (put, call):
        assert abs(abs(row["delta"]) - params.target_delta) <= params.max_delta_error
    assert all(leg.side is Side.SELL for leg in candidate.legs)
    assert Decimal(0) < -candidate.limit_price <= Decimal(str(put["mid"] + call["mid"]))  # a credit: negative
