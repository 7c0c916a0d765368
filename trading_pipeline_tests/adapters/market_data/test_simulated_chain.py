"""The simulated option chains: schema, quote sanity, the IV surface, parity and injected faults."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.simulated import (
    DIVIDEND_YIELDS,
    RISK_FREE_RATE,
    MarketFaults,
    SimulatedMarket,
)
from trading_pipeline.core.calendar import at_et, sessions_between, years_to_expiry
from trading_pipeline.core.chain import QUOTE_COLUMNS, normalize_chain
from trading_pipeline.core.instruments import occ_roots, parse_occ_symbol
from trading_pipeline.core.pricing import implied_vol

SESSION = date(2025, 6, 11)
AS_OF = at_et(SESSION, time(10, 30))


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=7)


@pytest.fixture(scope="module")
def spy_chain(market: SimulatedMarket) -> pd.DataFrame:
    return market.option_chain("SPY", AS_OF, min_dte=0, max_dte=400)


def _with_iv(chain: pd.DataFrame, underlying: str) -> pd.DataFrame:
    """The chain with mid, time to expiry and the IV solved from the mid by core.pricing."""
    result = chain.copy()
    result["mid"] = (result["bid"] + result["ask"]) / 2
    result["t"] = [years_to_expiry(AS_OF, ts.date()) for ts in result["expiration"]]
    result["iv"] = implied_vol(
        result["mid"],
        result["underlying_price"],
        result["strike"],
        result["t"],
        RISK_FREE_RATE,
        DIVIDEND_YIELDS[underlying],
        result["right"] == "C",
    )
    return result


def _expiry_nearest(chain: pd.DataFrame, days: int) -> pd.DataFrame:
    dte = (chain["expiration"] - pd.Timestamp(SESSION)).dt.days
    target = chain["expiration"].iloc[(dte - days).abs().argmin()]
    return chain[chain["expiration"] == target]


def test_chain_has_exactly_the_quote_columns_and_a_valid_schema(spy_chain: pd.DataFrame) -> None:
    # Act
    normalized = normalize_chain(spy_chain)

    # Assert
    assert tuple(spy_chain.columns) == QUOTE_COLUMNS
    pd.testing.assert_frame_equal(normalized, spy_chain, check_dtype=False)


def test_chain_rows_describe_their_contracts(spy_chain: pd.DataFrame, market: SimulatedMarket) -> None:
    # Arrange
    first = spy_chain.iloc[len(spy_chain) // 2]

    # Act
    contract = parse_occ_symbol(first["occ_symbol"])

    # Assert
    assert (contract.root, contract.expiration, float(contract.strike), contract.right.value) == (
        "SPY",
        first["expiration"].date(),
        first["strike"],
        first["right"],
    )
    assert (spy_chain["quote_time"] == pd.Timestamp(AS_OF)).all()
    assert (spy_chain["underlying_price"] == market.spot("SPY", AS_OF)).all()
    assert spy_chain["occ_symbol"].is_unique


def test_chain_lists_zero_dte_and_respects_the_dte_window(market: SimulatedMarket) -> None:
    # Arrange / Act
    full = market.option_chain("SPY", AS_OF, min_dte=0, max_dte=400)
    window = market.option_chain("SPY", AS_OF, min_dte=20, max_dte=60)

    # Assert
    dte = (window["expiration"] - pd.Timestamp(SESSION)).dt.days
    assert full["expiration"].min() == pd.Timestamp(SESSION)
    assert dte.between(20, 60).all()
    assert 5_000 < len(full) < 25_000


def test_chain_has_fine_strikes_near_the_money_and_coarse_in_the_wings(spy_chain: pd.DataFrame) -> None:
    # Arrange
    spot = spy_chain["underlying_price"].iloc[0]
    strikes = _expiry_nearest(spy_chain, 30)["strike"].drop_duplicates()

    # Act
    near = strikes[(strikes / spot - 1).abs() < 0.02]
    far = strikes[(strikes / spot - 1).abs() > 0.30]

    # Assert
    assert set(np.diff(near.to_numpy())) == {1.0}
    assert (far % 5 == 0).all()
    assert strikes.min() < 0.92 * spot and strikes.max() > 1.08 * spot


def test_spx_chain_uses_spx_and_spxw_roots_and_index_strikes(market: SimulatedMarket) -> None:
    # Arrange / Act
    chain = market.option_chain("SPX", AS_OF, max_dte=45)

    # Assert
    roots = chain.groupby("expiration")["occ_symbol"].first().str[:6].str.strip()
    assert roots.loc[pd.Timestamp(2025, 6, 20)] == "SPX"
    assert roots.loc[pd.Timestamp(2025, 6, 13)] == "SPXW"
    assert (chain["strike"] % 5 == 0).all()


def test_quotes_are_never_crossed_or_negative_without_faults(spy_chain: pd.DataFrame) -> None:
    # Arrange / Act / Assert
    assert (spy_chain["bid"] >= 0).all()
    assert (spy_chain["bid"] < spy_chain["ask"]).all()


@pytest.mark.parametrize("underlying", ["SPY", "SPX"])
def test_every_quote_is_at_least_one_tick_wide_over_a_year_of_mornings(
    market: SimulatedMarket, underlying: str
) -> None:
    # Arrange: 20 sessions spread over 2025 at 10:00, every expiration up to 70 days.
    sessions = sessions_between(date(2025, 1, 2), date(2025, 12, 31))
    mornings = [at_et(sessions[i], time(10, 0)) for i in np.linspace(0, len(sessions) - 1, 20, dtype=int)]

    # Act
    chains = pd.concat([market.option_chain(underlying, at, min_dte=0, max_dte=70) for at in mornings])

    # Assert: a locked (bid == ask) quote would block the tick's blocking chain check.
    assert (chains["ask"] - chains["bid"]).min() >= 0.01 - 1e-9


def test_worthless_wings_bid_zero_and_offer_one_tick(market: SimulatedMarket) -> None:
    # Arrange
    chain = market.option_chain("SPX", AS_OF, max_dte=1)
    spot = chain["underlying_price"].iloc[0]

    # Act
    far_puts = chain[(chain["right"] == "P") & (chain["strike"] < 0.88 * spot)]

    # Assert
    assert not far_puts.empty
    assert (far_puts["bid"] == 0).all() and np.allclose(far_puts["ask"], 0.05)


def test_spx_prices_sit_on_their_tick_grid(market: SimulatedMarket) -> None:
    # Arrange
    chain = market.option_chain("SPX", AS_OF, max_dte=60)
    prices = pd.concat([chain["bid"], chain["ask"]])

    # Act
    ticks = np.where(prices >= 3.0, 0.10, 0.05)

    # Assert
    assert np.allclose(np.round(prices / ticks), prices / ticks)


def _parity_gap(chain: pd.DataFrame, rate: float, div_yield: float, band: float) -> tuple[pd.Series, ...]:
    """(call bid - put ask, call ask - put bid, discounted forward less strike) per (root, expiration, strike)
    within `band` of spot: European put-call parity says the last lies between the first two."""
    spot = chain["underlying_price"].iloc[0]
    near = chain[(chain["strike"] / spot - 1).abs() < band].assign(root=occ_roots(chain["occ_symbol"]))
    keys = ["root", "expiration", "strike"]
    calls = near[near["right"] == "C"].set_index(keys)
    puts = near[near["right"] == "P"].set_index(keys)
    t = np.array([years_to_expiry(AS_OF, e.date(), root) for root, e, _ in calls.index])
    strike = calls.index.get_level_values("strike").to_numpy()
    forward_value = spot * np.exp(-div_yield * t) - strike * np.exp(-rate * t)
    return calls["bid"] - puts["ask"], calls["ask"] - puts["bid"], pd.Series(forward_value, index=calls.index)


def test_put_call_parity_holds_within_the_spread_near_the_money(market: SimulatedMarket) -> None:
    # Arrange: SPX options are European (SPY's are American, and their puts sit above parity).
    chain = market.option_chain("SPX", AS_OF, min_dte=0, max_dte=400)

    # Act
    low, high, forward_value = _parity_gap(chain, RISK_FREE_RATE, DIVIDEND_YIELDS["SPX"], 0.03)

    # Assert
    assert (low <= forward_value + 1e-9).all()
    assert (forward_value <= high + 1e-9).all()


def test_thirty_day_atm_iv_sits_below_the_vix_by_the_skew_gap(
    spy_chain: pd.DataFrame, market: SimulatedMarket
) -> None:
    # Arrange
    expiry = _with_iv(_expiry_nearest(spy_chain, 30), "SPY")
    spot = expiry["underlying_price"].iloc[0]

    # Act
    atm_iv = expiry.iloc[(expiry["strike"] - spot).abs().argsort()[:4]]["iv"].mean()

    # Assert: the VIX is a variance-swap rate, above ATM vol by the put skew's share
    assert 0.80 < 100 * atm_iv / market.spot("VIX", AS_OF) < 0.93


def test_out_of_the_money_puts_have_higher_iv_than_equidistant_calls(spy_chain: pd.DataFrame) -> None:
    # Arrange
    expiry = _with_iv(_expiry_nearest(spy_chain, 45), "SPY")
    spot = expiry["underlying_price"].iloc[0]
    puts, calls = expiry[expiry["right"] == "P"], expiry[expiry["right"] == "C"]

    # Act
    pairs = [
        (_iv_at(puts, spot * (1 - distance)), _iv_at(calls, spot * (1 + distance)))
        for distance in (0.02, 0.05, 0.08)
    ]

    # Assert
    assert all(put_iv > call_iv for put_iv, call_iv in pairs)


def _iv_at(quotes: pd.DataFrame, strike: float) -> float:
    return float(quotes["iv"].iloc[(quotes["strike"] - strike).abs().argmin()])


def test_qqq_and_iwm_carry_more_implied_vol_than_spy(market: SimulatedMarket) -> None:
    # Arrange
    underlyings = ("SPY", "QQQ", "IWM")

    # Act
    atm = {}
    for underlying in underlyings:
        expiry = _with_iv(_expiry_nearest(market.option_chain(underlying, AS_OF, 20, 40), 30), underlying)
        spot = expiry["underlying_price"].iloc[0]
        atm[underlying] = expiry.iloc[(expiry["strike"] - spot).abs().argsort()[:4]]["iv"].mean()

    # Assert
    assert atm["SPY"] < atm["QQQ"] < atm["IWM"]


def test_same_seed_gives_identical_chains() -> None:
    # Arrange
    first, second = SimulatedMarket(seed=3), SimulatedMarket(seed=3)

    # Act
    chains = [m.option_chain("IWM", AS_OF, max_dte=30) for m in (first, second)]

    # Assert
    pd.testing.assert_frame_equal(chains[0], chains[1])


def test_vix_options_are_not_simulated(market: SimulatedMarket) -> None:
    # Arrange / Act / Assert
    with pytest.raises(MarketDataError, match="VIX"):
        market.option_chain("VIX", AS_OF)


def test_chain_beyond_the_simulation_raises(market: SimulatedMarket) -> None:
    # Arrange
    future = at_et(date(2027, 1, 4), time(10, 0))

    # Act / Assert
    with pytest.raises(MarketDataError, match=r"SPY.*2027-01-04"):
        market.option_chain("SPY", future)


def test_crossed_quotes_fault_crosses_near_the_money_quotes_only() -> None:
    # Arrange
    faulty = SimulatedMarket(seed=7, faults=MarketFaults(crossed_quotes=True))

    # Act
    chain = faulty.option_chain("SPY", AS_OF, max_dte=30)

    # Assert
    crossed = chain[chain["bid"] > chain["ask"]]
    spot = chain["underlying_price"].iloc[0]
    assert not crossed.empty
    assert ((crossed["strike"] / spot - 1).abs() < 0.02).all()


def test_stale_fault_lags_the_quote_time() -> None:
    # Arrange
    lag = timedelta(minutes=20)
    faulty = SimulatedMarket(seed=7, faults=MarketFaults(stale_by=lag))

    # Act
    chain = faulty.option_chain("SPY", AS_OF, max_dte=30)

    # Assert
    assert (chain["quote_time"] == pd.Timestamp(AS_OF - lag)).all()


def test_drop_strikes_fault_removes_strikes_on_each_side_of_spot(market: SimulatedMarket) -> None:
    # Arrange
    faulty = SimulatedMarket(seed=7, faults=MarketFaults(drop_strikes_near_spot=3))
    clean = market.option_chain("SPY", AS_OF, max_dte=30)
    spot = clean["underlying_price"].iloc[0]

    # Act
    chain = faulty.option_chain("SPY", AS_OF, max_dte=30)

    # Assert
    for expiration, quotes in clean.groupby("expiration"):
        strikes = np.sort(quotes["strike"].unique())
        expected_gone = set(strikes[strikes <= spot][-3:]) | set(strikes[strikes > spot][:3])
        remaining = set(chain.loc[chain["expiration"] == expiration, "strike"])
        assert remaining == set(strikes) - expected_gone


def test_chain_after_the_close_drops_expired_contracts(market: SimulatedMarket) -> None:
    # Arrange
    after_close = at_et(SESSION, time(16, 30))

    # Act
    chain = market.option_chain("SPY", after_close, min_dte=0, max_dte=0)

    # Assert
    assert chain.empty
    assert tuple(chain.columns) == QUOTE_COLUMNS


def test_stale_fault_with_a_negative_lag_stamps_quotes_in_the_future() -> None:
    # Arrange
    faulty = SimulatedMarket(seed=7, faults=MarketFaults(stale_by=-timedelta(minutes=5)))

    # Act
    chain = faulty.option_chain("SPY", AS_OF, max_dte=30)

    # Assert
    assert (chain["quote_time"] == pd.Timestamp(AS_OF + timedelta(minutes=5))).all()


def test_empty_chain_fault_returns_no_quotes_with_every_quote_column() -> None:
    # Arrange
    faulty = SimulatedMarket(seed=7, faults=MarketFaults(empty_chain=True))

    # Act
    chain = faulty.option_chain("SPY", AS_OF, max_dte=30)

    # Assert
    assert chain.empty
    assert tuple(chain.columns) == QUOTE_COLUMNS


def test_chain_is_priced_with_the_carry_the_market_reports() -> None:
    # Arrange: a carry far from the defaults moves the forward by dollars at 30-60 days
    market = SimulatedMarket(seed=7, risk_free_rate=0.01, dividend_yields={"SPX": 0.03})
    chain = market.option_chain("SPX", AS_OF, min_dte=30, max_dte=60)
    carry = market.carry("SPX", AS_OF)

    # Act
    low, high, forward_value = _parity_gap(chain, carry.rate, carry.dividend_yield, 0.02)

    # Assert
    assert (carry.rate, carry.dividend_yield, carry.source) == (0.01, 0.03, "simulation")
    assert (low <= forward_value + 1e-9).all()
    assert (forward_value <= high + 1e-9).all()
