"""The simulated market lists like an exchange: an open position's strikes stay quoted until expiry."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.simulated import SimulatedMarket
from trading_pipeline.core.calendar import at_et, sessions_between, years_to_expiry
from trading_pipeline.core.pricing import bsm_greeks, implied_vol

ENTRY_DTE = 45
TARGET_DELTA = 0.16
DECISION_TIME = time(10, 0)


def _strangle(chain: pd.DataFrame, market: SimulatedMarket, at: datetime) -> tuple[str, str, date]:
    """The 16-delta put and call symbols of the expiration nearest 45 DTE, and that expiration."""
    dte = (chain["expiration"] - pd.Timestamp(at.date())).dt.days
    expiration = chain["expiration"].iloc[int((dte - ENTRY_DTE).abs().argmin())]
    expiry = chain[chain["expiration"] == expiration]
    carry = market.carry("SPY", at)
    t = years_to_expiry(at, expiration.date())
    spot = float(expiry["underlying_price"].iloc[0])
    is_call = (expiry["right"] == "C").to_numpy()
    mid = ((expiry["bid"] + expiry["ask"]) / 2).to_numpy()
    iv = implied_vol(mid, spot, expiry["strike"], t, carry.rate, carry.dividend_yield, is_call)
    delta = bsm_greeks(
        spot, expiry["strike"], t, carry.rate, carry.dividend_yield, np.nan_to_num(iv), is_call
    ).delta
    error = np.where(np.isnan(iv), np.inf, np.abs(np.abs(delta) - TARGET_DELTA))
    put = expiry["occ_symbol"].to_numpy()[np.where(is_call, np.inf, error).argmin()]
    call = expiry["occ_symbol"].to_numpy()[np.where(is_call, error, np.inf).argmin()]
    return put, call, expiration.date()


@pytest.mark.slow
def test_strangles_opened_every_session_2019_2025_stay_quoted_every_session_until_expiry() -> None:
    # Arrange: a 45-DTE, 16-delta SPY strangle opened at 10:00 on every session
    market = SimulatedMarket(seed=7)
    open_positions: list[tuple[str, str, date, date]] = []
    unmarkable: list[tuple[date, str]] = []
    opened = 0

    # Act: at every session's decision time, every open leg must be in the chain
    for day in sessions_between(date(2019, 1, 2), date(2025, 12, 31)):
        at = at_et(day, DECISION_TIME)
        chain = market.option_chain("SPY", at, min_dte=0, max_dte=ENTRY_DTE + 10)
        quoted = set(chain["occ_symbol"])
        open_positions = [p for p in open_positions if p[2] >= day]
        unmarkable += [
            (day, leg) for put, call, _, _ in open_positions for leg in (put, call) if leg not in quoted
        ]
        put, call, expiration = _strangle(chain, market, at)
        open_positions.append((put, call, expiration, day))
        opened += 1

    # Assert
    assert opened > 1700
    assert unmarkable == []
