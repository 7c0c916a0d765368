"""The one shape every strategy has: a name, validated parameters, `propose(context)` and an exit policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Protocol

import pandas as pd
from pydantic import BaseModel

from trading_pipeline.core.candidates import StrategyOutcome
from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.intents import ExitPlan
from trading_pipeline.core.positions import Position
from trading_pipeline.core.regime import MarketRegime
from trading_pipeline.core.selection import rows_of


class StrategyError(ValueError):
    """A strategy that cannot run on what it was given (an underlying outside the universe, say)."""


@dataclass(frozen=True)
class StrategyContext:
    """What one decision tick knows, for every strategy alike: the enriched chains of the universe, IV ranks
    by underlying, the session's regime, the limit-price rule, `now` and the session's decision times."""

    now: datetime
    chains: pd.DataFrame
    iv_ranks: Mapping[str, float]
    regime: MarketRegime
    limit_fraction: Decimal
    #: Every decision time of the session (aware, before its close): the ticks that will next look at an
    #: open position, so a same-day entry knows whether one comes in time to close it. Empty: none known.
    decision_times: tuple[datetime, ...] = ()

    def chains_of(self, underlying: str) -> pd.DataFrame:
        """The chain rows of `underlying` (the whole chain when it holds that underlying only)."""
        return rows_of(self.chains, underlying)

    def iv_rank(self, underlying: str) -> float:
        """The IV rank of `underlying`; a strategy on an underlying outside the universe is an error."""
        if underlying not in self.iv_ranks:
            raise StrategyError(
                f"no IV rank for {underlying!r}: strategies trade the universe's {sorted(self.iv_ranks)}"
            )
        return float(self.iv_ranks[underlying])


class Strategy(Protocol):
    """A strategy plug-in, built from its validated parameters (`Params`)."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]

    @property
    def enabled(self) -> bool:
        """Whether configuration lets it propose entries (its open positions are exited either way)."""
        ...

    def propose(self, context: StrategyContext) -> StrategyOutcome:
        """Candidates for this tick, or the reasons it stood aside."""
        ...

    def exit_rules(self) -> ExitRules:
        """When its open positions close: the exit tiers (core/exits.py), first firing rule wins."""
        ...

    def adjustment(
        self, position: Position, chain: pd.DataFrame, limit_fraction: Decimal, session: date, now: datetime
    ) -> ExitPlan | None:
        """The adjustment (a roll) an open position it holds calls for at this tick, judged after its exit
        rules did not fire, else None."""
        ...
