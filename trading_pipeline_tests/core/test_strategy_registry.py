"""Strategies are plug-ins: built from configuration by name, proposing on one shared context."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.regime import RegimeName, RegimeParams
from trading_pipeline.core.regime_history import classify_regime
from trading_pipeline.core.strategies.base import StrategyContext, StrategyError
from trading_pipeline.core.strategies.names import DEFAULT_PERMISSIONS
from trading_pipeline.core.strategies.registry import (
    REGISTRY,
    build_strategies,
    strategies_named,
    strategy_named,
)
from trading_pipeline.core.strategies.short_strangle import ShortStrangle, ShortStrangleParams
from trading_pipeline_tests.core.chain_builders import NOW, enriched_chain


def _regime(vix: float, permissions: dict[RegimeName, frozenset[str]] = DEFAULT_PERMISSIONS):
    closes = pd.Series(np.full(200, 100.0), index=pd.bdate_range("2023-01-02", periods=200))
    return classify_regime(closes, vix=vix, iv_rank=None, params=RegimeParams(permissions=permissions))


def _context(vix: float = 18.0, **kwargs: object) -> StrategyContext:
    values = {
        "now": NOW,
        "chains": enriched_chain(),
        "iv_ranks": {"SPY": 50.0},
        "regime": _regime(vix),
        "limit_fraction": Decimal("0.5"),
        **kwargs,
    }
    return StrategyContext(**values)  # type: ignore[arg-type]


def test_strategies_are_built_by_name_from_their_configuration_sections() -> None:
    # Act
    built = build_strategies({"short_strangle": ShortStrangleParams(enabled=False, contracts=2)})

    # Assert
    assert [s.name for s in built] == ["short_strangle"] and not built[0].enabled
    assert strategy_named(built, "short_strangle").exit_rules().exit_dte == 21
    assert set(REGISTRY) == {"short_strangle", "credit_spread", "iron_condor", "zero_dte"}


def test_an_unknown_strategy_section_or_name_is_refused_naming_it() -> None:
    with pytest.raises(
        StrategyError,
        match=r"unknown strategies \['butterfly'\]; registered: \['credit_spread', 'iron_condor', "
        r"'short_strangle', 'zero_dte'\]",
    ):
        build_strategies({"butterfly": ShortStrangleParams()})
    with pytest.raises(StrategyError, match="no configured strategy 'iron_condor'"):
        strategy_named(build_strategies({"short_strangle": ShortStrangleParams()}), "iron_condor")


def test_the_strangle_proposes_through_the_context_sized_by_the_regime() -> None:
    # Arrange: range_volatile (VIX 28) halves the size; 3 contracts become 2 (1.5 rounded half up)
    strangle = ShortStrangle(ShortStrangleParams(contracts=3))

    # Act
    volatile = strangle.propose(_context(vix=28.0))
    calm = strangle.propose(_context(vix=18.0))

    # Assert
    assert [c.quantity for c in volatile.candidates] == [2]
    assert [c.quantity for c in calm.candidates] == [3]


def test_a_regime_that_does_not_permit_the_strangle_makes_it_stand_aside() -> None:
    # Arrange: a crisis (VIX 40) permits nothing
    strangle = ShortStrangle(ShortStrangleParams())

    # Act
    outcome = strangle.propose(_context(vix=40.0))

    # Assert
    assert outcome.candidates == ()
    assert "regime crisis does not permit short_strangle" in outcome.skipped


def test_a_strategy_on_an_underlying_without_an_iv_rank_is_an_error_naming_it() -> None:
    with pytest.raises(StrategyError, match=r"no IV rank for 'SPY'.*\['QQQ'\]"):
        ShortStrangle(ShortStrangleParams()).propose(_context(iv_ranks={"QQQ": 40.0}))


def test_strategies_named_keeps_only_the_named_ones_in_order() -> None:
    # Arrange
    built = build_strategies({name: REGISTRY[name].Params() for name in REGISTRY})

    # Act
    kept = strategies_named(built, frozenset({"iron_condor", "short_strangle"}))

    # Assert
    assert [s.name for s in kept] == ["short_strangle", "iron_condor"]
    assert strategies_named(built, None) == built


def test_strategies_named_with_an_unknown_name_is_an_error_naming_it() -> None:
    # Arrange
    built = build_strategies({name: REGISTRY[name].Params() for name in REGISTRY})

    # Act / Assert
    with pytest.raises(StrategyError, match=r"no configured strategy \['strangle'\]"):
        strategies_named(built, frozenset({"strangle"}))
