"""Portfolio exposure in trader units: dollar delta, dollar gamma, vega per vol point, theta per day and the
P&L under stress scenarios, for any set of legs. Exposures add, so a book is the sum of its structures.

Stress P&L reprices every leg with Black-Scholes-Merton at the shocked spot and implied vol (the spot
moved by a percentage, every leg's vol by a number of points), instantly, against its unshocked model
price. American ETF options are priced as European here: their early-exercise value is small next to a
10% move, and the same model prices every structure, so structures compare fairly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from trading_pipeline.core.instruments import Leg, Right
from trading_pipeline.core.pricing import bsm_price

DAYS_PER_YEAR = 365.0
#: A leg without a solvable implied vol (deep in the money, say) is stressed near its intrinsic value.
INTRINSIC_VOL = 1e-4
MIN_SHOCKED_VOL = 0.01


class StressScenario(BaseModel):
    """An instant shock: the underlying moves by `spot_move_pct` and every implied vol by `vol_points`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    spot_move_pct: float = Field(ge=-50.0, le=50.0)
    vol_points: float = Field(0.0, ge=-20.0, le=100.0)


#: The default scenario set: +-3/5/10% moves, vol +5/+10 points, and two historical days: 2008-10-15
#: (S&P 500 -9.0%, VIX +14 points) and 2020-03-16 (S&P 500 -12.0%, VIX +25 points).
DEFAULT_SCENARIOS: tuple[StressScenario, ...] = (
    *(StressScenario(name=f"spot {m:+d}%", spot_move_pct=m) for m in (-10, -5, -3, 3, 5, 10)),
    StressScenario(name="vol +5 pts", spot_move_pct=0.0, vol_points=5.0),
    StressScenario(name="vol +10 pts", spot_move_pct=0.0, vol_points=10.0),
    StressScenario(name="2008-10-15", spot_move_pct=-9.0, vol_points=14.0),
    StressScenario(name="2020-03-16", spot_move_pct=-12.0, vol_points=25.0),
)


@dataclass(frozen=True)
class Exposure:
    """Additive risk of some legs: greeks in dollars per trader unit and P&L per stress scenario.

    delta_dollars: P&L of a 1.00 move per share, times spot (dollar delta); gamma_dollars: change of the
    dollar delta for a 1% move; vega_per_point: P&L of one vol point; theta_per_day: P&L of one calendar
    day; stress_pnl: P&L per scenario, in the order of the scenarios it was computed for.
    """

    delta_dollars: float = 0.0
    gamma_dollars: float = 0.0
    vega_per_point: float = 0.0
    theta_per_day: float = 0.0
    stress_pnl: tuple[float, ...] = ()
    #: Legs priced without an implied vol (at intrinsic value); counted so no unknown passes unseen.
    legs_without_iv: int = 0

    def __add__(self, other: Exposure) -> Exposure:
        if not self.stress_pnl:
            stress = other.stress_pnl
        elif not other.stress_pnl:
            stress = self.stress_pnl
        else:
            stress = tuple(a + b for a, b in zip(self.stress_pnl, other.stress_pnl, strict=True))
        return Exposure(
            self.delta_dollars + other.delta_dollars,
            self.gamma_dollars + other.gamma_dollars,
            self.vega_per_point + other.vega_per_point,
            self.theta_per_day + other.theta_per_day,
            stress,
            self.legs_without_iv + other.legs_without_iv,
        )

    def scaled(self, factor: float) -> Exposure:
        """The exposure of `factor` times as many structure units."""
        return Exposure(
            self.delta_dollars * factor,
            self.gamma_dollars * factor,
            self.vega_per_point * factor,
            self.theta_per_day * factor,
            tuple(p * factor for p in self.stress_pnl),
            self.legs_without_iv,
        )

    def worst_stress(self, scenarios: Sequence[StressScenario]) -> tuple[str, float]:
        """(name, P&L) of the scenario that loses the most (P&L 0 when nothing is held)."""
        if not self.stress_pnl:
            return ("none", 0.0)
        worst = min(range(len(self.stress_pnl)), key=lambda i: self.stress_pnl[i])
        return scenarios[worst].name, self.stress_pnl[worst]


def legs_exposure(
    legs: Sequence[Leg],
    quantity: int,
    multiplier: int,
    rows: pd.DataFrame,
    scenarios: Sequence[StressScenario],
) -> Exposure:
    """The exposure of `quantity` units of `legs`, from their enriched chain rows (in leg order): spot,
    strike, years to expiry, carry and implied vol, with the chain's per-share greeks."""
    size = np.array([leg.signed_ratio * quantity * multiplier for leg in legs], dtype=float)
    spot = rows["underlying_price"].to_numpy(dtype=float)
    strike = np.array([float(leg.contract.strike) for leg in legs])
    t = rows["t_years"].to_numpy(dtype=float)
    rate = rows["rate"].to_numpy(dtype=float)
    div = rows["div_yield"].to_numpy(dtype=float)
    iv = rows["iv"].to_numpy(dtype=float)
    is_call = np.array([leg.contract.right is Right.CALL for leg in legs])
    unknown = ~np.isfinite(iv) | (iv <= 0)
    vol = np.where(unknown, INTRINSIC_VOL, iv)
    greeks = {g: np.nan_to_num(rows[g].to_numpy(dtype=float)) for g in ("delta", "gamma", "vega", "theta")}
    # One price evaluation for the base and every scenario: rows are scenarios (row 0 unshocked).
    moves = np.array([0.0, *(sc.spot_move_pct / 100 for sc in scenarios)])[:, None]
    vol_shift = np.array([0.0, *(sc.vol_points / 100 for sc in scenarios)])[:, None]
    shocked_vol = np.where(unknown, INTRINSIC_VOL, np.maximum(vol + vol_shift, MIN_SHOCKED_VOL))
    shocked_vol[0] = vol
    shape = shocked_vol.shape
    prices = bsm_price(
        spot * (1 + moves),
        *(np.broadcast_to(x, shape) for x in (strike, t, rate, div)),
        shocked_vol,
        np.broadcast_to(is_call, shape),
    )
    stress = [math.fsum(size * (prices[i] - prices[0])) for i in range(1, len(prices))]
    return Exposure(
        delta_dollars=math.fsum(size * greeks["delta"] * spot),
        gamma_dollars=math.fsum(size * greeks["gamma"] * spot * spot / 100),
        vega_per_point=math.fsum(size * greeks["vega"] / 100),
        theta_per_day=math.fsum(size * greeks["theta"] / DAYS_PER_YEAR),
        stress_pnl=tuple(stress),
        legs_without_iv=int(unknown.sum()),
    )
