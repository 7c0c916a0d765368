"""The shared surface: term structure from the VIX family, the skew gap, and chains derived from a listing."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.calendar import at_et, sessions_between, years_to_expiry
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.chain import QUOTE_COLUMNS, normalize_chain
from trading_pipeline.core.instruments import occ_roots, parse_occ_symbol
from trading_pipeline.core.listing import Listing, listing_as_of
from trading_pipeline.core.pricing import implied_vol
from trading_pipeline.core.surface import (
    LONG_RUN_VARIANCE_SWAP_VOL,
    VIX3M_YEARS,
    VIX9D_YEARS,
    VIX_YEARS,
    TermStructure,
    derive_chain,
    variance_swap_vol,
)

AS_OF = at_et(date(2025, 6, 11), time(10, 30))
CARRY = Carry(0.045, 0.013, "test")
CONTANGO = TermStructure(vix9d=14.0, vix=16.0, vix3m=18.5)


def _listing(underlying: str, spot: float, max_dte: int = 70) -> Listing:
    sessions = sessions_between(date(2023, 6, 1), date(2025, 6, 10))
    history = pd.Series(spot, index=pd.DatetimeIndex([*sessions, AS_OF.date()]), dtype=float)
    return listing_as_of(underlying, AS_OF, history, max_dte)


def _chain(
    underlying: str = "SPY", spot: float = 500.0, vix: float = 16.0, term: TermStructure = CONTANGO, **kw
):
    return derive_chain(underlying, AS_OF, spot, vix, term, CARRY, _listing(underlying, spot), **kw)


def _atm_iv(chain: pd.DataFrame, days: int) -> float:
    """IV solved from the mids of the four strikes nearest spot in the expiration nearest `days`."""
    dte = (chain["expiration"] - pd.Timestamp(AS_OF.date())).dt.days
    expiry = chain[chain["expiration"] == chain["expiration"].iloc[(dte - days).abs().argmin()]]
    spot = float(expiry["underlying_price"].iloc[0])
    near = expiry.iloc[(expiry["strike"] - spot).abs().argsort()[:4]]
    t = [years_to_expiry(AS_OF, e.date()) for e in near["expiration"]]
    mid = (near["bid"] + near["ask"]) / 2
    iv = implied_vol(mid, spot, near["strike"], t, CARRY.rate, CARRY.dividend_yield, near["right"] == "C")
    return float(np.mean(iv))


def test_variance_swap_vol_at_the_index_maturities_is_the_index_level() -> None:
    # Arrange / Act
    vols = variance_swap_vol([VIX9D_YEARS, VIX_YEARS, VIX3M_YEARS], 16.0, CONTANGO)

    # Assert
    assert vols == pytest.approx([0.14, 0.16, 0.185])


def test_variance_swap_vol_scales_the_shape_to_the_vol_index_level() -> None:
    # Arrange / Act
    vols = variance_swap_vol([VIX9D_YEARS, VIX_YEARS], 32.0, CONTANGO)

    # Assert
    assert vols == pytest.approx([0.28, 0.32])


def test_variance_swap_vol_beyond_vix3m_reverts_toward_the_long_run_level() -> None:
    # Arrange
    stressed = TermStructure(vix9d=45.0, vix=40.0, vix3m=33.0)

    # Act
    vols = variance_swap_vol([VIX3M_YEARS, 1.0, 3.0, 10.0], 40.0, stressed)

    # Assert
    assert np.all(np.diff(vols) < 0)
    assert vols[-1] == pytest.approx(LONG_RUN_VARIANCE_SWAP_VOL, abs=0.02)


def test_variance_swap_vol_when_vix9d_and_vix3m_are_unknown_starts_flat_at_the_vix() -> None:
    # Arrange
    vix_only = TermStructure(vix9d=None, vix=25.0, vix3m=None)

    # Act
    vols = variance_swap_vol([1 / 365, VIX_YEARS, 1.0], 25.0, vix_only)

    # Assert
    assert vols[:2] == pytest.approx([0.25, 0.25])
    assert LONG_RUN_VARIANCE_SWAP_VOL < vols[2] < 0.25


def test_variance_swap_vol_when_steeply_inverted_keeps_total_variance_increasing() -> None:
    # Arrange: a 9-day rate far above the 30-day one would imply negative forward variance
    inverted = TermStructure(vix9d=90.0, vix=40.0, vix3m=30.0)
    years = np.linspace(1 / 365, 1.0, 200)

    # Act
    total = variance_swap_vol(years, 40.0, inverted) ** 2 * years

    # Assert
    assert np.all(np.diff(total) > 0)


@pytest.mark.parametrize("vix", [13.0, 20.0, 30.0])
def test_thirty_day_atm_iv_sits_below_the_vix_by_the_skew_gap_seen_on_real_chains(vix: float) -> None:
    # Arrange: recorded SPX/SPY chains at VIX 13-20 show ATM 30-day IV at 0.77-0.85 of the VIX
    term = TermStructure(vix9d=vix, vix=vix, vix3m=vix)

    # Act
    atm = _atm_iv(_chain(vix=vix, term=term), 30)

    # Assert
    assert 1.0 < vix - 100 * atm < 4.0
    assert 0.80 < 100 * atm / vix < 0.93


def test_derived_chain_quotes_every_listed_contract_in_the_quote_columns() -> None:
    # Arrange
    listing = _listing("SPY", 500.0)

    # Act
    chain = derive_chain("SPY", AS_OF, 500.0, 16.0, CONTANGO, CARRY, listing)

    # Assert
    assert tuple(chain.columns) == QUOTE_COLUMNS
    pd.testing.assert_frame_equal(normalize_chain(chain), chain, check_dtype=False)
    assert len(chain) == 2 * sum(len(e.strikes) for e in listing.expirations)
    assert chain["occ_symbol"].is_unique
    assert (chain["quote_time"] == pd.Timestamp(AS_OF)).all() and str(chain["quote_time"].dt.tz) == "UTC"
    contract = parse_occ_symbol(chain["occ_symbol"].iloc[100])
    assert (float(contract.strike), contract.right.value) == tuple(chain[["strike", "right"]].iloc[100])


def _pairs(chain: pd.DataFrame, spot: float) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """Calls and puts within 3% of spot on the same (expiration, strike), their years left and strikes."""
    near = chain[(chain["strike"] / spot - 1).abs() < 0.03]
    calls = near[near["right"] == "C"].set_index(["expiration", "strike"])
    puts = near[near["right"] == "P"].set_index(["expiration", "strike"])
    roots = occ_roots(calls["occ_symbol"])
    t = np.array(
        [
            years_to_expiry(AS_OF, e.date(), r)
            for e, r in zip(calls.index.get_level_values(0), roots, strict=True)
        ]
    )
    return calls, puts, t, calls.index.get_level_values("strike").to_numpy()


def test_derived_index_chain_prices_satisfy_put_call_parity_at_the_given_carry() -> None:
    # Arrange: SPX options are European.
    chain = _chain("SPX", spot=5000.0)
    calls, puts, t, strike = _pairs(chain, 5000.0)

    # Act
    forward_value = 5000.0 * np.exp(-CARRY.dividend_yield * t) - strike * np.exp(-CARRY.rate * t)

    # Assert
    assert (calls["bid"] - puts["ask"] <= forward_value + 1e-9).all()
    assert (forward_value <= calls["ask"] - puts["bid"] + 1e-9).all()


def test_derived_etf_chain_prices_satisfy_the_american_parity_bounds() -> None:
    # Arrange: SPY options are American: S e^{-qt} - K <= C - P <= S - K e^{-rt}, and puts are worth more than
    # European parity with the calls would make them.
    chain = _chain()
    calls, puts, t, strike = _pairs(chain, 500.0)

    # Act
    lower = 500.0 * np.exp(-CARRY.dividend_yield * t) - strike
    upper = 500.0 - strike * np.exp(-CARRY.rate * t)
    european = 500.0 * np.exp(-CARRY.dividend_yield * t) - strike * np.exp(-CARRY.rate * t)
    mid_difference = (calls["bid"] + calls["ask"] - puts["bid"] - puts["ask"]).to_numpy() / 2

    # Assert
    assert (calls["bid"] - puts["ask"] <= upper + 1e-9).all()
    assert (lower <= calls["ask"] - puts["bid"] + 1e-9).all()
    assert np.mean(mid_difference < european) > 0.9


def test_derived_chain_puts_carry_more_vol_than_equidistant_calls() -> None:
    # Arrange
    chain = _chain()
    expiry = chain[chain["expiration"] == pd.Timestamp(2025, 7, 18)]

    # Act
    put = expiry[(expiry["right"] == "P") & (expiry["strike"] == 460.0)]
    call = expiry[(expiry["right"] == "C") & (expiry["strike"] == 540.0)]
    t = years_to_expiry(AS_OF, date(2025, 7, 18))
    ivs = [
        implied_vol((q["bid"] + q["ask"]) / 2, 500.0, q["strike"], t, CARRY.rate, CARRY.dividend_yield, right)
        for q, right in ((put, False), (call, True))
    ]

    # Assert
    assert float(ivs[0][0]) > float(ivs[1][0])


def test_derived_spx_am_monthly_otm_puts_are_worth_less_than_their_pm_twins() -> None:
    # Arrange
    chain = _chain("SPX", 5000.0)
    otm = (chain["right"] == "P") & (chain["strike"] < 5000.0)
    friday = chain[(chain["expiration"] == pd.Timestamp(2025, 6, 20)) & otm]

    # Act
    roots = friday["occ_symbol"].str[:6].str.strip()
    am = friday[roots == "SPX"].set_index("strike")["ask"]
    pm = friday[roots == "SPXW"].set_index("strike")["ask"]

    # Assert
    both = am.index.intersection(pm.index)
    assert len(both) > 50
    assert (am.loc[both] <= pm.loc[both]).all() and (am.loc[both] < pm.loc[both]).any()


def test_derived_chain_is_deterministic_and_its_seed_moves_sizes_not_prices() -> None:
    # Arrange / Act
    first, again, other = _chain(seed=3), _chain(seed=3), _chain(seed=4)

    # Assert
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_series_equal(first["bid"], other["bid"])
    assert not first["open_interest"].equals(other["open_interest"])


def test_derived_spx_prices_sit_on_their_tick_grid() -> None:
    # Arrange
    chain = _chain("SPX", 5000.0)
    prices = pd.concat([chain["bid"], chain["ask"]])

    # Act
    ticks = np.where(prices >= 3.0, 0.10, 0.05)

    # Assert
    assert np.allclose(np.round(prices / ticks), prices / ticks)


def test_derive_chain_for_a_listing_of_another_underlying_raises_naming_both() -> None:
    # Arrange
    listing = _listing("QQQ", 500.0)

    # Act / Assert
    with pytest.raises(ValueError, match=r"QQQ.*SPY"):
        derive_chain("SPY", AS_OF, 500.0, 16.0, CONTANGO, CARRY, listing)


def test_derive_chain_with_a_non_positive_spot_raises_naming_it() -> None:
    # Arrange
    listing = _listing("SPY", 500.0)

    # Act / Assert
    with pytest.raises(ValueError, match=r"spot of SPY.*-1"):
        derive_chain("SPY", AS_OF + timedelta(0), -1.0, 16.0, CONTANGO, CARRY, listing)
