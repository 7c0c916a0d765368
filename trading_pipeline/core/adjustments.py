"""Strangle adjustments, planned purely: roll the untested side of a tested short strangle back to the target
delta in the same expiration, or (optionally) roll the whole strangle out in time for a net credit.

A side is tested when spot comes within the trigger distance (percent of spot, or expected moves of the
position's expiration) of its short strike. Closing at max loss is not a roll step: the exit tiers' stops
(core/exits.py) judge the position first, and a position they close is never rolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from trading_pipeline.core.chain import MissingLegError, leg_rows
from trading_pipeline.core.decisions import DecisionKind
from trading_pipeline.core.fills import LegQuote, limit_price
from trading_pipeline.core.instruments import Leg, Right, Side
from trading_pipeline.core.intents import ExitPlan, position_order_plan
from trading_pipeline.core.positions import Position
from trading_pipeline.core.selection import (
    SelectionError,
    chain_contract,
    choose_expiration,
    expected_move,
    rows_of,
    strike_by_delta,
)

if TYPE_CHECKING:
    from trading_pipeline.core.strategies.short_strangle import ShortStrangleParams


class StrangleRollParams(BaseModel):
    """When an open short strangle is rolled (off by default): the trigger distance from a short strike, and
    whether a breached strangle is rolled out to the next expiration of the DTE window for a net credit."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    #: How the distance from spot to a short strike is measured: percent of spot, or expected moves (spot x
    #: at-the-money IV x sqrt(years) of the position's expiration).
    trigger: Literal["percent", "expected_move"] = "percent"
    trigger_pct: float = Field(2.0, gt=0.0, le=50.0)
    trigger_expected_moves: float = Field(0.5, gt=0.0, le=5.0)
    #: With spot through a short strike, roll both legs out (to the expiration of the entry DTE window
    #: nearest its target, after the current one) at the target delta, only for a net credit.
    roll_out: bool = False


@dataclass(frozen=True)
class _Strangle:
    """The two short legs of a strangle position and the chain rows that quote them."""

    put: Leg
    call: Leg
    rows: pd.DataFrame

    @property
    def spot(self) -> float:
        return float(self.rows["underlying_price"].iloc[0])

    def row(self, leg: Leg) -> pd.Series:
        return self.rows.loc[leg.contract.occ_symbol]

    def distance(self, leg: Leg) -> float:
        """Points from spot to the leg's strike on its out-of-the-money side (negative once breached)."""
        strike = float(leg.contract.strike)
        return self.spot - strike if leg.contract.right is Right.PUT else strike - self.spot


def _strangle(position: Position, chain: pd.DataFrame) -> _Strangle | None:
    """The strangle's legs and their rows, or None for another structure or a leg the chain does not quote
    (a stale position is left to the exits' stale handling)."""
    sold = {leg.contract.right: leg for leg in position.legs if leg.side is Side.SELL}
    if len(position.legs) != 2 or set(sold) != {Right.PUT, Right.CALL}:
        return None
    try:
        rows = leg_rows(chain, position.legs)
    except MissingLegError:
        return None
    return _Strangle(sold[Right.PUT], sold[Right.CALL], rows)


def _trigger_points(roll: StrangleRollParams, strangle: _Strangle, chain: pd.DataFrame) -> tuple[float, str]:
    """The trigger distance in points, and how it was set, for the position's expiration."""
    if roll.trigger == "percent":
        return strangle.spot * roll.trigger_pct / 100, f"{roll.trigger_pct:g}% of spot"
    expiration = strangle.put.contract.expiration
    same = chain[chain["expiration"].to_numpy() == np.datetime64(pd.Timestamp(expiration))]
    move = expected_move(same)
    return roll.trigger_expected_moves * move, f"{roll.trigger_expected_moves:g} expected moves of {move:.2f}"


def _roll_plan(
    position: Position,
    legs: tuple[Leg, ...],
    quotes: tuple[LegQuote, ...],
    reason: str,
    limit_fraction: Decimal,
    session: date,
    now: datetime,
) -> ExitPlan:
    """The roll's decision and its one multi-leg intent (closing legs first, then the new ones); one roll
    decision per tick, so a rerun of the tick replays the same ids."""
    limit = limit_price(legs, quotes, limit_fraction)
    details = {"limit_price": str(limit), "legs": [leg.contract.occ_symbol for leg in legs]}
    return position_order_plan(position, legs, limit, DecisionKind.ROLL, reason, details, session, now)


def _quote(row: pd.Series) -> LegQuote:
    return LegQuote(Decimal(str(row["bid"])), Decimal(str(row["ask"])))


def _net(limit: Decimal) -> str:
    return f"net credit {-limit}" if limit < 0 else f"net debit {limit}"


