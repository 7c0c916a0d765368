"""QuantLib's finite-difference American engine: the reference core.american is measured against.

QuantLib is a dev dependency; callers skip (tests) or stop (benchmark) without it. Times are whole days
on QuantLib's Actual/365 clock, so the model under test prices at t = days / 365.
"""

from __future__ import annotations

from dataclasses import dataclass

import QuantLib as ql

#: (time steps, space points) of the two FdBlackScholesVanillaEngine grids. The engine converges to first
#: order with the American step condition: the finer grid alone is off by up to 5e-3 per share on 2-year
#: options at spot 400, its Richardson extrapolation 2 x fine - coarse by about 3e-4 (docs/pricing.md).
COARSE_GRID = (1000, 2000)
FINE_GRID = (2000, 4000)
_TODAY = ql.Date(2, 1, 2024)


@dataclass(frozen=True)
class Reference:
    """The extrapolated reference price and the fine grid's own price and delta, per share."""

    price: float
    fine_price: float
    fine_delta: float


def fd_american(
    spot: float, strike: float, days: int, rate: float, div_yield: float, vol: float, is_call: bool
) -> Reference:
    """American option on QuantLib's FD engine at two grids, with continuous rate and dividend yield."""
    ql.Settings.instance().evaluationDate = _TODAY
    day_count = ql.Actual365Fixed()
    process = ql.BlackScholesMertonProcess(
        ql.QuoteHandle(ql.SimpleQuote(spot)),
        ql.YieldTermStructureHandle(ql.FlatForward(_TODAY, div_yield, day_count)),
        ql.YieldTermStructureHandle(ql.FlatForward(_TODAY, rate, day_count)),
        ql.BlackVolTermStructureHandle(ql.BlackConstantVol(_TODAY, ql.NullCalendar(), vol, day_count)),
    )
    option = ql.VanillaOption(
        ql.PlainVanillaPayoff(ql.Option.Call if is_call else ql.Option.Put, strike),
        ql.AmericanExercise(_TODAY, _TODAY + days),
    )
    option.setPricingEngine(ql.FdBlackScholesVanillaEngine(process, *COARSE_GRID))
    coarse = option.NPV()
    option.setPricingEngine(ql.FdBlackScholesVanillaEngine(process, *FINE_GRID))
    fine = option.NPV()
    return Reference(price=2.0 * fine - coarse, fine_price=fine, fine_delta=option.delta())
