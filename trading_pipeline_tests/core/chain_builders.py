"""Hand-built synthetic option chains: quotes priced with Black-Scholes-Merton at a flat volatility."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pandas as pd

from trading_pipeline.core.calendar import ET, years_to_expiry
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.chain import QUOTE_COLUMNS, enrich_chain
from trading_pipeline.core.instruments import Right, format_occ_symbol
from trading_pipeline.core.pricing import bsm_price

#: Friday 2025-03-14, 10:30 EDT: a regular session after the March DST change.
NOW = datetime(2025, 3, 14, 14, 30, tzinfo=UTC)
SPOT = 500.0
VOL = 0.20
RATE = 0.04
DIV = 0.013
CARRY = {"SPY": Carry(RATE, DIV, "test")}


def quote_chain(
    now: datetime = NOW,
    dtes: Iterable[int] = (30, 42, 49, 60),
    strikes: Iterable[float] = range(400, 605, 5),
    underlying: str = "SPY",
    spot: float = SPOT,
    vol: float = VOL,
    spread_cents: int = 10,
) -> pd.DataFrame:
    """Quotes (QUOTE_COLUMNS) of puts and calls whose mid is the BSM price rounded to whole cents.

    Bid and ask are whole cents (mid +- half the spread, bid floored at zero), so Decimal(str(bid))
    is exact and credits can be checked by hand.
    """
    today = now.astimezone(ET).date()
    strikes = list(strikes)
    rows = []
    for dte in dtes:
        expiration = today + timedelta(days=dte)
        t = years_to_expiry(now, expiration)
        for strike in strikes:
            for right in (Right.PUT, Right.CALL):
                price = float(bsm_price(spot, strike, t, RATE, DIV, vol, right is Right.CALL))
                mid_cents = round(price * 100)
                bid_cents = max(mid_cents - spread_cents // 2, 0)
                ask_cents = max(mid_cents + spread_cents // 2, 1)
                rows.append(
                    {
                        "occ_symbol": format_occ_symbol(underlying, expiration, right, strike),
                        "underlying": underlying,
                        "expiration": pd.Timestamp(expiration),
                        "strike": float(strike),
                        "right": right.value,
                        "bid": bid_cents / 100,
                        "ask": ask_cents / 100,
                        "bid_size": 10,
                        "ask_size": 10,
                        "volume": 100,
                        "open_interest": 1000,
                        "underlying_price": spot,
                        "quote_time": pd.Timestamp(now),
                    }
                )
    return pd.DataFrame(rows, columns=list(QUOTE_COLUMNS))


def enriched_chain(now: datetime = NOW, **kwargs: object) -> pd.DataFrame:
    """quote_chain(...) run through core.chain.enrich_chain (mid, dte, t_years, iv, greeks)."""
    return enrich_chain(quote_chain(now, **kwargs), now, CARRY)  # type: ignore[arg-type]
