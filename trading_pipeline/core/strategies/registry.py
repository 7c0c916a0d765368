"""The registry of strategy plug-ins: configuration names them, no asset does."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from trading_pipeline.core.strategies.base import Strategy, StrategyError
from trading_pipeline.core.strategies.credit_spread import CreditSpread
from trading_pipeline.core.strategies.iron_condor import IronCondor
from trading_pipeline.core.strategies.short_strangle import ShortStrangle
from trading_pipeline.core.strategies.zero_dte import ZeroDte

#: Strategy classes by name; a configuration section `strategies.<name>` holds each one's parameters.
REGISTRY: dict[str, type[Strategy]] = {
    strategy.name: strategy for strategy in (ShortStrangle, CreditSpread, IronCondor, ZeroDte)
}


def build_strategies(sections: Mapping[str, BaseModel]) -> list[Strategy]:
    """Every configured strategy, built from its parameters, in the registry's order: one instance per
    underlying it trades (`also_on`)."""
    unknown = sorted(set(sections) - set(REGISTRY))
    if unknown:
        raise StrategyError(f"unknown strategies {unknown}; registered: {sorted(REGISTRY)}")
    built: list[Strategy] = []
    for name in (n for n in REGISTRY if n in sections):
        params = sections[name]
        per_underlying = params.instances() if hasattr(params, "instances") else [params]
        built.extend(REGISTRY[name](p) for p in per_underlying)
    return built


def strategy_named(strategies: list[Strategy], name: str) -> Strategy:
    """The strategy called `name` (an open position's), or an error naming the configured ones."""
    for strategy in strategies:
        if strategy.name == name:
            return strategy
    raise StrategyError(f"no configured strategy {name!r}; configured: {[s.name for s in strategies]}")


def strategies_named(strategies: list[Strategy], names: frozenset[str] | None) -> list[Strategy]:
    """The strategies called one of `names`, in order (None: all); a name no strategy has is an error."""
    if names is None:
        return strategies
    unknown = sorted(names - {s.name for s in strategies})
    if unknown:
        raise StrategyError(
            f"no configured strategy {unknown}; configured: {sorted({s.name for s in strategies})}"
        )
    return [s for s in strategies if s.name in names]
