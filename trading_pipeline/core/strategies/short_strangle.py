"""SPY short strangle: sell a ~16-delta put and call ~45 DTE when IV rank is high enough."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading_pipeline.core.adjustments import StrangleRollParams, plan_strangle_roll
from trading_pipeline.core.candidates import Premium, StrategyOutcome, TradeCandidate
from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.fills import LegQuote, limit_price, structure_price
from trading_pipeline.core.instruments import Leg, Right, Side, contract_multiplier
from trading_pipeline.core.intents import ExitPlan
from trading_pipeline.core.margin import naked_base_pct, short_strangle_requirement
from trading_pipeline.core.positions import Position
from trading_pipeline.core.regime import RegimeName
from trading_pipeline.core.selection import (
    LiquidityFloor,
    SelectionError,
    chain_contract,
    choose_expiration,
    rows_of,
    strike_by_delta,
)
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.names import SHORT_STRANGLE
from trading_pipeline.core.strategies.params import EntryTimes, ExitTiers, window_problems

STRATEGY = SHORT_STRANGLE


class IvRankWindow(BaseModel):
    """A DTE window used when the IV rank is at least `min_iv_rank` (rich premium: often a shorter one)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_iv_rank: float = Field(ge=0.0, le=100.0)
    dte_min: int = Field(ge=1, le=365)
    dte_target: int = Field(ge=1, le=365)
    dte_max: int = Field(ge=1, le=365)


