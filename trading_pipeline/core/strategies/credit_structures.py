"""What credit verticals, iron condors and 0DTE structures share: parameters, long wing, priced candidate.

A credit structure sells a strike by delta and buys the strike `width` points further out of the money on
the same expiration, on one side (a vertical) or both (an iron condor). Its max loss, and its buying-power
requirement, is the widest side's width less the credit at the limit price that will be sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Literal, Self

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, model_validator

from trading_pipeline.core.candidates import Premium, StrategyOutcome, TradeCandidate
from trading_pipeline.core.exits import ExitRules
from trading_pipeline.core.fills import LegQuote, limit_price, structure_price
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side, contract_multiplier
from trading_pipeline.core.margin import defined_risk_requirement
from trading_pipeline.core.regime import MarketRegime, RegimeName
from trading_pipeline.core.selection import (
    LiquidityFloor,
    SelectionError,
    chain_contract,
    choose_expiration,
    occ_roots,
    strike_by_delta,
    strike_by_expected_move,
)
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.params import (
    EntryTimes,
    ExitTiers,
    delta_tolerance_problem,
    window_problems,
)

#: A wing may miss the configured width by at most this fraction of it (strikes are listed on a grid).
WIDTH_TOLERANCE = 0.5


class CreditLegsParams(EntryTimes):
    """What every defined-risk credit structure sells, buys and exits on, with bounds, whatever rule picks its
    expiration (a DTE window, or the same day for 0DTE)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    underlying: str = "SPY"
    #: More underlyings traded with the same parameters, one strategy instance each (limits per strategy
    #: name are shared: e.g. 0DTE on SPY, QQQ and SPX with one entry a session in all).
    also_on: tuple[str, ...] = ()
    #: How the sold strike is picked: by |delta| (short_delta), or `expected_move_multiple` expected moves
    #: (spot x at-the-money IV x sqrt(years)) out of the money.
    short_strike_by: Literal["delta", "expected_move"] = "delta"
    expected_move_multiple: float = Field(1.0, gt=0.0, le=5.0)
    short_delta: float = Field(0.20, gt=0.0, lt=0.5)
    #: A sold strike's |delta| may miss short_delta by at most this much (else no trade).
    max_delta_error: float = Field(0.05, gt=0.0, lt=0.5)
    #: Points between the sold and the bought strike of a side.
    width: Decimal = Field(Decimal("5"), gt=0, le=500)
    #: Liquidity floor of the sold strikes and the expiration at the money; wings need the open interest.
    min_open_interest: int = Field(100, ge=0)
    max_spread_pct: float = Field(10.0, gt=0.0, le=100.0)
    min_iv_rank: float = Field(0.0, ge=0.0, le=100.0)
    #: The credit at the limit price must be at least this % of the widest side's width.
    min_credit_pct_of_width: float = Field(15.0, ge=0.0, lt=100.0)
    contracts: int = Field(1, ge=1, le=100)
    profit_target_pct: float = Field(50.0, gt=0.0, le=100.0)
    loss_stop_multiple: float = Field(2.0, gt=0.0, le=20.0)
    exit_tiers: ExitTiers = ExitTiers()

    @property
    def first_entry_dte(self) -> int:
        """The fewest days to expiration an entry can have (0: same-day); a DTE floor must not exceed it."""
        return 0

    @model_validator(mode="after")
    def _exit_tiers_agree_with_the_exits(self) -> Self:
        problem = self.exit_tiers.problem(self.loss_stop_multiple, self.first_entry_dte)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _also_on_names_other_underlyings(self) -> Self:
        names = [self.underlying, *self.also_on]
        if len(set(names)) != len(names):
            raise ValueError(f"also_on {list(self.also_on)} repeats an underlying of {names}")
        return self

    def instances(self) -> list[Self]:
        """These parameters once per traded underlying: the main one, then each of `also_on`."""
        return [self, *(self.model_copy(update={"underlying": u, "also_on": ()}) for u in self.also_on)]

    @model_validator(mode="after")
    def _delta_tolerance_is_narrower(self) -> Self:
        problem = delta_tolerance_problem(("short_delta", self.short_delta), self.max_delta_error)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def liquidity(self) -> LiquidityFloor:
        return LiquidityFloor(self.min_open_interest, self.max_spread_pct)


