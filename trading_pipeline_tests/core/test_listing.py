"""Listing: strikes stay listed until expiry, grids dense like real chains, AM-settled SPX leaves on time."""

from __future__ import annotations

from datetime import date, time, timedelta

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.calendar import at_et, sessions_between
from trading_pipeline.core.expirations import listed_expiries
from trading_pipeline.core.listing import Listing, listing_as_of, listing_history_start

AS_OF = at_et(date(2025, 6, 11), time(10, 0))


def _history(prices: dict[date, float], spot: float, day: date) -> pd.Series:
    """Closes before `day` plus the current spot, as the listing expects them."""
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in prices] + [pd.Timestamp(day)])
    return pd.Series([*prices.values(), spot], index=index)


def _path(start: date, end: date, first: float, last: float) -> dict[date, float]:
    """Closes moving geometrically from `first` to `last` over the sessions from start to end."""
    sessions = sessions_between(start, end)
    return dict(zip(sessions, np.geomspace(first, last, len(sessions)).tolist(), strict=True))


def _bars(opens: dict[date, float], closes: dict[date, float], spot: float, day: date) -> pd.DataFrame:
    """Opens and closes by session, then `day`'s row: its open if given and the current spot as close."""
    index = pd.DatetimeIndex([pd.Timestamp(d) for d in closes] + [pd.Timestamp(day)])
    return pd.DataFrame(
        {"open": [opens.get(d, np.nan) for d in [*closes, day]], "close": [*closes.values(), spot]},
        index=index,
    )


def _strikes(listing: Listing, expiration: date, root: str) -> set[float]:
    found = next(e for e in listing.expirations if e.expiration == expiration and e.root == root)
    return set(found.strikes.tolist())


def test_listing_when_spot_falls_keeps_every_strike_listed_before_and_adds_new_ones() -> None:
    # Arrange: SPY falls 30% over two months
    path = _path(date(2024, 1, 2), date(2025, 6, 30), 500.0, 500.0)
    path |= _path(date(2025, 7, 1), date(2025, 8, 29), 500.0, 350.0)
    early, late = at_et(date(2025, 7, 1), time(10, 0)), at_et(date(2025, 9, 2), time(10, 0))

    # Act
    before = listing_as_of("SPY", early, _history(path, 500.0, early.date()), 120)
    after = listing_as_of("SPY", late, _history(path, 350.0, late.date()), 120)

    # Assert
    common = {(e.expiration, e.root) for e in before.expirations} & {
        (e.expiration, e.root) for e in after.expirations
    }
    assert common
    for expiration, root in common:
        assert _strikes(before, expiration, root) <= _strikes(after, expiration, root)
    december = _strikes(after, date(2025, 10, 17), "SPY")
    assert {345.0, 350.0, 351.0} <= december  # $1 strikes around the new price


def test_listing_within_a_session_does_not_depend_on_the_current_spot() -> None:
    # Arrange
    path = _path(date(2023, 6, 1), date(2025, 6, 10), 400.0, 520.0)

    # Act
    calm = listing_as_of("SPY", AS_OF, _history(path, 520.0, AS_OF.date()), 60)
    crash = listing_as_of("SPY", AS_OF + timedelta(hours=5), _history(path, 450.0, AS_OF.date()), 60)

    # Assert
    assert [(e.expiration, e.root, e.strikes.tolist()) for e in calm.expirations] == [
        (e.expiration, e.root, e.strikes.tolist()) for e in crash.expirations
    ]


def test_listing_on_a_15_percent_gap_down_lists_strikes_around_the_open_and_keeps_them_next_session() -> None:
    # Arrange: SPY at 500 for two years gaps down to 425 at the 2025-06-11 open and closes back at 500
    gap_day, next_day = date(2025, 6, 11), date(2025, 6, 12)
    closes = _path(date(2023, 6, 1), date(2025, 6, 10), 500.0, 500.0)
    opens = dict.fromkeys(closes, 500.0) | {gap_day: 425.0}
    around_open = {float(k) for k in range(int(np.ceil(425 * 0.95)), int(np.floor(425 * 1.05)) + 1)}

    # Act
    before_open = listing_as_of("SPY", at_et(gap_day, time(9, 0)), _bars(opens, closes, 500.0, gap_day), 60)
    during = listing_as_of("SPY", at_et(gap_day, time(11, 0)), _bars(opens, closes, 425.0, gap_day), 60)
    after = closes | {gap_day: 500.0}
    next_session = listing_as_of(
        "SPY", at_et(next_day, time(10, 0)), _bars(opens, after, 500.0, next_day), 60
    )

    # Assert: the open is not known (nor used) at 09:00; from 09:30 every $1 strike within 5% of it is
    # listed, and none disappears the next session although the close came back to 500
    for expiration in during.expirations:
        assert around_open <= set(expiration.strikes.tolist()), expiration.expiration
    assert not any(around_open <= set(e.strikes.tolist()) for e in before_open.expirations)
    for expiration in during.expirations:
        if expiration.expiration > gap_day:
            assert set(expiration.strikes.tolist()) <= _strikes(next_session, expiration.expiration, "SPY")