class ShortStrangleParams(EntryTimes):
    """Entry and exit parameters of the short strangle, with bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    underlying: str = "SPY"
    target_delta: float = Field(0.16, gt=0.0, lt=0.5)
    #: The sold strikes' |delta| may miss target_delta by at most this much (else no trade).
    max_delta_error: float = Field(0.03, gt=0.0, lt=0.5)
    #: Liquidity floor of the sold strikes and of the chosen expiration at the money.
    min_open_interest: int = Field(100, ge=0)
    max_spread_pct: float = Field(10.0, gt=0.0, le=100.0)
    dte_min: int = Field(40, ge=1, le=365)
    dte_max: int = Field(50, ge=1, le=365)
    dte_target: int = Field(45, ge=1, le=365)
    min_iv_rank: float = Field(30.0, ge=0.0, le=100.0)
    min_credit: Decimal = Field(Decimal("1.00"), ge=0)
    contracts: int = Field(1, ge=1, le=100)
    profit_target_pct: float = Field(50.0, gt=0.0, le=100.0)
    exit_dte: int = Field(21, ge=0, le=365)
    loss_stop_multiple: float = Field(2.0, gt=0.0, le=20.0)
    exit_tiers: ExitTiers = ExitTiers()
    #: Rolling a tested strangle (core/adjustments.py); off by default.
    roll: StrangleRollParams = StrangleRollParams()
    #: Options: the DTE window of the highest band whose min_iv_rank the IV rank reaches replaces the one
    #: above; the target delta of the session's regime replaces target_delta. Empty: not used.
    dte_by_iv_rank: tuple[IvRankWindow, ...] = ()
    delta_by_regime: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _windows_and_options_are_valid(self) -> ShortStrangleParams:
        windows = [("", (self.dte_min, self.dte_target, self.dte_max))] + [
            (f"dte_by_iv_rank (min_iv_rank {b.min_iv_rank:g}): ", (b.dte_min, b.dte_target, b.dte_max))
            for b in self.dte_by_iv_rank
        ]
        for where, (low, target, high) in windows:
            problem = window_problems(
                low, target, high, self.exit_dte, ("target_delta", self.target_delta), self.max_delta_error
            )
            if problem:
                raise ValueError(f"{where}{problem}")
        first_entry_dte = min(low for _, (low, _, _) in windows)
        problem = self.exit_tiers.problem(self.loss_stop_multiple, first_entry_dte)
        if problem:
            raise ValueError(problem)
        known = {name.value for name in RegimeName}
        for regime, delta in self.delta_by_regime.items():
            if regime not in known:
                raise ValueError(f"delta_by_regime: unknown regime {regime!r}; regimes: {sorted(known)}")
            if not self.max_delta_error < delta < 0.5:
                raise ValueError(
                    f"delta_by_regime.{regime}: {delta} must lie in ({self.max_delta_error}, 0.5) "
                    "(above the delta tolerance)"
                )
        return self

    def window_for(self, iv_rank: float) -> tuple[int, int, int]:
        """(dte_min, dte_target, dte_max) at this IV rank."""
        bands = [b for b in self.dte_by_iv_rank if iv_rank >= b.min_iv_rank]
        if not bands:
            return self.dte_min, self.dte_target, self.dte_max
        band = max(bands, key=lambda b: b.min_iv_rank)
        return band.dte_min, band.dte_target, band.dte_max

    def delta_for(self, regime: str) -> float:
        """The target delta of the sold strikes in this regime."""
        return self.delta_by_regime.get(regime, self.target_delta)

    @property
    def liquidity(self) -> LiquidityFloor:
        """The liquidity floor every sold contract, and the chosen expiration at the money, must pass."""
        return LiquidityFloor(self.min_open_interest, self.max_spread_pct)


def short_strangle_candidates(
    chain: pd.DataFrame,
    iv_rank: float,
    strategy_allowed: bool,
    regime_name: str,
    params: ShortStrangleParams,
    limit_fraction: Decimal,
    now: datetime,
    contracts: int | None = None,
) -> StrategyOutcome:
    """Propose at most one strangle from an enriched chain of `params.underlying`, or say why not;
    `contracts` (the regime's sizing of params.contracts) replaces the configured size when given."""
    del now  # the chain already carries time to expiry; kept for the common strategy signature
    skipped: list[str] = []
    if not params.enabled:
        skipped.append("strategy disabled in configuration")
    if not strategy_allowed:
        skipped.append(f"regime {regime_name} does not permit {STRATEGY}")
    if iv_rank < params.min_iv_rank:
        skipped.append(f"iv rank {iv_rank:.1f} below minimum {params.min_iv_rank:.1f}")
    quantity = params.contracts if contracts is None else contracts
    if quantity < 1:
        skipped.append(f"regime {regime_name} sizes {STRATEGY} to {quantity} contracts")
    if skipped:
        return StrategyOutcome(STRATEGY, skipped=tuple(skipped))

    rows = rows_of(chain, params.underlying)
    dte_min, dte_target, dte_max = params.window_for(iv_rank)
    target_delta = params.delta_for(regime_name)
    try:
        expiration = choose_expiration(rows, dte_min, dte_max, dte_target, params.liquidity)
        put, call = (
            strike_by_delta(rows, expiration, right, target_delta, params.max_delta_error, params.liquidity)
            for right in (Right.PUT, Right.CALL)
        )
        legs = (
            Leg(chain_contract(put, params.underlying), Side.SELL),
            Leg(chain_contract(call, params.underlying), Side.SELL),
        )
    except SelectionError as exc:
        return StrategyOutcome(STRATEGY, skipped=(str(exc),))

    quotes = (LegQuote(put["bid"], put["ask"]), LegQuote(call["bid"], call["ask"]))
    mid_value = structure_price(legs, quotes, Decimal(0))
    limit = limit_price(legs, quotes, limit_fraction)
    credit = -mid_value
    # The limit is what will be sent (and the least a fill can give): the minimum credit holds against it.
    credit_at_limit = -limit
    if credit_at_limit < params.min_credit:
        return StrategyOutcome(
            STRATEGY,
            skipped=(
                f"credit at the limit {credit_at_limit} (mid {credit}) below minimum {params.min_credit}",
            ),
        )
    spot = Decimal(str(put["underlying_price"]))
    multiplier = contract_multiplier(params.underlying)
    buying_power = short_strangle_requirement(
        legs[0].contract.strike,
        legs[1].contract.strike,
        spot,
        Decimal(str(put["mid"])),
        Decimal(str(call["mid"])),
        multiplier,
        naked_base_pct(legs[0].contract.root),
    )
    credit_f = float(credit)
    candidate = TradeCandidate(
        strategy=STRATEGY,
        underlying=params.underlying,
        expiration=expiration,
        legs=legs,
        quantity=quantity,
        mid_value=mid_value,
        natural_value=structure_price(legs, quotes, Decimal(1)),
        limit_price=limit,
        buying_power=buying_power,
        max_loss=None,
        premium=Premium.CREDIT,
        breakevens=(float(legs[0].contract.strike) - credit_f, float(legs[1].contract.strike) + credit_f),
        delta=-(float(put["delta"]) + float(call["delta"])),
        theta=-(float(put["theta"]) + float(call["theta"])),
        vega=-(float(put["vega"]) + float(call["vega"])),
        score=credit_f * multiplier / float(buying_power),
        rationale=(
            f"iv rank {iv_rank:.1f} >= {params.min_iv_rank:.1f}; sell {put['occ_symbol'].strip()} "
            f"(delta {put['delta']:.3f}) and {call['occ_symbol'].strip()} (delta {call['delta']:.3f}) "
            f"for {credit} credit at mid, {int(put['dte'])} DTE (target delta {target_delta:g}, "
            f"DTE window {dte_min}-{dte_max})"
        ),
        details={
            "iv_rank": iv_rank,
            "regime": regime_name,
            "dte": int(put["dte"]),
            "spot": float(spot),
            "put_iv": float(put["iv"]),
            "call_iv": float(call["iv"]),
        },
    )
    return StrategyOutcome(STRATEGY, candidates=(candidate,))


class ShortStrangle:
    """The short strangle as a Strategy plug-in (core/strategies/base.py)."""

    name: ClassVar[str] = STRATEGY
    Params: ClassVar[type[BaseModel]] = ShortStrangleParams

    def __init__(self, params: ShortStrangleParams) -> None:
        self.params = params

    @property
    def enabled(self) -> bool:
        return self.params.enabled

    def propose(self, context: StrategyContext) -> StrategyOutcome:
        """At most one strangle on its underlying, permitted and sized by the session's regime."""
        regime = context.regime
        return short_strangle_candidates(
            context.chains,
            context.iv_rank(self.params.underlying),
            regime.allows(self.name),
            regime.name.value,
            self.params,
            context.limit_fraction,
            context.now,
            contracts=regime.sized(self.params.contracts),
        )

    def exit_rules(self) -> ExitRules:
        """Profit target, loss stop and DTE exit with the configured exit tiers."""
        p = self.params
        return p.exit_tiers.rules(p.profit_target_pct, p.loss_stop_multiple, p.exit_dte)

    def adjustment(
        self, position: Position, chain: pd.DataFrame, limit_fraction: Decimal, session: date, now: datetime
    ) -> ExitPlan | None:
        """The roll a tested strangle calls for (core/adjustments.py), when its roll section is enabled."""
        return plan_strangle_roll(position, chain, self.params, limit_fraction, session, now)