class CreditStructureParams(CreditLegsParams):
    """The credit legs on the expiration of a DTE window, closed at `exit_dte` at the latest."""

    dte_min: int = Field(30, ge=1, le=365)
    dte_max: int = Field(50, ge=1, le=365)
    dte_target: int = Field(40, ge=1, le=365)
    exit_dte: int = Field(21, ge=0, le=365)

    @model_validator(mode="after")
    def _windows_are_ordered(self) -> Self:
        problem = window_problems(
            self.dte_min,
            self.dte_target,
            self.dte_max,
            self.exit_dte,
            ("short_delta", self.short_delta),
            self.max_delta_error,
        )
        if problem:
            raise ValueError(problem)
        return self

    def window_expiration_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows of the liquid expiration of the DTE window closest to its target (core/selection.py)."""
        expiration = choose_expiration(rows, self.dte_min, self.dte_max, self.dte_target, self.liquidity)
        return rows[rows["expiration"].to_numpy() == np.datetime64(pd.Timestamp(expiration))]

    @property
    def first_entry_dte(self) -> int:
        return self.dte_min

    def exit_rules(self) -> ExitRules:
        """Profit target, loss stop and DTE exit with the configured exit tiers."""
        return self.exit_tiers.rules(self.profit_target_pct, self.loss_stop_multiple, self.exit_dte)


#: The chain rows of the one expiration a structure trades, from its underlying's rows (or a SelectionError
#: saying why none): a DTE window's, or the session's own for 0DTE.
ExpirationRule = Callable[[pd.DataFrame], pd.DataFrame]


def stand_aside_reasons(
    name: str, params: CreditLegsParams, context: StrategyContext
) -> tuple[list[str], int]:
    """Why the strategy proposes nothing this tick (disabled, regime, IV rank, size), and its regime size."""
    regime = context.regime
    reasons = []
    if not params.enabled:
        reasons.append("strategy disabled in configuration")
    if not regime.allows(name):
        reasons.append(f"regime {regime.name.value} does not permit {name}")
    iv_rank = context.iv_rank(params.underlying)
    if iv_rank < params.min_iv_rank:
        reasons.append(f"iv rank {iv_rank:.1f} below minimum {params.min_iv_rank:.1f}")
    quantity = regime.sized(params.contracts)
    if quantity < 1:
        reasons.append(f"regime {regime.name.value} sizes {name} to {quantity} contracts")
    return reasons, quantity


def underlying_regime(regime: MarketRegime, underlying: str) -> RegimeName:
    """The regime of `underlying`'s own closes when it was classified, else the market's."""
    return regime.by_underlying.get(underlying, regime.name)


def wing_contract(rows: pd.DataFrame, short: pd.Series, width: Decimal, min_oi: float) -> pd.Series:
    """The contract to buy `width` points further out of the money than the sold one: of the same root
    (SPXW with SPXW: never a PM-settled short over an AM-settled wing), expiration and right, the listed
    strike closest to that distance (the narrower on a tie) with an ask, greeks and open interest."""
    root = OptionContract.from_occ(str(short["occ_symbol"])).root
    right, short_strike = Right(short["right"]), float(short["strike"])
    expiration = pd.Timestamp(short["expiration"]).date()
    # numpy until the one chosen row: it runs for every side of every structure on every tick
    strikes = rows["strike"].to_numpy(dtype=float)
    further = strikes < short_strike if right is Right.PUT else strikes > short_strike
    quoted = np.flatnonzero(
        (rows["expiration"].to_numpy() == np.datetime64(pd.Timestamp(expiration)))
        & (rows["right"].to_numpy() == right.value)
        & further
        & (rows["ask"].to_numpy(dtype=float) > 0)
        & ~np.isnan(rows["delta"].to_numpy(dtype=float))
        & (rows["open_interest"].to_numpy(dtype=float) >= min_oi)
        & (occ_roots(rows).to_numpy() == root)
    )
    name = right.name.lower()
    if not len(quoted):
        raise SelectionError(
            f"no {name} beyond strike {short_strike:g} for {expiration.isoformat()} with an ask and open "
            f"interest >= {min_oi:g} to buy as the wing"
        )
    distance = np.abs(strikes[quoted] - short_strike)
    miss = np.abs(distance - float(width)).round(10)
    best = rows.iloc[quoted[np.lexsort((distance, miss))[0]]]
    if miss.min() > float(width) * WIDTH_TOLERANCE:
        raise SelectionError(
            f"no {name} wing about {width} points beyond strike {short_strike:g} for "
            f"{expiration.isoformat()}: "
            f"the closest listed is strike {best['strike']:g}, {abs(best['strike'] - short_strike):g} away"
        )
    if float(best["mid"]) >= float(short["mid"]):
        raise SelectionError(
            f"the {name} wing {str(best['occ_symbol']).strip()} (mid {best['mid']:g}) is priced at or above "
            f"the sold {str(short['occ_symbol']).strip()} (mid {short['mid']:g}): that side pays no credit"
        )
    return best


def sides_on(
    rows: pd.DataFrame, expiration: date, rights: Sequence[Right], params: CreditLegsParams
) -> list[tuple[pd.Series, pd.Series]]:
    """Per right, the (sold, bought) contract rows of the structure on `expiration`."""
    pairs: list[tuple[pd.Series, pd.Series]] = []
    for right in rights:
        if pairs:  # every side on the first side's root: one settlement for the whole structure
            same_root = (
                occ_roots(rows).to_numpy() == OptionContract.from_occ(str(pairs[0][0]["occ_symbol"])).root
            )
            rows = rows if same_root.all() else rows[same_root]
        if params.short_strike_by == "expected_move":
            short = strike_by_expected_move(
                rows, expiration, right, params.expected_move_multiple, params.liquidity
            )
        else:
            short = strike_by_delta(
                rows, expiration, right, params.short_delta, params.max_delta_error, params.liquidity
            )
        wing = wing_contract(rows, short, params.width, params.min_open_interest)
        pairs.append((short, wing))
    return pairs


def credit_structure_candidate(
    name: str,
    params: CreditLegsParams,
    expiration: date,
    pairs: list[tuple[pd.Series, pd.Series]],
    quantity: int,
    context: StrategyContext,
    why: str,
) -> StrategyOutcome:
    """The priced candidate of (sold, bought) pairs, or why it stands aside (a credit below the minimum)."""
    rows = [row for pair in pairs for row in pair]
    legs = tuple(
        Leg(chain_contract(row, params.underlying), side)
        for short, wing in pairs
        for row, side in ((short, Side.SELL), (wing, Side.BUY))
    )
    quotes = tuple(LegQuote(row["bid"], row["ask"]) for row in rows)
    mid_value = structure_price(legs, quotes, Decimal(0))
    limit = limit_price(legs, quotes, context.limit_fraction)
    credit, credit_at_limit = -mid_value, -limit
    widths = tuple(abs(Decimal(str(short["strike"])) - Decimal(str(wing["strike"]))) for short, wing in pairs)
    minimum = (max(widths) * Decimal(str(params.min_credit_pct_of_width)) / 100).quantize(Decimal("0.01"))
    if credit_at_limit < minimum or credit_at_limit <= 0:
        return StrategyOutcome(
            name,
            skipped=(
                f"credit at the limit {credit_at_limit} (mid {credit}) below minimum {minimum} "
                f"({params.min_credit_pct_of_width:g}% of width {float(max(widths)):g})",
            ),
        )
    multiplier = contract_multiplier(params.underlying)
    requirement = defined_risk_requirement(widths, credit_at_limit, multiplier)
    signs = [leg.side.sign for leg in legs]

    def net(column: str) -> float:
        return float(sum(sign * float(row[column]) for sign, row in zip(signs, rows, strict=True)))

    credit_f = float(credit)
    breakevens = tuple(
        float(short["strike"]) + (credit_f if short["right"] == Right.CALL.value else -credit_f)
        for short, _ in sorted(pairs, key=lambda pair: float(pair[0]["strike"]))
    )
    candidate = TradeCandidate(
        strategy=name,
        underlying=params.underlying,
        expiration=expiration,
        legs=legs,
        quantity=quantity,
        mid_value=mid_value,
        natural_value=structure_price(legs, quotes, Decimal(1)),
        limit_price=limit,
        buying_power=requirement,
        max_loss=requirement,
        premium=Premium.CREDIT,
        breakevens=breakevens,
        delta=net("delta"),
        theta=net("theta"),
        vega=net("vega"),
        score=float(credit_at_limit) * multiplier / float(requirement),
        rationale=(
            f"{why}; "
            + "; ".join(
                f"sell {str(short['occ_symbol']).strip()} (delta {short['delta']:.3f}), buy "
                f"{str(wing['occ_symbol']).strip()}"
                for short, wing in pairs
            )
            + f" for {credit} credit at mid, {int(rows[0]['dte'])} DTE"
        ),
        details={
            "iv_rank": context.iv_rank(params.underlying),
            "regime": context.regime.name.value,
            "dte": int(rows[0]["dte"]),
            "spot": float(rows[0]["underlying_price"]),
            "width": float(max(widths)),
            "credit_at_limit": float(credit_at_limit),
        },
    )
    return StrategyOutcome(name, candidates=(candidate,))


def propose_credit_structure(
    name: str,
    params: CreditLegsParams,
    context: StrategyContext,
    rights: Sequence[Right],
    why: str,
    expiration_rule: ExpirationRule,
) -> StrategyOutcome:
    """Select and price the structure on `rights` of the params' underlying, on the expiration
    `expiration_rule` picks, or say why not."""
    skipped, quantity = stand_aside_reasons(name, params, context)
    if skipped:
        return StrategyOutcome(name, skipped=tuple(skipped))
    rows = context.chains_of(params.underlying)
    try:
        chosen = expiration_rule(rows)
        expiration = pd.Timestamp(chosen["expiration"].iloc[0]).date()
        pairs = sides_on(chosen, expiration, rights, params)
        return credit_structure_candidate(name, params, expiration, pairs, quantity, context, why)
    except SelectionError as exc:
        return StrategyOutcome(name, skipped=(str(exc),))
