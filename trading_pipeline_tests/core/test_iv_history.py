"""IV history from ledger, recorded and proxy sources, and rolling IV rank and percentile."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.calendar import years_to_expiry
from trading_pipeline.core.instruments import format_occ_symbol
from trading_pipeline.core.iv_history import (
    MISSING_SOURCE,
    SCALED_PROXY_SOURCE,
    VIX_PROXY_SOURCE,
    IvMeasure,
    IvObservation,
    assemble_iv_history,
    chain_iv_30d,
    is_own,
    iv_history_of,
    own_source,
    rolling_rank_and_percentile,
    vix_proxy,
)
from trading_pipeline.core.pricing import bsm_price
from trading_pipeline.core.volatility import VolatilityError, iv_percentile, iv_rank
from trading_pipeline_tests.real_market_data import daily_closes, needs_market_data

DAYS = [date(2025, 3, d) for d in (3, 4, 5, 6, 7)]


def test_history_takes_each_session_from_the_best_source_holding_it() -> None:
    # Arrange: the ledger knows two sessions, a recorded history three, the proxy all.
    ledger = {DAYS[0]: 0.20, DAYS[2]: 0.22}
    recorded = {DAYS[0]: 0.99, DAYS[1]: 0.21, DAYS[2]: 0.99}
    proxy = {DAYS[0]: 0.5, DAYS[1]: 0.5, DAYS[2]: 0.5, DAYS[3]: 0.24}

    # Act
    history = assemble_iv_history(DAYS, [("ledger", ledger), ("recorded", recorded), ("proxy", proxy)])

    # Assert
    assert history["iv"].tolist()[:4] == [0.20, 0.21, 0.22, 0.24]
    assert history["source"].tolist() == ["ledger", "recorded", "ledger", "proxy", MISSING_SOURCE]
    assert np.isnan(history["iv"].iloc[4])


def test_history_skips_a_source_whose_value_is_not_finite() -> None:
    # Act
    history = assemble_iv_history(DAYS[:1], [("ledger", {DAYS[0]: float("nan")}), ("proxy", {DAYS[0]: 0.3})])

    # Assert
    assert history.loc[0, ["iv", "source"]].tolist() == [0.3, "proxy"]


def test_rolling_rank_and_percentile_agree_with_the_one_session_formulas() -> None:
    # Arrange
    rng = np.random.default_rng(5)
    iv = pd.Series(rng.uniform(0.1, 0.4, 60))

    # Act
    result = rolling_rank_and_percentile(iv, lookback=20)

    # Assert
    assert result.iloc[:19].isna().all(axis=None)
    for end in (19, 33, 59):
        window = iv.iloc[end - 19 : end + 1].to_numpy()
        assert result["iv_rank"].iloc[end] == pytest.approx(iv_rank(window[:-1], window[-1], 19))
        assert result["iv_percentile"].iloc[end] == pytest.approx(iv_percentile(window[:-1], window[-1], 19))


def test_rolling_rank_is_nan_while_the_window_has_a_gap_and_zero_when_flat() -> None:
    # Arrange
    iv = pd.Series([0.2, np.nan, 0.2, 0.2, 0.2, 0.2])

    # Act
    result = rolling_rank_and_percentile(iv, lookback=3)

    # Assert
    assert result["iv_rank"].isna().tolist() == [True, True, True, True, False, False]
    assert result["iv_rank"].iloc[-1] == 0.0


def test_rolling_rank_refuses_a_lookback_below_two_sessions() -> None:
    with pytest.raises(VolatilityError, match="at least 2 sessions, got 1"):
        rolling_rank_and_percentile(pd.Series([0.2, 0.3]), lookback=1)


def test_vix_proxy_of_spy_is_the_vix_and_of_qqq_scales_by_the_realized_vol_ratio() -> None:
    # Arrange: QQQ's log returns are exactly twice the index's.
    sessions = pd.bdate_range("2024-01-01", periods=120)
    rng = np.random.default_rng(2)
    returns = rng.normal(0.0, 0.01, len(sessions))
    index = pd.Series(4000.0 * np.exp(np.cumsum(returns)), index=sessions)
    qqq = pd.Series(400.0 * np.exp(np.cumsum(2.0 * returns)), index=sessions)
    vix = pd.Series(20.0, index=sessions)

    # Act
    spy = vix_proxy("SPY", vix)
    scaled = vix_proxy("QQQ", vix, qqq, index, window=60)

    # Assert
    assert (spy["iv"] == 0.20).all() and (spy["source"] == VIX_PROXY_SOURCE).all()
    assert len(scaled) == len(sessions) - 60
    np.testing.assert_allclose(scaled["iv"], 0.40, rtol=1e-9)
    assert (scaled["source"] == SCALED_PROXY_SOURCE).all()


def test_vix_proxy_of_an_etf_without_closes_names_what_it_needs() -> None:
    with pytest.raises(VolatilityError, match="proxy for IWM needs its closes"):
        vix_proxy("IWM", pd.Series([20.0]))


@needs_market_data
@pytest.mark.parametrize(
    ("day", "low", "high"),
    [("2008-11-20", 100.0, 100.0), ("2020-03-16", 100.0, 100.0), ("2017-06-30", 0.0, 15.0)],
)
def test_spy_iv_rank_on_the_vix_proxy_over_252_sessions(day: str, low: float, high: float) -> None:
    # Arrange: the VIX's closes as SPY's 30-day IV.
    proxy = vix_proxy("SPY", daily_closes("VIX"))

    # Act
    ranks = rolling_rank_and_percentile(proxy["iv"], lookback=252)

    # Assert
    assert low <= ranks.loc[pd.Timestamp(day), "iv_rank"] <= high


@needs_market_data
def test_qqq_and_iwm_proxies_sit_above_the_vix_as_vxn_and_rvx_do() -> None:
    # Arrange
    vix, index = daily_closes("VIX"), daily_closes("GSPC")

    # Act
    ratios = {
        symbol: (vix_proxy(symbol, vix, daily_closes(symbol), index)["iv"] * 100 / vix).dropna().median()
        for symbol in ("QQQ", "IWM")
    }

    # Assert: over 2000-2022 both trade above the S&P 500's vol, by a plausible factor.
    assert all(1.0 < ratio < 2.0 for ratio in ratios.values()), ratios


def _observed(iv: float, source: str) -> IvObservation:
    return IvObservation(iv, source, datetime(2025, 3, 7, 21, tzinfo=UTC))


def test_ledger_own_observations_come_first_and_its_derived_rows_yield_to_a_fresh_derivation() -> None:
    # Arrange: the ledger holds an own observation and an old proxy; a recorded file and the proxy follow
    ledger = {
        DAYS[0]: _observed(0.20, own_source("model_free", "tradier")),
        DAYS[1]: _observed(0.5, "proxy:VIX"),
    }
    recorded = ("recorded:ivs.csv", {DAYS[1]: 0.21, DAYS[2]: 0.22})
    proxy = pd.DataFrame(
        {"iv": [0.30, 0.30, 0.30, 0.24], "source": VIX_PROXY_SOURCE}, index=pd.DatetimeIndex(DAYS[:4])
    )

    # Act
    history = iv_history_of(DAYS, ledger, recorded, proxy, IvMeasure.MODEL_FREE)

    # Assert
    assert history["source"].tolist() == [
        "chain:model_free:tradier",
        "recorded:ivs.csv",
        "recorded:ivs.csv",
        VIX_PROXY_SOURCE,
        MISSING_SOURCE,
    ]
    assert history["iv"].tolist()[:4] == [0.20, 0.21, 0.22, 0.24]


def test_own_observations_of_another_measure_count_as_absent() -> None:
    # Arrange: old ATM observations (below model-free by the skew) beside today's model-free measure
    ledger = {d: _observed(0.15, own_source("atm", "simulated")) for d in DAYS}
    proxy = pd.DataFrame({"iv": 0.2, "source": VIX_PROXY_SOURCE}, index=pd.DatetimeIndex(DAYS))

    # Act
    history = iv_history_of(DAYS, ledger, None, proxy, IvMeasure.MODEL_FREE)
    as_atm = iv_history_of(DAYS, ledger, None, proxy, IvMeasure.ATM)

    # Assert
    assert set(history["source"]) == {VIX_PROXY_SOURCE}
    assert set(as_atm["source"]) == {"chain:atm:simulated"}


def test_own_sources_are_told_apart_from_recorded_and_proxy_ones() -> None:
    assert is_own(own_source("atm", "simulated"))
    assert not is_own("recorded:ivs.csv") and not is_own(VIX_PROXY_SOURCE)


def test_chain_iv_30d_measures_the_model_free_vol_or_the_atm_vol_of_a_flat_surface() -> None:
    # Arrange: a flat 20% vol, expirations 14 and 42 days out
    now = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)
    chain = flat_vol_chain(now, [date(2024, 3, 15), date(2024, 4, 12)], vol=0.2, rate=0.03)

    # Act
    model_free = chain_iv_30d(chain, now, IvMeasure.MODEL_FREE)
    atm = chain_iv_30d(chain, now, IvMeasure.ATM)

    # Assert
    assert model_free == pytest.approx(0.2, abs=0.003)
    assert atm == pytest.approx(0.2, abs=0.002)


def flat_vol_chain(now: datetime, expirations: list[date], vol: float, rate: float) -> pd.DataFrame:
    """An enriched-looking chain of European SPX prices at one vol: quotes 1% either side of fair, the
    vol as every contract's IV, the rate, the time to expiry and the spot (100) on every row."""
    spot, strikes = 100.0, np.arange(30.0, 300.0, 0.5)
    frames = []
    for expiration in expirations:
        t = years_to_expiry(now, expiration, "SPXW")
        for right in ("C", "P"):
            price = bsm_price(spot, strikes, t, rate, 0.0, vol, right == "C")
            frames.append(
                pd.DataFrame(
                    {
                        "occ_symbol": [format_occ_symbol("SPXW", expiration, right, k) for k in strikes],
                        "expiration": pd.Timestamp(expiration),
                        "strike": strikes,
                        "right": right,
                        "bid": price * 0.99,
                        "ask": price * 1.01,
                        "iv": vol,
                        "rate": rate,
                        "t_years": t,
                        "underlying_price": spot,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
