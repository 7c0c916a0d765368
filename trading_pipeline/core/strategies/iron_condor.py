"""Iron condor: a put credit spread and a call credit spread on one expiration, for neutral regimes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import pandas as pd
from pydantic import BaseModel, Field

from trading_pipeline.core.candidates import StrategyOutcome
from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.instruments import Right
from trading_pipeline.core.intents import ExitPlan
from trading_pipeline.core.positions import Position
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.credit_structures import CreditStructureParams, propose_credit_structure
from trading_pipeline.core.strategies.names import IRON_CONDOR


class IronCondorParams(CreditStructureParams):
    """The credit structure's parameters with condor defaults: 16-delta shorts, IV rank of at least 30."""

    short_delta: float = Field(0.16, gt=0.0, lt=0.5)
    max_delta_error: float = Field(0.04, gt=0.0, lt=0.5)
    dte_target: int = Field(45, ge=1, le=365)
    min_iv_rank: float = Field(30.0, ge=0.0, le=100.0)


class IronCondor:
    """The iron condor as a Strategy plug-in (core/strategies/base.py)."""

    name: ClassVar[str] = IRON_CONDOR
    Params: ClassVar[type[BaseModel]] = IronCondorParams

    def __init__(self, params: IronCondorParams) -> None:
        self.params = params

    @property
    def enabled(self) -> bool:
        return self.params.enabled

    def propose(self, context: StrategyContext) -> StrategyOutcome:
        """At most one condor on its underlying: both sides sold at the same delta, wings bought."""
        why = f"iv rank {context.iv_rank(self.params.underlying):.1f} >= {self.params.min_iv_rank:.1f}"
        rights = (Right.PUT, Right.CALL)
        return propose_credit_structure(
            self.name, self.params, context, rights, why, self.params.window_expiration_rows
        )

    def exit_rules(self) -> ExitRules:
        return self.params.exit_rules()

    def adjustment(
        self, position: Position, chain: pd.DataFrame, limit_fraction: Decimal, session: date, now: datetime
    ) -> ExitPlan | None:
        """No adjustment: its positions are managed by their exit rules alone."""
        del position, chain, limit_fraction, session, now
        return None
