"""Dealer gamma exposure: the formula by hand, sign convention, zero-gamma level and real SPX chains."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.carry_files import FileCarry
from trading_pipeline.adapters.market_data.chain_files import load_chain_file
from trading_pipeline.core.chain import enrich_chain, normalize_chain
from trading_pipeline.core.gamma_exposure import (
    NEAR_FLIP_BAND,
    SCAN_RANGE,
    DealerPositioning,
    GammaExposure,
    gamma_exposure,
)
from trading_pipeline.core.pricing import bsm_greeks
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

T_YEARS = 30 / 365
RATE = 0.04
VOL = 0.20

Contract = tuple[float, str, float]  # strike, right, open interest


def _chain(contracts: Sequence[Contract], spot: float = 100.0, vol: float = VOL) -> pd.DataFrame:
    """Enriched-chain columns of `contracts` at `spot`, gamma from BSM at a flat vol and 30 days."""
    strike, right, open_interest = (list(column) for column in zip(*contracts, strict=True))
    gamma = bsm_greeks(spot, strike, T_YEARS, RATE, 0.0, vol, np.array(right) == "C").gamma
    return pd.DataFrame(
        {
            "underlying": "SPY",
            "strike": np.asarray(strike, dtype=float),
            "right": right,
            "open_interest": np.asarray(open_interest, dtype=float),
            "underlying_price": spot,
            "t_years": T_YEARS,
            "rate": RATE,
            "div_yield": 0.0,
            "iv": vol,
            "gamma": gamma,
        }
    )


def _brute_force_zero(contracts: Sequence[Contract], low: float, high: float) -> float:
    """The spot where calls' minus puts' OI-weighted BSM gamma changes sign, on a 0.0001-wide grid."""
    strike, right, open_interest = (np.array(column) for column in zip(*contracts, strict=True))
    spots = np.arange(low, high, 0.0001)[:, None]
    gamma = bsm_greeks(spots, strike.astype(float), T_YEARS, RATE, 0.0, VOL, right == "C").gamma
    net = (np.where(right == "C", 1.0, -1.0) * gamma * open_interest.astype(float)).sum(axis=1)
    flips = np.flatnonzero(np.sign(net[:-1]) != np.sign(net[1:]))
    assert len(flips) == 1
    return float(spots[flips[0], 0])


def test_gex_is_gamma_times_open_interest_times_100_spot_squared_and_a_percent() -> None:
    # Arrange: 100 x 100^2 x 0.01 = 10,000 per unit of gamma x open interest
    chain = _chain([(100.0, "C", 10), (100.0, "C", 5), (95.0, "P", 25)]).assign(gamma=[0.05, 0.02, 0.03])

    # Act
    gex = gamma_exposure(chain)

    # Assert
    assert gex.by_strike.to_dict("list") == {
        "strike": [95.0, 100.0],
        "call_gex": [0.0, pytest.approx(6000.0)],
        "put_gex": [pytest.approx(-7500.0), 0.0],
        "net_gex": [pytest.approx(-7500.0), pytest.approx(6000.0)],
    }
    assert (gex.call_gex, gex.put_gex, gex.net_gex) == pytest.approx((6000.0, -7500.0, -1500.0))
    assert (gex.contracts_used, gex.contracts_skipped) == (3, 0)


def test_dealers_long_calls_make_a_call_only_chain_long_gamma_without_a_flip() -> None:
    gex = gamma_exposure(_chain([(95.0, "C", 100), (105.0, "C", 50)]))
    assert gex.net_gex > 0
    assert gex.put_gex == 0
    assert gex.zero_gamma_level is None
    assert gex.positioning is DealerPositioning.LONG_GAMMA


def test_dealers_short_puts_make_a_put_only_chain_short_gamma_without_a_flip() -> None:
    gex = gamma_exposure(_chain([(95.0, "P", 100), (105.0, "P", 50)]))
    assert gex.net_gex < 0
    assert gex.call_gex == 0
    assert gex.zero_gamma_level is None
    assert gex.positioning is DealerPositioning.SHORT_GAMMA


def test_zero_gamma_level_lies_between_puts_below_and_calls_above_where_a_brute_force_scan_finds_it() -> None:
    # Arrange: twice the put open interest, so the flip sits above the middle of the two strikes
    contracts = [(90.0, "P", 2000), (110.0, "C", 1000)]

    # Act
    gex = gamma_exposure(_chain(contracts))

    # Assert
    assert gex.zero_gamma_level is not None
    assert 90.0 < gex.zero_gamma_level < 110.0
    assert gex.zero_gamma_level == pytest.approx(_brute_force_zero(contracts, 90.0, 110.0), abs=0.005)
    below = gex.profile["spot"] < gex.zero_gamma_level
    assert (gex.profile.loc[below & (gex.profile["spot"] > 90), "net_gex"] < 0).all()
    assert (gex.profile.loc[~below & (gex.profile["spot"] < 110), "net_gex"] > 0).all()


def test_spot_within_the_band_of_the_zero_gamma_level_is_near_flip_and_outside_it_is_not() -> None:
    # Arrange
    contracts = [(90.0, "P", 2000), (110.0, "C", 1000)]
    level = gamma_exposure(_chain(contracts)).zero_gamma_level
    assert level is not None

    # Act
    inside = gamma_exposure(_chain(contracts, spot=level * (1 + NEAR_FLIP_BAND / 2)))
    above = gamma_exposure(_chain(contracts, spot=level * (1 + 2 * NEAR_FLIP_BAND)))
    below = gamma_exposure(_chain(contracts, spot=level * (1 - 2 * NEAR_FLIP_BAND)))

    # Assert
    assert inside.positioning is DealerPositioning.NEAR_FLIP
    assert above.positioning is DealerPositioning.LONG_GAMMA
    assert below.positioning is DealerPositioning.SHORT_GAMMA


def test_contracts_without_iv_are_left_out_and_counted() -> None:
    # Arrange
    priced = _chain([(95.0, "P", 100), (100.0, "C", 80), (105.0, "C", 50)])
    unpriced = _chain([(80.0, "P", 7), (120.0, "C", 3)]).assign(iv=np.nan, gamma=np.nan)

    # Act
    alone = gamma_exposure(priced)
    mixed = gamma_exposure(pd.concat([priced, unpriced], ignore_index=True))

    # Assert
    assert (mixed.contracts_used, mixed.contracts_skipped, mixed.open_interest_skipped) == (3, 2, 10.0)
    assert (mixed.call_gex, mixed.put_gex, mixed.net_gex) == (alone.call_gex, alone.put_gex, alone.net_gex)
    pd.testing.assert_frame_equal(mixed.by_strike, alone.by_strike)
    pd.testing.assert_frame_equal(mixed.profile, alone.profile)


def test_a_chain_of_several_underlyings_is_refused() -> None:
    chain = _chain([(95.0, "P", 100), (100.0, "C", 80)]).assign(underlying=["SPY", "QQQ"])
    with pytest.raises(ValueError, match="one underlying"):
        gamma_exposure(chain)


def test_a_chain_without_greeks_is_refused_naming_the_columns() -> None:
    chain = _chain([(95.0, "P", 100)]).drop(columns=["gamma", "iv"])
    with pytest.raises(ValueError, match="'iv', 'gamma'"):
        gamma_exposure(chain)


# --- real SPX chains (Cboe delayed-quote exports) ---------------------------------------------------------

SPX_FILES = ["SPX_2023-06-09_cboe.csv", "SPX_2023-09-14_cboe.csv"]
#: The strikes of largest |net GEX| lie this close to spot: gamma peaks at the money and fades away from it.
NEAR_MONEY = 0.10
TOP_STRIKES = 10


@pytest.fixture(scope="module", params=SPX_FILES)
def spx_chain(request: pytest.FixtureRequest) -> pd.DataFrame:
    """A recorded SPX chain enriched with our IV and greeks, plus the vendor's gamma for comparison."""
    recorded = load_chain_file(MARKET_DATA / "chains" / request.param)
    now = recorded.quote_time
    spot = float(recorded.quotes["underlying_price"].iloc[0])
    carry = FileCarry(MARKET_DATA).carry(recorded.underlying, now, spot)
    enriched = enrich_chain(normalize_chain(recorded.quotes), now, {recorded.underlying: carry})
    return enriched.assign(vendor_gamma=recorded.quotes["vendor_gamma"].to_numpy())


