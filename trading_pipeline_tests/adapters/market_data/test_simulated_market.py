"""The simulated market's bars, spot and minute paths: sessions, dynamics, determinism, no look-ahead."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.simulated import DIVIDEND_YIELDS, SimulatedMarket
from trading_pipeline.core.calendar import UTC, at_et, session_close, session_open

START, END = date(2018, 1, 2), date(2026, 12, 31)
IV_RANK_WINDOW = 252
IV_RANK_THRESHOLD = 30.0


@pytest.fixture(scope="module")
def market() -> SimulatedMarket:
    return SimulatedMarket(seed=7)


def _all_bars(market: SimulatedMarket, symbol: str) -> pd.DataFrame:
    return market.daily_bars(symbol, START, END)


def _log_returns(bars: pd.DataFrame) -> pd.Series:
    return np.log(bars["close"]).diff().dropna()


def test_same_seed_gives_identical_bars_and_chains_in_a_new_process(market: SimulatedMarket) -> None:
    # Arrange
    script = (
        "from datetime import date, datetime, timezone\n"
        "from trading_pipeline.adapters.market_data.simulated import SimulatedMarket\n"
        "market = SimulatedMarket(seed=7)\n"
        "print(market.daily_bars('QQQ', date(2024, 1, 2), date(2024, 3, 28)).to_csv())\n"
        "print(market.option_chain('SPX', datetime(2024, 3, 1, 15, 0, tzinfo=timezone.utc), 0, 10).to_csv())"
    )

    # Act
    other_process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    # Assert
    bars = market.daily_bars("QQQ", date(2024, 1, 2), date(2024, 3, 28)).to_csv()
    chain = market.option_chain("SPX", datetime(2024, 3, 1, 15, 0, tzinfo=UTC), 0, 10).to_csv()
    assert other_process.stdout == f"{bars}\n{chain}\n"


def test_different_seeds_give_different_paths() -> None:
    # Arrange
    first, second = SimulatedMarket(seed=1), SimulatedMarket(seed=2)

    # Act
    closes = [m.daily_bars("SPY", date(2019, 1, 2), date(2019, 12, 31))["close"] for m in (first, second)]

    # Assert
    assert not np.allclose(closes[0].to_numpy(), closes[1].to_numpy())


def test_daily_bars_cover_sessions_only(market: SimulatedMarket) -> None:
    # Arrange / Act
    bars = market.daily_bars("SPY", date(2025, 11, 24), date(2025, 12, 31))

    # Assert
    sessions = {ts.date() for ts in bars.index}
    assert date(2025, 12, 25) not in sessions  # Christmas
    assert date(2025, 11, 27) not in sessions  # Thanksgiving
    assert date(2025, 11, 28) in sessions  # half-day
    assert date(2025, 11, 29) not in sessions  # Saturday
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]


def test_daily_bars_have_consistent_ohlc(market: SimulatedMarket) -> None:
    # Arrange / Act
    frames = [_all_bars(market, symbol) for symbol in ("SPY", "QQQ", "IWM", "SPX", "VIX", "VIX9D", "VIX3M")]

    # Assert
    for bars in frames:
        assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
        assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
        assert (bars["low"] > 0).all()


def test_starting_levels_are_realistic(market: SimulatedMarket) -> None:
    # Arrange / Act
    first = {s: _all_bars(market, s)["open"].iloc[0] for s in ("SPY", "QQQ", "IWM", "SPX", "VIX")}

    # Assert
    assert 250 < first["SPY"] < 290
    assert 140 < first["QQQ"] < 175
    assert 140 < first["IWM"] < 170
    assert 2500 < first["SPX"] < 2900
    assert 10 < first["VIX"] < 17


def test_volume_is_positive_for_etfs_and_zero_for_indices(market: SimulatedMarket) -> None:
    # Arrange / Act
    volumes = {s: _all_bars(market, s)["volume"] for s in ("SPY", "QQQ", "IWM", "SPX", "VIX")}

    # Assert
    assert all((volumes[s] > 0).all() for s in ("SPY", "QQQ", "IWM"))
    assert (volumes["VIX"] == 0).all() and (volumes["SPX"] == 0).all()


def test_qqq_returns_follow_spy(market: SimulatedMarket) -> None:
    # Arrange / Act
    correlation = _log_returns(_all_bars(market, "SPY")).corr(_log_returns(_all_bars(market, "QQQ")))

    # Assert
    assert correlation > 0.7


def test_vix_rises_when_spy_falls(market: SimulatedMarket) -> None:
    # Arrange / Act
    correlation = _log_returns(_all_bars(market, "VIX")).corr(_log_returns(_all_bars(market, "SPY")))

    # Assert
    assert correlation < -0.5


def test_spx_is_ten_spy(market: SimulatedMarket) -> None:
    # Arrange / Act
    ratio = _all_bars(market, "SPX")["close"] / _all_bars(market, "SPY")["close"]

    # Assert
    assert ratio.between(9.9, 10.1).all()


def test_realized_vol_runs_below_the_vix(market: SimulatedMarket) -> None:
    # Arrange
    realized = _log_returns(_all_bars(market, "SPY")).std() * np.sqrt(252)

    # Act
    implied = (_all_bars(market, "VIX")["close"] / 100).mean()

    # Assert
    assert 0.6 * implied < realized < implied


def test_vix_iv_rank_crosses_thirty_several_times_and_rests_below_it(market: SimulatedMarket) -> None:
    # Arrange
    vix = _all_bars(market, "VIX")["close"]
    low, high = vix.rolling(IV_RANK_WINDOW).min(), vix.rolling(IV_RANK_WINDOW).max()

    # Act
    above = ((vix - low) / (high - low) * 100 > IV_RANK_THRESHOLD).iloc[IV_RANK_WINDOW:]
    runs = (above != above.shift()).cumsum()
    longest_below = above[~above].groupby(runs[~above]).size().max()

    # Assert
    assert (above & ~above.shift(1, fill_value=True)).sum() >= 5
    assert 0.2 < above.mean() < 0.8
    assert longest_below >= 60


def test_daily_bars_beyond_the_simulation_raise_naming_symbol_and_date(market: SimulatedMarket) -> None:
    # Arrange / Act
    with pytest.raises(MarketDataError) as raised:
        market.daily_bars("SPY", date(2026, 12, 1), date(2027, 1, 4))

    # Assert
    assert "SPY" in str(raised.value) and "2027-01-04" in str(raised.value)


def test_unknown_symbol_raises_naming_it(market: SimulatedMarket) -> None:
    # Arrange / Act
    with pytest.raises(MarketDataError, match="TSLA"):
        market.daily_bars("TSLA", date(2024, 1, 2), date(2024, 1, 5))


def test_spot_before_the_open_is_the_previous_close(market: SimulatedMarket) -> None:
    # Arrange
    before_open = at_et(date(2025, 3, 10), time(8, 0))

    # Act
    spot = market.spot("SPY", before_open)

    # Assert
    previous = market.daily_bars("SPY", date(2025, 3, 7), date(2025, 3, 7))["close"].iloc[0]
    assert spot == pytest.approx(previous, rel=1e-12)


def test_spot_after_the_close_and_on_weekends_is_the_close(market: SimulatedMarket) -> None:
    # Arrange
    after_close = at_et(date(2025, 3, 7), time(17, 30))
    saturday = at_et(date(2025, 3, 8), time(12, 0))

    # Act
    spots = [market.spot("SPY", after_close), market.spot("SPY", saturday)]

    # Assert
    close = market.daily_bars("SPY", date(2025, 3, 7), date(2025, 3, 7))["close"].iloc[0]
    assert spots == pytest.approx([close, close], rel=1e-12)


def test_spot_during_the_session_follows_the_minute_path_from_the_open(market: SimulatedMarket) -> None:
    # Arrange
    session = date(2025, 3, 10)
    bars = market.daily_bars("VIX", session, session).iloc[0]

    # Act
    at_open = market.spot("VIX", session_open(session))
    midday = market.spot("VIX", at_et(session, time(12, 0)))

    # Assert
    assert at_open == pytest.approx(bars["open"], rel=1e-12)
    assert bars["low"] <= midday <= bars["high"]


def test_minute_bars_aggregate_to_the_daily_bar(market: SimulatedMarket) -> None:
    # Arrange
    session = date(2025, 11, 28)  # half-day: 13:00 close
    daily = market.daily_bars("IWM", session, session).iloc[0]

    # Act
    minutes = market.minute_bars("IWM", session)

    # Assert
    assert len(minutes) == 210
    assert minutes.index[0] == session_open(session)
    assert minutes.index[-1] + timedelta(minutes=1) == session_close(session)
    assert minutes["open"].iloc[0] == pytest.approx(daily["open"])
    assert minutes["close"].iloc[-1] == pytest.approx(daily["close"])
    assert minutes["high"].max() == pytest.approx(daily["high"])
    assert minutes["low"].min() == pytest.approx(daily["low"])
    assert minutes["volume"].sum() == daily["volume"]


def test_spot_in_the_session_matches_the_minute_bar_open(market: SimulatedMarket) -> None:
    # Arrange
    session = date(2024, 8, 5)
    at = at_et(session, time(11, 17, 30))

    # Act
    spot = market.spot("SPX", at)

    # Assert
    minute = market.minute_bars("SPX", session).loc[pd.Timestamp(at_et(session, time(11, 17)))]
    assert spot == pytest.approx(minute["open"], rel=1e-12)


def test_spot_beyond_the_simulation_raises_naming_symbol(market: SimulatedMarket) -> None:
    # Arrange
    future = datetime(2027, 1, 5, 15, 0, tzinfo=UTC)

    # Act / Assert
    with pytest.raises(MarketDataError, match=r"QQQ.*2027-01-05"):
        market.spot("QQQ", future)


def test_spot_with_a_naive_time_raises_naming_it(market: SimulatedMarket) -> None:
    # Arrange
    naive = datetime(2025, 3, 10, 15, 0)

    # Act / Assert
    with pytest.raises(MarketDataError, match="2025-03-10T15:00:00"):
        market.spot("SPY", naive)


def test_carry_is_the_configured_rate_and_yield_and_defaults_the_rest() -> None:
    # Arrange
    market = SimulatedMarket(seed=7, risk_free_rate=0.025, dividend_yields={"spy": 0.02})
    at = at_et(date(2025, 3, 10), time(10, 0))

    # Act
    spy, qqq = market.carry("SPY", at), market.carry("QQQ", at)

    # Assert
    assert (spy.rate, spy.dividend_yield) == (0.025, 0.02)
    assert (qqq.rate, qqq.dividend_yield) == (0.025, DIVIDEND_YIELDS["QQQ"])


def test_carry_of_a_symbol_without_options_raises_naming_it(market: SimulatedMarket) -> None:
    # Arrange / Act / Assert
    with pytest.raises(MarketDataError, match="VIX options are not simulated"):
        market.carry("VIX", at_et(date(2025, 3, 10), time(10, 0)))


def test_term_structure_is_the_vix9d_vix_and_vix3m_spots(market: SimulatedMarket) -> None:
    # Arrange
    at = at_et(date(2024, 8, 5), time(11, 0))

    # Act
    term = market.term_structure(at)

    # Assert
    assert term.vix == market.spot("VIX", at)
    assert (term.vix9d, term.vix3m) == (market.spot("VIX9D", at), market.spot("VIX3M", at))


def test_term_indices_have_consistent_bars_in_contango_mostly_and_inverted_in_stress(
    market: SimulatedMarket,
) -> None:
    # Arrange
    bars = {s: _all_bars(market, s) for s in ("VIX9D", "VIX", "VIX3M")}

    # Act
    ratio = bars["VIX"]["close"] / bars["VIX3M"]["close"]
    high_vix = bars["VIX"]["close"] > 35

    # Assert
    for frame in bars.values():
        assert (frame["high"] >= frame[["open", "close"]].max(axis=1) - 1e-9).all()
        assert (frame["low"] <= frame[["open", "close"]].min(axis=1) + 1e-9).all()
        assert (frame["volume"] == 0).all()
    assert 0.8 < ratio.median() < 0.95
    assert (ratio[high_vix] > 1).mean() > 0.5


def test_default_world_is_as_restless_as_real_2018_2025(market: SimulatedMarket) -> None:
    # Arrange: real 2018-2025 had VIX >= 25 on 17.7% of days and a worst SPY day of -11.6%
    vix = market.daily_bars("VIX", date(2018, 1, 2), date(2025, 11, 12))["close"]
    returns = _log_returns(market.daily_bars("SPY", date(2018, 1, 2), date(2025, 11, 12)))

    # Act
    share_above_25, worst = (vix >= 25).mean(), returns.min()

    # Assert
    assert 0.10 < share_above_25 < 0.30
    assert -0.20 < worst < -0.08
    assert returns.kurt() > 6
