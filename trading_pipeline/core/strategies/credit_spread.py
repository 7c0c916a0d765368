"""Credit verticals: a put spread when the underlying trends up, a call spread when it trends down."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal

import pandas as pd
from pydantic import BaseModel, Field

from trading_pipeline.core.candidates import StrategyOutcome
from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.instruments import Right
from trading_pipeline.core.intents import ExitPlan
from trading_pipeline.core.positions import Position
from trading_pipeline.core.regime import Trend, regime_trend
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.credit_structures import (
    CreditStructureParams,
    propose_credit_structure,
    underlying_regime,
)
from trading_pipeline.core.strategies.names import CREDIT_SPREAD


class CreditSpreadParams(CreditStructureParams):
    """The credit structure's parameters and the side to sell when the trend is sideways."""

    short_delta: float = Field(0.25, gt=0.0, lt=0.5)
    #: put: a sideways market is sold like a bullish one (the equity drift); none: no spread then.
    sideways_side: Literal["put", "call", "none"] = "put"


class CreditSpread:
    """The credit vertical as a Strategy plug-in (core/strategies/base.py)."""

    name: ClassVar[str] = CREDIT_SPREAD
    Params: ClassVar[type[BaseModel]] = CreditSpreadParams

    def __init__(self, params: CreditSpreadParams) -> None:
        self.params = params

    @property
    def enabled(self) -> bool:
        return self.params.enabled

    def side(self, context: StrategyContext) -> Right | None:
        """Bullish (UP): sell puts; bearish (DOWN): sell calls; sideways: `sideways_side`; crisis: none."""
        trend = regime_trend(underlying_regime(context.regime, self.params.underlying))
        if trend is Trend.UP:
            return Right.PUT
        if trend is Trend.DOWN:
            return Right.CALL
        if trend is Trend.SIDEWAYS and self.params.sideways_side != "none":
            return Right.PUT if self.params.sideways_side == "put" else Right.CALL
        return None

    def propose(self, context: StrategyContext) -> StrategyOutcome:
        """At most one vertical on its underlying, on the side its regime's trend calls for."""
        regime = underlying_regime(context.regime, self.params.underlying)
        right = self.side(context)
        if right is None:
            reason = f"regime {regime.value} calls for no credit spread side"
            return StrategyOutcome(self.name, skipped=(reason,))
        why = f"regime {regime.value}: sell the {right.name.lower()} side"
        return propose_credit_structure(
            self.name, self.params, context, (right,), why, self.params.window_expiration_rows
        )

    def exit_rules(self) -> ExitRules:
        return self.params.exit_rules()

    def adjustment(
        self, position: Position, chain: pd.DataFrame, limit_fraction: Decimal, session: date, now: datetime
    ) -> ExitPlan | None:
        """No adjustment: its positions are managed by their exit rules alone."""
        del position, chain, limit_fraction, session, now
        return None