def _roll_untested(
    position: Position,
    strangle: _Strangle,
    tested: Leg,
    chain: pd.DataFrame,
    params: ShortStrangleParams,
) -> tuple[tuple[Leg, ...], tuple[LegQuote, ...], str] | None:
    """The untested leg closed and its replacement sold at the target delta in the same expiration, or None
    when its |delta| is still within tolerance of the target (nothing to gain), no strike qualifies, or the
    new strike would cross the tested one."""
    untested = strangle.call if tested is strangle.put else strangle.put
    old = strangle.row(untested)
    if abs(float(old["delta"])) >= params.target_delta - params.max_delta_error:
        return None
    contract = untested.contract
    try:
        new = strike_by_delta(
            chain,
            contract.expiration,
            contract.right,
            params.target_delta,
            params.max_delta_error,
            params.liquidity,
        )
    except SelectionError:
        return None
    new_leg = Leg(chain_contract(new, position.underlying), Side.SELL, untested.ratio)
    put_strike, call_strike = (
        (tested.contract.strike, new_leg.contract.strike)
        if contract.right is Right.CALL
        else (new_leg.contract.strike, tested.contract.strike)
    )
    if new_leg.contract == contract or put_strike >= call_strike:
        return None  # no move, or an inverted strangle (its strikes crossed): left to the exits
    side = contract.right.name.lower()
    why = (
        f"roll the untested {side} {contract.occ_symbol.strip()} (delta {float(old['delta']):.3f}) to "
        f"{new_leg.contract.occ_symbol.strip()} (delta {float(new['delta']):.3f}, "
        f"target {params.target_delta:g})"
    )
    return (untested.closing(), new_leg), (_quote(old), _quote(new)), why


def _roll_out(
    position: Position,
    strangle: _Strangle,
    chain: pd.DataFrame,
    params: ShortStrangleParams,
    limit_fraction: Decimal,
) -> tuple[tuple[Leg, ...], tuple[LegQuote, ...], str] | None:
    """Both legs closed and sold again at the target delta in the next expiration of the DTE window, or None
    when there is none or the roll would not be done for a net credit."""
    current = np.datetime64(pd.Timestamp(strangle.put.contract.expiration))
    later = chain[chain["expiration"].to_numpy() > current]
    try:
        expiration = choose_expiration(
            later, params.dte_min, params.dte_max, params.dte_target, params.liquidity
        )
        put, call = (
            strike_by_delta(
                later, expiration, right, params.target_delta, params.max_delta_error, params.liquidity
            )
            for right in (Right.PUT, Right.CALL)
        )
    except SelectionError:
        return None
    legs = (
        strangle.put.closing(),
        strangle.call.closing(),
        Leg(chain_contract(put, position.underlying), Side.SELL, strangle.put.ratio),
        Leg(chain_contract(call, position.underlying), Side.SELL, strangle.call.ratio),
    )
    quotes = (
        _quote(strangle.row(strangle.put)),
        _quote(strangle.row(strangle.call)),
        _quote(put),
        _quote(call),
    )
    if limit_price(legs, quotes, limit_fraction) >= 0:
        return None
    why = (
        f"roll out to {expiration} at target delta {params.target_delta:g}: sell "
        f"{legs[2].contract.occ_symbol.strip()} and {legs[3].contract.occ_symbol.strip()}"
    )
    return legs, quotes, why


def plan_strangle_roll(
    position: Position,
    chain: pd.DataFrame,
    params: ShortStrangleParams,
    limit_fraction: Decimal,
    session: date,
    now: datetime,
) -> ExitPlan | None:
    """The roll a short strangle calls for at this tick (a decision and one ROLL intent), else None.

    Spot within the trigger distance of a short strike tests that side: the untested side is rolled to the
    target delta in the same expiration; with `roll_out`, spot through the tested strike rolls both legs to
    the next expiration of the DTE window at the target delta, only for a net credit (else, as when no roll
    qualifies, nothing is planned and the exit tiers keep watching the position).
    """
    roll = params.roll
    strangle = _strangle(position, chain) if roll.enabled and position.quantity > 0 else None
    if strangle is None:
        return None
    rows = rows_of(chain, position.underlying)
    tested = min((strangle.put, strangle.call), key=strangle.distance)
    distance = strangle.distance(tested)
    trigger, how = _trigger_points(roll, strangle, rows)
    if distance > trigger:
        return None
    strike = f"{tested.contract.right.name.lower()} {tested.contract.strike:g}"
    where = (
        f"spot {strangle.spot:.2f} is through the short {strike}"
        if distance < 0
        else f"spot {strangle.spot:.2f} is {distance:.2f} points from the short {strike} "
        f"(trigger {trigger:.2f}: {how})"
    )
    step = (
        _roll_out(position, strangle, rows, params, limit_fraction)
        if distance < 0 and roll.roll_out
        else None
    )
    step = step or _roll_untested(position, strangle, tested, rows, params)
    if step is None:
        return None
    legs, quotes, why = step
    reason = f"roll: {where}; {why}, {_net(limit_price(legs, quotes, limit_fraction))}"
    return _roll_plan(position, legs, quotes, reason, limit_fraction, session, now)