def test_listing_ignores_an_open_not_yet_known_and_prices_after_the_session_asked() -> None:
    # Arrange: the same gap, passed with later sessions, asked before the gap day's open
    gap_day = date(2025, 6, 11)
    closes = _path(date(2023, 6, 1), date(2025, 6, 10), 500.0, 500.0)
    future = {date(2025, 6, 12): 300.0, date(2025, 6, 13): 300.0}
    bare = _bars({}, closes, 500.0, gap_day)
    leaky = _bars({gap_day: 425.0} | future, closes, 500.0, gap_day)
    leaky = pd.concat([leaky, pd.DataFrame({"open": 300.0, "close": 300.0}, index=pd.DatetimeIndex(future))])
    at = at_et(gap_day, time(9, 0))

    # Act
    clean, with_future = listing_as_of("SPY", at, bare, 60), listing_as_of("SPY", at, leaky, 60)

    # Assert
    assert [(e.expiration, e.strikes.tolist()) for e in clean.expirations] == [
        (e.expiration, e.strikes.tolist()) for e in with_future.expirations
    ]


def test_spy_46_dte_expiration_lists_about_twenty_strikes_in_the_5_to_10_percent_otm_put_band() -> None:
    # Arrange: a real 46-DTE SPY expiry near 400 lists $1 strikes there
    as_of = at_et(date(2025, 6, 3), time(10, 0))
    path = _path(date(2023, 6, 1), date(2025, 6, 2), 400.0, 400.0)

    # Act
    listing = listing_as_of("SPY", as_of, _history(path, 400.0, as_of.date()), 50)
    strikes = np.array(sorted(_strikes(listing, date(2025, 7, 18), "SPY")))

    # Assert
    band = strikes[(strikes >= 360.0) & (strikes <= 380.0)]
    assert 18 <= len(band) <= 22
    assert strikes.min() < 0.8 * 400 and strikes.max() > 1.1 * 400


def test_spx_strikes_are_five_points_near_the_money_and_coarser_in_the_wings() -> None:
    # Arrange
    path = _path(date(2023, 6, 1), date(2025, 6, 10), 5000.0, 5000.0)

    # Act
    listing = listing_as_of("SPX", AS_OF, _history(path, 5000.0, AS_OF.date()), 45)
    strikes = np.array(sorted(_strikes(listing, date(2025, 7, 18), "SPX")))

    # Assert
    near = strikes[np.abs(strikes / 5000.0 - 1) < 0.05]
    far = strikes[strikes < 0.75 * 5000.0]
    assert set(np.diff(near)) == {5.0}
    assert len(far) > 0 and (far % 25 == 0).all()


def test_spx_am_monthly_when_its_settlement_friday_opens_is_no_longer_listed() -> None:
    # Arrange: third Friday 2025-06-20; Juneteenth closes Thursday, so Wednesday is the last trading day,
    # and SPX options trade until 16:15
    path = _path(date(2023, 6, 1), date(2025, 6, 19), 5000.0, 5000.0)
    last_day_late = at_et(date(2025, 6, 18), time(16, 10))
    friday = at_et(date(2025, 6, 20), time(10, 0))

    # Act
    roots = {
        at: {
            e.root
            for e in listing_as_of("SPX", at, _history(path, 5000.0, at.date()), 3).expirations
            if e.expiration == date(2025, 6, 20)
        }
        for at in (last_day_late, friday)
    }

    # Assert
    assert roots[last_day_late] == {"SPX", "SPXW"}
    assert roots[friday] == {"SPXW"}


def test_listing_after_the_close_drops_the_expired_same_day_expiration() -> None:
    # Arrange
    path = _path(date(2023, 6, 1), date(2025, 6, 10), 500.0, 500.0)
    after_close = at_et(date(2025, 6, 11), time(16, 30))

    # Act
    listing = listing_as_of("SPY", after_close, _history(path, 500.0, after_close.date()), 5)

    # Assert
    assert date(2025, 6, 11) not in {e.expiration for e in listing.expirations}


def test_listing_history_start_precedes_the_first_listing_of_every_wanted_expiration() -> None:
    # Arrange / Act
    start = listing_history_start("SPY", AS_OF, 400)

    # Assert
    first = min(e.listed_on for e in listed_expiries("SPY", AS_OF.date(), 400))
    assert start < first
    assert (AS_OF.date() - start).days < 800


def test_listing_with_a_naive_time_raises_naming_it() -> None:
    # Arrange
    naive = AS_OF.replace(tzinfo=None)

    # Act / Assert
    with pytest.raises(ValueError, match="timezone-aware"):
        listing_as_of("SPY", naive, _history({}, 500.0, naive.date()), 30)


def test_listing_with_a_bad_open_raises_naming_the_date_and_value() -> None:
    # Arrange
    closes = {date(2025, 6, 9): 500.0, date(2025, 6, 10): 500.0}
    history = _bars({date(2025, 6, 10): 0.0}, closes, 500.0, AS_OF.date())

    # Act / Assert
    with pytest.raises(ValueError, match=r"open .*2025-06-10.*0\.0"):
        listing_as_of("SPY", AS_OF, history, 30)


def test_listing_with_a_bad_price_raises_naming_the_date_and_value() -> None:
    # Arrange
    history = _history({date(2025, 6, 9): 500.0, date(2025, 6, 10): -1.0}, 500.0, AS_OF.date())

    # Act / Assert
    with pytest.raises(ValueError, match=r"2025-06-10.*-1\.0"):
        listing_as_of("SPY", AS_OF, history, 30)
