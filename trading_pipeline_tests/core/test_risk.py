"""Pre-trade risk: every rejection reason, several at once, and review order with consumed room."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from decimal import Decimal

from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.exposure import DEFAULT_SCENARIOS, Exposure
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.risk import PortfolioState, RiskLimits, rejection_reasons, review_candidates
from trading_pipeline.core.trading_state import TradingState

EXPIRATION = date(2025, 4, 25)
LIMITS = RiskLimits(max_entries_per_session_per_strategy=5, max_underlying_allocation_pct=100.0)
EMPTY_BOOK = PortfolioState(equity=Decimal("100000"), buying_power_used=Decimal("0"))


def exposure(
    delta: float = 0.0, gamma: float = -100.0, vega: float = -50.0, worst: float = -400.0
) -> Exposure:
    """A per-unit exposure whose worst stress scenario (the 2020-style day, the last) loses `-worst`."""
    stress = tuple(worst * (i + 1) / len(DEFAULT_SCENARIOS) for i in range(len(DEFAULT_SCENARIOS)))
    return Exposure(delta, gamma, vega, 10.0, stress)


def candidate(
    buying_power: str = "5000",
    quantity: int = 1,
    score: float = 0.1,
    strategy: str = "short_strangle",
    put_strike: str = "470",
    unit_exposure: Exposure | None = None,
    max_loss: str | None = None,
) -> TradeCandidate:
    legs = (
        Leg(OptionContract("SPY", EXPIRATION, Decimal(put_strike), Right.PUT), Side.SELL),
        Leg(OptionContract("SPY", EXPIRATION, Decimal("540"), Right.CALL), Side.SELL),
    )
    return TradeCandidate(
        strategy=strategy,
        underlying="SPY",
        expiration=EXPIRATION,
        legs=legs,
        quantity=quantity,
        mid_value=Decimal("-5.00"),
        natural_value=Decimal("-4.90"),
        limit_price=Decimal("-4.95"),
        buying_power=Decimal(buying_power),
        max_loss=Decimal(max_loss) if max_loss is not None else None,
        breakevens=(465.0, 545.0),
        delta=0.0,
        theta=50.0,
        vega=-80.0,
        score=score,
        rationale=f"test candidate with score {score}",
        exposure=unit_exposure if unit_exposure is not None else exposure(),
        min_open_interest=500,
        max_spread_pct=5.0,
    )


def state(
    used: str = "0",
    equity: str = "100000",
    open_positions: dict[str, int] | None = None,
    entries: dict[str, int] | None = None,
) -> PortfolioState:
    return PortfolioState(
        equity=Decimal(equity),
        buying_power_used=Decimal(used),
        open_positions=Counter(open_positions or {}),
        entries_this_session=Counter(entries or {}),
    )


def test_candidate_within_every_limit_has_no_reasons() -> None:
    assert rejection_reasons(candidate(), EMPTY_BOOK, LIMITS) == []


def test_kill_switch_rejects_every_entry() -> None:
    # Arrange
    limits = RiskLimits(kill_switch=True)

    # Act
    reasons = rejection_reasons(candidate(), EMPTY_BOOK, limits)

    # Assert
    assert reasons == ["kill switch: on in configuration, no new entries"]


def test_too_many_contracts_is_rejected_naming_quantity_and_max() -> None:
    # Arrange: 11 x 1000 of buying power stays well within the allocation limit.
    too_big = candidate(buying_power="1000", quantity=11)

    # Act
    reasons = rejection_reasons(too_big, EMPTY_BOOK, LIMITS)

    # Assert
    assert reasons == ["contracts: 11 exceeds max 10 per order"]


def test_allocation_above_limit_is_rejected_with_resulting_usage() -> None:
    # Arrange: 48000 in use + 5000 = 53% of 100000 equity.
    book = state(used="48000")

    # Act
    reasons = rejection_reasons(candidate(), book, LIMITS)

    # Assert
    assert reasons == ["allocation: buying power in use would reach 53.0% of equity 100000 (limit 50.0%)"]


def test_allocation_exactly_at_limit_is_allowed() -> None:
    # Arrange: 45000 + 5000 = exactly 50%.
    book = state(used="45000")

    # Act / Assert
    assert rejection_reasons(candidate(), book, LIMITS) == []


def test_allocation_counts_buying_power_times_quantity() -> None:
    # Arrange: 2 x 30000 = 60% of equity.
    big = candidate(buying_power="30000", quantity=2)

    # Act
    reasons = rejection_reasons(big, EMPTY_BOOK, LIMITS)

    # Assert
    assert reasons == ["allocation: buying power in use would reach 60.0% of equity 100000 (limit 50.0%)"]


def test_non_positive_equity_is_rejected_as_allocation() -> None:
    # Act
    reasons = rejection_reasons(candidate(), state(equity="0"), LIMITS)

    # Assert
    assert reasons == ["allocation: account equity 0 is not positive"]


def test_open_positions_at_max_for_the_strategy_is_rejected() -> None:
    # Arrange
    book = state(open_positions={"short_strangle": 3})

    # Act
    reasons = rejection_reasons(candidate(), book, LIMITS)

    # Assert
    assert reasons == ["positions: 3 open short_strangle positions (max 3)"]


def test_open_positions_of_other_strategies_do_not_count() -> None:
    # Arrange
    book = state(open_positions={"iron_condor": 3}, entries={"iron_condor": 5})

    # Act / Assert
    assert rejection_reasons(candidate(), book, LIMITS) == []


def test_entries_this_session_at_max_is_rejected() -> None:
    # Arrange
    limits = RiskLimits(max_entries_per_session_per_strategy=1)
    book = state(entries={"short_strangle": 1})

    # Act
    reasons = rejection_reasons(candidate(), book, limits)

    # Assert
    assert reasons == ["entries: 1 short_strangle entries already this session (max 1)"]


def test_non_positive_buying_power_requirement_is_rejected() -> None:
    # Act
    reasons = rejection_reasons(candidate(buying_power="0"), EMPTY_BOOK, LIMITS)

    # Assert
    assert reasons == ["buying power: requirement 0 must be positive"]


def test_every_broken_limit_is_reported_at_once() -> None:
    # Arrange
    limits = RiskLimits(kill_switch=True, max_entries_per_session_per_strategy=1)
    book = state(used="60000", open_positions={"short_strangle": 4}, entries={"short_strangle": 2})

    # Act
    reasons = rejection_reasons(candidate(quantity=12), book, limits)

    # Assert
    assert [reason.split(":")[0] for reason in reasons] == [
        "kill switch",
        "contracts",
        "positions",
        "entries",
        "allocation",
        "concentration",
    ]


def test_review_orders_decisions_best_score_first() -> None:
    # Arrange
    low, high = candidate(score=0.1, put_strike="465"), candidate(score=0.3, put_strike="470")

    # Act
    decisions = review_candidates([low, high], EMPTY_BOOK, LIMITS)

    # Assert
    assert [d.candidate for d in decisions] == [high, low]
    assert all(d.approved for d in decisions)


def test_review_counts_an_earlier_approval_against_the_session_entry_limit() -> None:
    # Arrange
    limits = RiskLimits(max_entries_per_session_per_strategy=1)
    first, second = candidate(score=0.3, put_strike="470"), candidate(score=0.2, put_strike="465")

    # Act
    decisions = review_candidates([second, first], EMPTY_BOOK, limits)

    # Assert
    assert decisions[0].candidate == first and decisions[0].approved
    assert decisions[1].candidate == second
    assert decisions[1].reasons == ("entries: 1 short_strangle entries already this session (max 1)",)


def test_review_counts_earlier_approval_buying_power_and_rejected_ones_consume_nothing() -> None:
    # Arrange: 30% approved; +40% would be 70% (rejected); +10% is then 40% (approved).
    a = candidate(buying_power="30000", score=0.3, put_strike="470")
    b = candidate(buying_power="40000", score=0.2, put_strike="465")
    c = candidate(buying_power="10000", score=0.1, put_strike="460")

    # Act
    decisions = review_candidates([c, b, a], EMPTY_BOOK, LIMITS)

    # Assert
    assert [d.candidate for d in decisions] == [a, b, c]
    assert [d.approved for d in decisions] == [True, False, True]
    assert decisions[1].reasons == (
        "allocation: buying power in use would reach 70.0% of equity 100000 (limit 50.0%)",
    )


def test_review_does_not_change_the_callers_state() -> None:
    # Act
    review_candidates([candidate(), candidate(put_strike="465")], EMPTY_BOOK, LIMITS)

    # Assert
    assert EMPTY_BOOK.buying_power_used == Decimal("0")
    assert EMPTY_BOOK.open_positions == Counter()
    assert EMPTY_BOOK.entries_this_session == Counter()


def test_state_with_entry_adds_buying_power_position_and_entry() -> None:
    # Arrange
    book = state(used="1000", open_positions={"short_strangle": 1})

    # Act
    after = book.with_entry(candidate(buying_power="5000", quantity=2))

    # Assert
    assert after.buying_power_used == Decimal("11000")
    assert after.open_positions["short_strangle"] == 2
    assert after.entries_this_session["short_strangle"] == 1


def test_candidate_when_entries_are_blocked_by_reconciliation_is_rejected_with_that_reason() -> None:
    blocked = PortfolioState(
        equity=Decimal("100000"), buying_power_used=Decimal("0"), entries_blocked="1 unexplained difference"
    )

    reasons = rejection_reasons(candidate(), blocked, LIMITS)

    assert reasons == ["entries blocked: 1 unexplained difference"]


# --- limits added with the risk engine (issue 8): one test per rule, naming its reason ---


def test_total_open_positions_at_max_rejects_any_strategy() -> None:
    limits = RiskLimits(max_open_positions=4, max_underlying_allocation_pct=100.0)
    book = state(open_positions={"iron_condor": 2, "credit_spread": 2})

    reasons = rejection_reasons(candidate(), book, limits)

    assert reasons == ["positions: 4 open positions in all (max 4)"]


def test_buying_power_on_one_underlying_beyond_its_share_is_rejected_as_concentration() -> None:
    limits = RiskLimits(max_underlying_allocation_pct=20.0, max_entries_per_session_per_strategy=5)
    book = replace(state(used="18000"), buying_power_by_underlying=Counter({"SPY": Decimal("18000")}))

    reasons = rejection_reasons(candidate(), book, limits)

    assert reasons == ["concentration: buying power on SPY would reach 23.0% of equity (limit 20.0%)"]


def test_the_same_structure_already_open_is_rejected_as_a_duplicate() -> None:
    open_one = candidate()
    book = replace(EMPTY_BOOK, open_structures=frozenset({open_one.key}))

    assert rejection_reasons(candidate(), book, LIMITS) == [
        "duplicate: the same structure is already open or on its way"
    ]
    assert rejection_reasons(candidate(put_strike="465"), book, LIMITS) == []


def test_dollar_delta_beyond_its_budget_is_rejected_naming_value_and_budget() -> None:
    reasons = rejection_reasons(candidate(unit_exposure=exposure(delta=60_000.0)), EMPTY_BOOK, LIMITS)

    assert reasons == ["delta: portfolio dollar delta would be 60,000 (budget +-50,000, 50% of equity)"]


def test_dollar_gamma_beyond_its_budget_is_rejected() -> None:
    reasons = rejection_reasons(candidate(unit_exposure=exposure(gamma=-32_000.0)), EMPTY_BOOK, LIMITS)

    assert reasons == [
        "gamma: portfolio dollar gamma per 1% would be -32,000 (budget +-30,000, 30% of equity)"
    ]


def test_vega_per_point_beyond_its_budget_is_rejected() -> None:
    reasons = rejection_reasons(candidate(unit_exposure=exposure(vega=-1_500.0)), EMPTY_BOOK, LIMITS)

    assert reasons == ["vega: portfolio vega per vol point would be -1,500 (budget +-1,000, 1% of equity)"]


def test_a_book_losing_too_much_in_its_worst_stress_scenario_is_rejected_naming_the_scenario() -> None:
    book = replace(EMPTY_BOOK, exposure=exposure(worst=-24_800.0))

    reasons = rejection_reasons(candidate(), book, LIMITS)

    assert reasons == [
        "stress: the book would lose 25,200 in scenario '2020-03-16' (max 25,000, 25% of equity)"
    ]


def test_a_trade_that_reduces_a_breached_greek_passes_that_budget() -> None:
    # Arrange: the book is already short 70,000 of dollar delta (beyond the 50,000 budget)
    book = replace(EMPTY_BOOK, exposure=exposure(delta=-70_000.0, worst=-1_000.0))
    hedge = candidate(unit_exposure=exposure(delta=20_000.0))
    worse = candidate(put_strike="465", unit_exposure=exposure(delta=-1_000.0))

    # Act / Assert: the hedge brings it to -50,000; more short delta is refused
    assert rejection_reasons(hedge, book, LIMITS) == []
    assert [r.split(":")[0] for r in rejection_reasons(worse, book, LIMITS)] == ["delta"]


def test_a_thin_leg_is_rejected_by_the_liquidity_floor() -> None:
    thin = replace(candidate(), min_open_interest=3, max_spread_pct=40.0)

    reasons = rejection_reasons(thin, EMPTY_BOOK, LIMITS)

    assert reasons == [
        "liquidity: a leg has open interest 3 (floor 10)",
        "liquidity: a sold leg's bid-ask spread is 40.0% of its mid (max 25%)",
    ]


def test_a_candidate_never_assessed_against_the_chain_is_rejected() -> None:
    reasons = rejection_reasons(replace(candidate(), exposure=None), EMPTY_BOOK, LIMITS)

    assert reasons == [
        "exposure: the candidate has no greeks or stress figures (not assessed against the chain)"
    ]


def test_open_positions_the_chain_cannot_price_block_entries() -> None:
    reasons = rejection_reasons(candidate(), replace(EMPTY_BOOK, unpriced_positions=2), LIMITS)

    assert reasons == ["exposure: 2 open positions cannot be priced from the chain"]


def test_sizing_cuts_the_quantity_to_the_risk_per_trade_and_says_so() -> None:
    # Arrange: a defined-risk unit loses at most 2,000; 5% of 100,000 allows 2 units of the 4 asked
    asked = candidate(quantity=4, max_loss="2000", buying_power="2000")

    # Act
    (decision,) = review_candidates([asked], EMPTY_BOOK, LIMITS)

    # Assert
    assert decision.approved
    assert decision.candidate.quantity == 2 and decision.resized_from == 4


def test_a_unit_riskier_than_the_risk_per_trade_gets_no_size() -> None:
    (decision,) = review_candidates([candidate(unit_exposure=exposure(worst=-6_000.0))], EMPTY_BOOK, LIMITS)

    assert decision.reasons[0] == "sizing: one unit risks 6000.00, more than 5% of equity (5000.00)"


def test_halted_rejects_every_entry_with_the_trip_cause() -> None:
    halted = replace(EMPTY_BOOK, trading_state=TradingState.HALTED, trading_state_cause="daily loss 2500.00")

    reasons = rejection_reasons(candidate(), halted, LIMITS)

    assert reasons == ["trading state: HALTED (daily loss 2500.00); exits only"]


def test_reducing_halves_defined_risk_entries_and_refuses_undefined_risk() -> None:
    reducing = replace(EMPTY_BOOK, trading_state=TradingState.REDUCING, trading_state_cause="operator")
    spread = candidate(quantity=4, max_loss="400", buying_power="400")

    spread_decision, strangle_decision = review_candidates(
        [spread, candidate(put_strike="465", score=0.0)], reducing, LIMITS
    )

    assert spread_decision.approved and spread_decision.candidate.quantity == 2
    assert strangle_decision.reasons == (
        "trading state: REDUCING allows defined-risk entries only (operator)",
    )


def test_approvals_consume_greek_and_stress_room_for_later_candidates() -> None:
    first = candidate(score=0.3, unit_exposure=exposure(vega=-600.0))
    second = candidate(score=0.2, put_strike="465", unit_exposure=exposure(vega=-600.0))

    decisions = review_candidates([first, second], EMPTY_BOOK, LIMITS)

    assert [d.approved for d in decisions] == [True, False]
    assert decisions[1].reasons == (
        "vega: portfolio vega per vol point would be -1,200 (budget +-1,000, 1% of equity)",
    )
