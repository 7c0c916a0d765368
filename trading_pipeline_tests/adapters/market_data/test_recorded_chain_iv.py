"""Our IV and carry on real vendor chains: SPX Cboe exports against the vendor's IV, IWM parity forward."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.carry_files import FileCarry
from trading_pipeline.adapters.market_data.chain_files import load_chain_file
from trading_pipeline.core.carry import PARITY_SOURCE
from trading_pipeline.core.chain import enrich_chain, normalize_chain
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

pytestmark = needs_market_data

CHAINS = MARKET_DATA / "chains"
#: Liquid: a bid, a spread at most this share of the mid. Out of the money only: in-the-money quotes carry
#: the same vol with a larger price, and the vendor's IV there comes from its own (undisclosed) forward.
MAX_LIQUID_SPREAD = 0.10
MAX_VOL_POINTS_OFF = 0.5


def _enriched(file_name: str) -> pd.DataFrame:
    recorded = load_chain_file(CHAINS / file_name)
    now = recorded.quote_time
    carry = FileCarry(MARKET_DATA).carry(
        recorded.underlying, now, float(recorded.quotes["underlying_price"].iloc[0])
    )
    enriched = enrich_chain(normalize_chain(recorded.quotes), now, {recorded.underlying: carry})
    return enriched.assign(vendor_iv=recorded.quotes["vendor_iv"].to_numpy())


@pytest.mark.parametrize("file_name", ["SPX_2023-06-09_cboe.csv", "SPX_2023-09-14_cboe.csv"])
def test_iv_from_mid_matches_the_vendor_iv_for_liquid_contracts_near_the_money(file_name: str) -> None:
    # Arrange
    chain = _enriched(file_name)
    spread = (chain["ask"] - chain["bid"]) / chain["mid"]
    call = chain["right"] == "C"
    liquid = (
        (chain["bid"] > 0)
        & (spread <= MAX_LIQUID_SPREAD)
        & ((chain["strike"] / chain["forward"] - 1).abs() <= 0.10)
        & chain["dte"].between(20, 200)
        & (chain["vendor_iv"] > 0)
        & np.where(call, chain["strike"] >= chain["forward"], chain["strike"] <= chain["forward"])
    )

    # Act
    off = (chain.loc[liquid, "iv"] - chain.loc[liquid, "vendor_iv"]).abs() * 100

    # Assert
    assert liquid.sum() > 200
    assert chain.loc[liquid, "iv"].notna().all()
    assert off.max() <= MAX_VOL_POINTS_OFF, (
        chain.loc[liquid]
        .assign(off=off)
        .nlargest(5, "off")[["occ_symbol", "bid", "ask", "iv", "vendor_iv", "forward"]]
    )
    assert (chain.loc[liquid, "carry_source"] == PARITY_SOURCE).all()


def test_iwm_parity_forward_fits_the_price_the_vendor_solved_with() -> None:
    # Arrange: SOURCES.md: quotes fit stock_price_for_iv 151.65; the 2019-10-18 parity forward is 151.665
    chain = _enriched("IWM_2019-10-15_ivolatility.csv")

    # Act
    forward = chain.loc[chain["expiration"] == pd.Timestamp("2019-10-18"), "forward"].iloc[0]

    # Assert
    assert forward == pytest.approx(151.665, abs=0.03)


def test_spx_and_spxw_on_the_shared_third_friday_get_their_own_forward() -> None:
    chain = _enriched("SPX_2023-09-14_cboe.csv")
    friday = chain[chain["expiration"] == pd.Timestamp("2023-09-15")]
    roots = friday["occ_symbol"].str[:-15].str.strip()
    forwards = friday.groupby(roots)["forward"].first()
    assert set(forwards.index) == {"SPX", "SPXW"}
    assert np.isfinite(forwards).all()
    assert forwards["SPXW"] == pytest.approx(4510.5, abs=1.0)  # SOURCES.md: parity forward after the close
