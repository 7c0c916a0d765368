"""Property: whatever the candidates and the portfolio, no approved set of orders breaches any limit.

Each approval is checked against the state it was judged in, by formulas written here independently of
the engine: a portfolio limit may only be beyond its bound after an approval if that approval made the
figure smaller in size (a risk-reducing trade).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading_pipeline.core.candidates import TradeCandidate
from trading_pipeline.core.exposure import DEFAULT_SCENARIOS, Exposure
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.risk import PortfolioState, RiskLimits, review_candidates
from trading_pipeline.core.trading_state import TradingState

STRATEGIES = ("short_strangle", "credit_spread", "iron_condor")
UNDERLYINGS = ("SPY", "QQQ", "SPX")
EXPIRATION = date(2025, 12, 19)
EPS = 1e-6

money = st.decimals(min_value=Decimal("1"), max_value=Decimal("30000"), places=2)
greek = st.floats(min_value=-4_000, max_value=4_000, allow_nan=False)
stress = st.lists(
    st.floats(min_value=-2_500, max_value=1_000, allow_nan=False),
    min_size=len(DEFAULT_SCENARIOS),
    max_size=len(DEFAULT_SCENARIOS),
).map(tuple)
exposures = st.builds(Exposure, greek, greek, st.floats(-150, 150), st.floats(-100, 100), stress)
#: Approvals seen across the examples: a property never exercised on an approval proves nothing.
SEEN = Counter()


@st.composite
def candidates(draw: st.DrawFn, index: int) -> TradeCandidate:
    underlying = draw(st.sampled_from(UNDERLYINGS))
    defined = draw(st.booleans())
    strike = Decimal(100 + draw(st.integers(0, index)))  # a repeated strike is a duplicate structure
    legs = (Leg(OptionContract(underlying, EXPIRATION, strike, Right.PUT), Side.SELL),)
    buying_power = draw(money)
    return TradeCandidate(
        strategy=draw(st.sampled_from(STRATEGIES)),
        underlying=underlying,
        expiration=EXPIRATION,
        legs=legs,
        quantity=draw(st.integers(1, 6)),
        mid_value=Decimal("-1.00"),
        natural_value=Decimal("-0.90"),
        limit_price=Decimal("-0.95"),
        buying_power=buying_power,
        max_loss=buying_power if defined else None,
        breakevens=(float(strike) - 1,),
        delta=0.0,
        theta=0.0,
        vega=0.0,
        score=draw(st.floats(0, 1)),
        rationale=f"generated {index}",
        exposure=draw(
            st.sampled_from([True] * 19 + [False]).flatmap(lambda ok: exposures if ok else st.none())
        ),
        min_open_interest=draw(st.integers(0, 1000)),
        max_spread_pct=draw(st.floats(0, 12)),
    )


def equities(positive: bool) -> st.SearchStrategy[Decimal]:
    """Mostly a funded account; sometimes one with no equity left."""
    if not positive:
        return st.sampled_from([Decimal("0"), Decimal("-250.00")])
    return st.decimals(Decimal("100000"), Decimal("500000"), places=2)


@st.composite
def portfolios(draw: st.DrawFn) -> PortfolioState:
    by_underlying = Counter({u: draw(st.decimals(0, 40000, places=2)) for u in UNDERLYINGS})
    return PortfolioState(
        equity=draw(st.sampled_from([True] * 19 + [False]).flatmap(equities)),
        buying_power_used=sum(by_underlying.values(), Decimal(0)),
        open_positions=Counter({s: draw(st.integers(0, 3)) for s in STRATEGIES}),
        entries_this_session=Counter({s: draw(st.integers(0, 1)) for s in STRATEGIES}),
        entries_blocked=draw(st.sampled_from([None] * 19 + ["reconciliation break"])),
        trading_state=draw(
            st.sampled_from([TradingState.ACTIVE] * 14 + [TradingState.REDUCING] * 5 + [TradingState.HALTED])
        ),
        trading_state_cause="generated",
        buying_power_by_underlying=by_underlying,
        exposure=draw(st.one_of(st.just(Exposure()), exposures)),
        unpriced_positions=draw(st.sampled_from([0] * 19 + [1])),
    )


limits_strategy = st.builds(
    RiskLimits,
    kill_switch=st.sampled_from([False] * 19 + [True]),
    max_allocation_pct=st.floats(10, 100),
    max_underlying_allocation_pct=st.floats(10, 100),
    max_contracts_per_order=st.integers(1, 8),
    max_open_positions=st.integers(0, 40),
    max_open_positions_per_strategy=st.integers(1, 12),
    max_entries_per_session_per_strategy=st.integers(1, 4),
    risk_per_trade_pct=st.floats(0.2, 20),
    max_delta_dollars_pct=st.floats(0.5, 20),
    max_gamma_dollars_pct=st.floats(0.5, 10),
    max_vega_per_point_pct=st.floats(0.05, 1),
    max_stress_loss_pct=st.floats(0.5, 10),
    min_open_interest=st.integers(0, 100),
    max_spread_pct=st.floats(5, 50),
)


def _within_or_reduced(before: float, after: float, bound: float) -> bool:
    return abs(after) <= bound + EPS or abs(after) <= abs(before) + EPS


def _assert_approval_within_limits(
    asked: TradeCandidate, approved: TradeCandidate, state: PortfolioState, limits: RiskLimits
) -> None:
    """Every limit, written out: the approval judged in `state` breaks none."""
    assert not limits.kill_switch and state.entries_blocked is None
    assert state.trading_state is not TradingState.HALTED
    assert 1 <= approved.quantity <= min(asked.quantity, limits.max_contracts_per_order)
    if state.trading_state is TradingState.REDUCING:
        assert approved.max_loss is not None
        assert approved.quantity <= asked.quantity * limits.reducing_size_fraction
    assert state.open_total < limits.max_open_positions
    assert state.open_positions[approved.strategy] < limits.max_open_positions_per_strategy
    assert state.entries_this_session[approved.strategy] < limits.max_entries_per_session_per_strategy
    assert approved.key not in state.open_structures
    equity = state.equity
    assert equity > 0
    needed = approved.buying_power * approved.quantity
    assert (state.buying_power_used + needed) / equity * 100 <= Decimal(
        str(limits.max_allocation_pct)
    ) + Decimal("1e-9")
    on_underlying = state.buying_power_by_underlying[approved.underlying] + needed
    assert float(on_underlying / equity * 100) <= limits.max_underlying_allocation_pct + EPS
    assert approved.exposure is not None and state.unpriced_positions == 0
    before, after = state.exposure, state.exposure + approved.exposure.scaled(approved.quantity)
    e = float(equity)
    assert _within_or_reduced(
        before.delta_dollars, after.delta_dollars, e * limits.max_delta_dollars_pct / 100
    )
    assert _within_or_reduced(
        before.gamma_dollars, after.gamma_dollars, e * limits.max_gamma_dollars_pct / 100
    )
    assert _within_or_reduced(
        before.vega_per_point, after.vega_per_point, e * limits.max_vega_per_point_pct / 100
    )
    worst_after = min(after.stress_pnl)
    worst_before = min(before.stress_pnl) if before.stress_pnl else 0.0
    assert worst_after >= -e * limits.max_stress_loss_pct / 100 - EPS or worst_after >= worst_before - EPS
    unit_risk = (
        approved.max_loss
        if approved.max_loss is not None
        else Decimal(str(max(0.0, -min(approved.exposure.stress_pnl))))
    )
    assert (
        float(unit_risk) * approved.quantity <= e * limits.risk_per_trade_pct / 100 + 0.01 * approved.quantity
    )
    assert approved.min_open_interest is not None and approved.min_open_interest >= limits.min_open_interest
    assert approved.max_spread_pct is not None and approved.max_spread_pct <= limits.max_spread_pct


@pytest.fixture(scope="module", autouse=True)
def _approvals_were_exercised() -> Iterator[None]:
    yield
    assert SEEN["approved"] >= 50, f"the property saw too few approvals to mean anything: {dict(SEEN)}"
    assert SEEN["resized"] >= 5 and SEEN["decisions"] > SEEN["approved"], dict(SEEN)


@settings(max_examples=1000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    portfolio=portfolios(),
    limits=limits_strategy,
    drawn=st.integers(0, 8).flatmap(lambda n: st.tuples(*(candidates(i) for i in range(n)))),
)
def test_no_approved_set_of_orders_breaches_any_limit(
    portfolio: PortfolioState, limits: RiskLimits, drawn: tuple[TradeCandidate, ...]
) -> None:
    asked = {c.rationale: c for c in drawn}
    state = portfolio
    for decision in review_candidates(list(drawn), portfolio, limits):
        SEEN["decisions"] += 1
        if decision.approved:
            SEEN["approved"] += 1
            SEEN["resized"] += decision.resized_from is not None
            _assert_approval_within_limits(
                asked[decision.candidate.rationale], decision.candidate, state, limits
            )
            state = state.with_entry(decision.candidate)
        else:
            assert decision.reasons and all(":" in reason for reason in decision.reasons)
    # The final book holds exactly the approved entries on top of the starting one.
    approved = [d.candidate for d in review_candidates(list(drawn), portfolio, limits) if d.approved]
    assert state.buying_power_used == portfolio.buying_power_used + sum(
        (c.buying_power * c.quantity for c in approved), Decimal(0)
    )
    assert replace(state, exposure=Exposure()).open_total == portfolio.open_total + len(approved)
