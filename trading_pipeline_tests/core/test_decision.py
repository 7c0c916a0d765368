"""The pure tick: scan keeps the best N candidates and says why the rest lost; decide_tick turns the kept
ones into verdicts and intents without Dagster; exits come from each position's own strategy."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pandas as pd
import pytest

from trading_pipeline.core.chain import enrich_chain
from trading_pipeline.core.decision import decide_tick, scan
from trading_pipeline.core.exposure import DEFAULT_SCENARIOS
from trading_pipeline.core.intents import entry_decision_id
from trading_pipeline.core.risk import PortfolioState, RiskLimits
from trading_pipeline.core.strategies.credit_spread import CreditSpread, CreditSpreadParams
from trading_pipeline.core.strategies.iron_condor import IronCondor, IronCondorParams
from trading_pipeline.core.strategies.registry import build_strategies
from trading_pipeline.core.strategies.short_strangle import ShortStrangle, ShortStrangleParams
from trading_pipeline_tests.core.chain_builders import CARRY, NOW, enriched_chain, quote_chain
from trading_pipeline_tests.core.test_credit_structures import _context

EMPTY = PortfolioState(equity=Decimal("100000"), buying_power_used=Decimal("0"))
LIMITS = RiskLimits(max_entries_per_session_per_strategy=5)


@pytest.fixture(scope="module")
def chain() -> pd.DataFrame:
    return enriched_chain()


def _strategies() -> list:
    return [
        ShortStrangle(ShortStrangleParams(min_credit=Decimal("0.10"))),
        CreditSpread(CreditSpreadParams()),
        IronCondor(IronCondorParams()),
    ]


def test_scan_keeps_the_top_n_by_score_and_names_why_each_other_lost(chain: pd.DataFrame) -> None:
    found = scan(_strategies(), _context(chain), DEFAULT_SCENARIOS, top_n=1)

    everyone = [*found.kept, *(c for c, _ in found.cut)]
    assert len(found.kept) == 1 and len(everyone) == 3
    assert found.kept[0].score == max(c.score for c in everyone)
    assert [why.split(" by score")[0] for _, why in found.cut] == [
        "scanner: ranked 2 of 3",
        "scanner: ranked 3 of 3",
    ]
    assert all(c.exposure is not None and c.odds is not None for c in found.kept)


def test_decide_tick_turns_the_kept_candidates_into_verdicts_and_intents(chain: pd.DataFrame) -> None:
    session = NOW.date()

    decisions = decide_tick(_strategies(), _context(chain), EMPTY, LIMITS, top_n=5, session=session)

    assert len(decisions.verdicts) == 3 and all(v.approved for v in decisions.verdicts)
    assert [i.tags["decision_id"] for i in decisions.entries] == [
        entry_decision_id(v.candidate, session) for v in decisions.verdicts
    ]
    assert decisions.exits == ()


def test_decide_tick_is_deterministic_and_respects_the_trading_state(chain: pd.DataFrame) -> None:
    session = NOW.date()
    first = decide_tick(_strategies(), _context(chain), EMPTY, LIMITS, top_n=5, session=session)
    again = decide_tick(_strategies(), _context(chain), EMPTY, LIMITS, top_n=5, session=session)
    halted = decide_tick(
        _strategies(),
        _context(chain),
        replace(EMPTY, entries_blocked="test"),
        LIMITS,
        top_n=5,
        session=session,
    )

    assert [i.client_order_id for i in first.entries] == [i.client_order_id for i in again.entries]
    assert halted.entries == () and all(v.reasons == ("entries blocked: test",) for v in halted.verdicts)


def test_a_strategy_on_several_underlyings_proposes_on_each_and_says_which_one_stood_aside(
    chain: pd.DataFrame,
) -> None:
    # Arrange: the same credit spread on SPY and QQQ; QQQ's chain is too thin at the money to trade
    quotes = quote_chain(NOW, underlying="QQQ", spot=400.0, strikes=range(300, 505, 5)).assign(
        open_interest=0
    )
    qqq = enrich_chain(quotes, NOW, {"QQQ": CARRY["SPY"]})
    both = pd.concat([chain, qqq], ignore_index=True)
    context = replace(_context(both), iv_ranks={"SPY": 50.0, "QQQ": 50.0})
    strategies = build_strategies({"credit_spread": CreditSpreadParams(also_on=("QQQ",))})

    # Act
    found = scan(strategies, context, DEFAULT_SCENARIOS, top_n=5)

    # Assert: two instances, one name; SPY trades, QQQ's reason names QQQ
    assert [(s.name, s.params.underlying) for s in strategies] == [
        ("credit_spread", "SPY"),
        ("credit_spread", "QQQ"),
    ]
    assert [c.underlying for c in found.kept] == ["SPY"]
    (spy, qqq_outcome) = found.outcomes
    assert spy.skipped == () and qqq_outcome.skipped[0].startswith("QQQ: ")
