"""The replay market: real bars, index levels, carry and chains, each answer as of its time."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path

import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.base import DividendCalendar, MarketDataError
from trading_pipeline.adapters.market_data.replay import BAR_FILES, ReplayMarket, read_bars
from trading_pipeline.core.calendar import at_et, previous_session, sessions_between
from trading_pipeline.core.chain import QUOTE_COLUMNS, enrich_chain, normalize_chain
from trading_pipeline.core.chain_quality import expiration_coverage, incomplete_expirations
from trading_pipeline.core.instruments import Right
from trading_pipeline.core.selection import choose_expiration, strike_by_delta
from trading_pipeline.core.strategies.short_strangle import ShortStrangleParams
from trading_pipeline.settings import load_config
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

pytestmark = needs_market_data


@pytest.fixture(scope="module")
def market() -> ReplayMarket:
    return ReplayMarket(MARKET_DATA)


def test_bars_are_the_files_bars_for_the_sessions_asked(market: ReplayMarket) -> None:
    # Act
    bars = market.daily_bars("SPY", date(2020, 3, 16), date(2020, 3, 16))

    # Assert (SOURCES.md sanity: SPY closed at 239.85 on 2020-03-16)
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]
    assert bars["close"].iloc[0] == pytest.approx(239.85, abs=0.01)


def test_index_levels_come_from_their_own_files(market: ReplayMarket) -> None:
    close = at_et(date(2020, 3, 16), time(16, 5))
    assert market.spot("VIX", close) == pytest.approx(82.69, abs=0.01)
    assert market.spot("VIX3M", close) == pytest.approx(67.70, abs=0.01)
    assert market.spot("SPX", close) == pytest.approx(2386.13, abs=0.01)


def test_spot_is_the_previous_close_before_the_open_the_open_in_session_the_close_after(
    market: ReplayMarket,
) -> None:
    # Arrange
    bars = market.bars("SPY")
    day, previous = pd.Timestamp("2020-03-16"), pd.Timestamp("2020-03-13")

    # Act
    before = market.spot("SPY", at_et(day.date(), time(9, 0)))
    during = market.spot("SPY", at_et(day.date(), time(15, 30)))
    after = market.spot("SPY", at_et(day.date(), time(16, 0)))

    # Assert
    assert before == bars.loc[previous, "close"]
    assert during == bars.loc[day, "open"]
    assert after == bars.loc[day, "close"]


def test_a_date_outside_the_data_is_refused_naming_the_files_coverage(market: ReplayMarket) -> None:
    with pytest.raises(MarketDataError, match=r"no replay data for SPY on 2023-01-03: .*2022-11-18"):
        market.spot("SPY", at_et(date(2023, 1, 3), time(10, 0)))
    with pytest.raises(MarketDataError, match="1999-12-01"):
        market.daily_bars("SPY", date(1999, 12, 1), date(2000, 2, 1))


def test_a_naive_time_is_refused(market: ReplayMarket) -> None:
    with pytest.raises(MarketDataError, match="timezone-aware"):
        market.spot("SPY", datetime(2020, 3, 16, 10, 0))


def test_term_structure_has_no_vix3m_before_its_history_starts(market: ReplayMarket) -> None:
    # Act
    early = market.term_structure(at_et(date(2008, 10, 10), time(10, 0)))
    later = market.term_structure(at_et(date(2020, 3, 16), time(16, 5)))

    # Assert
    assert early.vix3m is None and early.vix9d is None and early.vix > 40
    assert later.vix9d == pytest.approx(106.66, abs=0.01)


def test_a_malformed_bar_names_the_file_line_and_value(tmp_path: Path) -> None:
    # Arrange
    (tmp_path / "daily").mkdir()
    (tmp_path / "daily" / "SPY.csv").write_text(
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2020-01-02,1,2,0.5,1.5,1.5,100\n"
        "2020-01-03,1,2,x,1.5,1.5,100\n"
    )

    # Act / Assert
    with pytest.raises(MarketDataError, match=r"SPY.csv line 3: field 'Low' has 'x'"):
        read_bars(tmp_path, "SPY")


#: Values of `last_day` not yet known at its morning tick: its high, low and close, and its T-bill rate.
_UNKNOWN_IN_THE_MORNING = ("High", "Low", "Close", "Adj Close", "HIGH", "LOW", "CLOSE", "rate_pct")
_UNKNOWN_BEFORE_THE_OPEN = (*_UNKNOWN_IN_THE_MORNING, "Open", "OPEN")


def _truncated_copy(
    destination: Path,
    last_day: date,
    unknown: tuple[str, ...] = _UNKNOWN_IN_THE_MORNING,
    poison: str = "99.0",
) -> Path:
    """The market-data folder with every dated file cut after `last_day`, and `last_day`'s values unknowable
    at the time asked (`unknown` columns) replaced by absurd ones: the future removed and poisoned."""
    for relative in ("rates/DTB3.csv", "dividends/SPY.csv", *(str(b.path) for b in BAR_FILES.values())):
        source, target = MARKET_DATA / relative, destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        frame = pd.read_csv(source, dtype=str, encoding="utf-8-sig", keep_default_na=False)
        dates = pd.to_datetime(frame.iloc[:, 0], format="mixed")
        frame = frame[dates <= pd.Timestamp(last_day)].copy()
        today = (dates[dates <= pd.Timestamp(last_day)] == pd.Timestamp(last_day)).to_numpy()
        for column in set(unknown) & set(frame.columns):
            frame.loc[today, column] = poison
        frame.to_csv(target, index=False)
    shutil.copytree(MARKET_DATA / "chains", destination / "chains")
    return destination


@pytest.mark.parametrize("day", [date(2008, 10, 10), date(2008, 10, 15), date(2020, 3, 16)])
def test_answers_at_a_time_do_not_change_when_the_future_is_removed(tmp_path: Path, day: date) -> None:
    # Arrange: the same market, once with all data and once with nothing after `day`
    full, cut = ReplayMarket(MARKET_DATA), ReplayMarket(_truncated_copy(tmp_path, day))
    at = at_et(day, time(10, 0))

    # Act / Assert: spot, carry, term structure, bars and the whole chain are identical
    assert full.spot("SPY", at) == cut.spot("SPY", at)
    assert full.carry("SPY", at) == cut.carry("SPY", at)
    assert full.term_structure(at) == cut.term_structure(at)
    pd.testing.assert_frame_equal(
        full.daily_bars("SPY", date(2008, 1, 2), previous_session(day)),
        cut.daily_bars("SPY", date(2008, 1, 2), previous_session(day)),
    )
    pd.testing.assert_frame_equal(full.option_chain("SPY", at, 0, 70), cut.option_chain("SPY", at, 0, 70))


def test_a_chain_before_the_open_does_not_change_when_the_days_open_is_poisoned(tmp_path: Path) -> None:
    # Arrange: the 2008-10-10 gap open (86.76) lists strikes from 09:30 on; at 09:15 it is still unknown,
    # so an absurd open of 20.00 (that would list strikes down near 19) must change nothing
    day = date(2008, 10, 10)
    full = ReplayMarket(MARKET_DATA)
    cut = ReplayMarket(_truncated_copy(tmp_path, day, _UNKNOWN_BEFORE_THE_OPEN, poison="20.0"))
    at = at_et(day, time(9, 15))

    # Act / Assert
    pd.testing.assert_frame_equal(full.option_chain("SPY", at, 0, 70), cut.option_chain("SPY", at, 0, 70))


def test_a_derived_chain_is_in_the_quote_layout_stamped_at_the_time_asked(market: ReplayMarket) -> None:
    # Arrange
    at = at_et(date(2008, 10, 15), time(10, 0))

    # Act
    chain = market.option_chain("SPY", at, 0, 70)

    # Assert
    assert list(chain.columns) == list(QUOTE_COLUMNS)
    assert (chain["quote_time"] == pd.Timestamp(at)).all()
    assert (chain["underlying_price"] == market.spot("SPY", at)).all()


def test_a_recorded_chain_is_used_once_its_quote_time_has_passed(market: ReplayMarket) -> None:
    # Arrange: the SPX Cboe export of 2023-06-09 was taken at 13:40 ET — but daily bars end in 2022,
    # so use the IWM end-of-day file of 2019-10-15 instead
    before = at_et(date(2019, 10, 15), time(10, 0))
    after = datetime(2019, 10, 15, 21, 0, tzinfo=UTC)

    # Act
    morning = market.option_chain("IWM", before, 0, 400)
    evening = market.option_chain("IWM", after, 0, 400)

    # Assert: the morning chain is derived (stamped at 10:00), the evening one is the vendor's
    assert (morning["quote_time"] == pd.Timestamp(before)).all()
    assert (evening["quote_time"] < pd.Timestamp(after)).all()
    assert evening["occ_symbol"].str.startswith("IWM").all()
    assert len(evening) > 2000


def test_a_derived_chain_on_the_2008_10_10_gap_open_lists_every_strike_around_spot(
    market: ReplayMarket,
) -> None:
    # Arrange: SPY closed at 90.70 on 2008-10-09 and opened at 86.76; the October monthly expires on the 17th
    at = at_et(date(2008, 10, 10), time(11, 0))
    quality = load_config().data_quality

    # Act
    chain = normalize_chain(market.option_chain("SPY", at, quality.chain_min_dte, quality.chain_max_dte))

    # Assert: every $1 strike within 5% of spot, both rights, and the chain_complete_around_spot rule holds
    spot = market.spot("SPY", at)
    october = chain[chain["expiration"] == pd.Timestamp(date(2008, 10, 17))]
    near = {float(k) for k in range(int(spot * 0.95) + 1, int(spot * 1.05) + 1)}
    assert spot == pytest.approx(86.76)
    for right in ("P", "C"):
        assert near <= set(october.loc[october["right"] == right, "strike"]), right
    coverage = expiration_coverage(chain)
    assert len(coverage) == chain["expiration"].nunique() >= 3
    thin = incomplete_expirations(coverage, quality.min_strikes_each_side, quality.max_spot_gap_spacings)
    assert thin.empty, thin.to_dict("records")


def _enriched(market: ReplayMarket, at: datetime) -> pd.DataFrame:
    quotes = normalize_chain(market.option_chain("SPY", at, 0, 70))
    return enrich_chain(quotes, at, {"SPY": market.carry("SPY", at)})


@pytest.mark.slow
def test_a_strangle_opened_before_the_march_2020_crash_can_be_marked_and_closed_every_session(
    market: ReplayMarket,
) -> None:
    # Arrange: a 16-delta, ~45-DTE strangle opened on Valentine's Day 2020, SPY near its high
    opened = at_et(date(2020, 2, 14), time(10, 0))
    entry = _enriched(market, opened)
    params = ShortStrangleParams()
    expiration = choose_expiration(entry, 40, 50, 45, params.liquidity)
    legs = [
        strike_by_delta(entry, expiration, right, 0.16, params.max_delta_error, params.liquidity)[
            "occ_symbol"
        ]
        for right in (Right.PUT, Right.CALL)
    ]

    # Act: every session until expiry, at the morning tick and near the close
    unmarkable = []
    for session in sessions_between(date(2020, 2, 18), expiration):
        for tick in (time(10, 0), time(15, 30)):
            at = at_et(session, tick)
            rows = _enriched(market, at).set_index("occ_symbol")
            missing = [leg for leg in legs if leg not in rows.index or not rows.loc[leg, "ask"] > 0]
            if missing:
                unmarkable.append((at.isoformat(), missing))

    # Assert: SPY fell a third, yet both strikes stayed listed and quoted until expiry
    assert not unmarkable, unmarkable[:5]


def test_a_recorded_chain_without_an_underlying_price_gets_the_replayed_spot(market: ReplayMarket) -> None:
    # Arrange: the 2015 SPY file gives no underlying price; SPY closed at 201.72 that day (SOURCES.md)
    after_close = at_et(date(2015, 1, 5), time(16, 30))

    # Act
    chain = normalize_chain(market.option_chain("SPY", after_close, 0, 70))

    # Assert
    assert len(chain) > 500
    assert (chain["underlying_price"] - 201.72).abs().max() < 0.01


def test_dividends_are_the_files_cash_amounts_with_ex_dates_in_the_range(market: ReplayMarket) -> None:
    # Act
    december = market.dividends("SPY", date(2015, 12, 1), date(2015, 12, 31))
    none = market.dividends("SPY", date(2015, 12, 19), date(2016, 3, 1))

    # Assert: SPY's 2015-12-18 dividend (1.212); nothing until the next quarter's
    assert [(d.date(), float(a)) for d, a in december.items()] == [(date(2015, 12, 18), 1.212)]
    assert none.empty
    assert isinstance(market, DividendCalendar)


def test_vix_pays_no_dividend_and_an_unknown_symbol_is_refused_naming_it(market: ReplayMarket) -> None:
    assert market.dividends("VIX", date(2015, 12, 1), date(2015, 12, 31)).empty
    with pytest.raises(MarketDataError, match="no dividend history for ABCD"):
        market.dividends("ABCD", date(2015, 12, 1), date(2015, 12, 31))