@pytest.fixture(scope="module")
def spx_gex(spx_chain: pd.DataFrame) -> GammaExposure:
    """The GEX of the recorded SPX chain (one zero-gamma scan per file)."""
    return gamma_exposure(spx_chain)


@needs_market_data
def test_gex_of_a_real_spx_chain_is_finite_sorted_and_has_its_flip_within_the_scan(
    spx_chain: pd.DataFrame, spx_gex: GammaExposure
) -> None:
    gex = spx_gex
    assert np.isfinite([gex.call_gex, gex.put_gex, gex.net_gex]).all()
    assert gex.call_gex > 0 > gex.put_gex
    assert gex.by_strike["strike"].is_monotonic_increasing and gex.by_strike["strike"].is_unique
    assert np.isfinite(gex.by_strike[["call_gex", "put_gex", "net_gex"]].to_numpy()).all()
    assert gex.contracts_used + gex.contracts_skipped == len(spx_chain)
    assert gex.contracts_skipped == spx_chain["iv"].isna().sum()
    if gex.zero_gamma_level is not None:
        assert abs(gex.zero_gamma_level / gex.spot - 1) <= SCAN_RANGE


@needs_market_data
def test_largest_net_gex_strikes_of_a_real_spx_chain_lie_near_the_money(spx_gex: GammaExposure) -> None:
    by_strike = spx_gex.by_strike
    top = by_strike.loc[by_strike["net_gex"].abs().nlargest(TOP_STRIKES).index, "strike"]
    assert ((top / spx_gex.spot - 1).abs() <= NEAR_MONEY).all(), top.tolist()


@needs_market_data
def test_the_scan_at_spot_reprices_the_chains_own_gamma_for_european_spx(spx_gex: GammaExposure) -> None:
    # SPX is European, so the BSM re-pricing at today's spot is the chain's gamma column
    gex = spx_gex
    at_spot = gex.profile.loc[(gex.profile["spot"] - gex.spot).abs().idxmin()]
    assert at_spot["spot"] == pytest.approx(gex.spot)
    assert at_spot["net_gex"] == pytest.approx(gex.net_gex, rel=1e-9)


@needs_market_data
def test_gex_of_a_real_spx_chain_agrees_with_the_gex_of_the_vendors_gamma(spx_chain: pd.DataFrame) -> None:
    # Arrange: contracts both we and Cboe price, GEX once from each gamma
    both = spx_chain[spx_chain["gamma"].notna() & spx_chain["vendor_gamma"].notna()]
    ours = gamma_exposure(both)
    vendors = gamma_exposure(both.assign(gamma=both["vendor_gamma"]))

    # Assert: within 3% per side (Cboe solves its own vols and forwards)
    assert ours.call_gex == pytest.approx(vendors.call_gex, rel=0.03)
    assert ours.put_gex == pytest.approx(vendors.put_gex, rel=0.03)
