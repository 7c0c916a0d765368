"""Chain data-quality measurements: crossed quotes, quote age, strikes around spot, unsolvable IVs."""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.chain import ENRICHED_COLUMNS, MAX_LISTED, QUOTE_COLUMNS, ChainSchemaError
from trading_pipeline.core.chain_quality import (
    QUOTE_CLOCK_SKEW_SECONDS,
    crossed_or_locked_quotes,
    expiration_coverage,
    future_quotes,
    gap_around_spot,
    incomplete_expirations,
    listing,
    max_quote_age_seconds,
    missing_underlyings,
    stale_quotes,
    strikes_each_side,
    unsolvable_near_money,
)
from trading_pipeline_tests.core.chain_builders import NOW, enriched_chain, quote_chain

EMPTY = pd.DataFrame({column: [] for column in (*QUOTE_COLUMNS, *ENRICHED_COLUMNS)})


def _empty_enriched_chain() -> pd.DataFrame:
    """An enriched chain with no rows but the real column types (datetime expirations, float strikes)."""
    return enriched_chain(dtes=(42,), strikes=(500,)).iloc[0:0]


def test_crossed_or_locked_quotes_are_rows_whose_ask_is_not_above_the_bid() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=(480, 500, 520))
    chain.loc[0, ["bid", "ask"]] = [2.10, 2.00]  # crossed
    chain.loc[1, ["bid", "ask"]] = [2.00, 2.00]  # locked: zero width
    chain.loc[2, ["bid", "ask"]] = [0.00, 0.00]  # locked at zero: nobody quotes it
    chain.loc[3, ["bid", "ask"]] = [2.00, 2.01]  # one tick wide: fine

    # Act
    offending = crossed_or_locked_quotes(chain)

    # Assert
    assert offending["occ_symbol"].tolist() == chain.loc[[0, 1, 2], "occ_symbol"].tolist()


def test_a_clean_chain_has_no_crossed_or_locked_quotes() -> None:
    assert crossed_or_locked_quotes(quote_chain()).empty


def test_listing_shows_the_first_rows_up_to_the_cap_with_the_total() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=range(480, 520, 5))

    # Act
    listed = listing(chain, ["occ_symbol", "bid", "quote_time"])

    # Assert
    assert listed["total"] == len(chain) > MAX_LISTED
    assert [row["occ_symbol"] for row in listed["shown"]] == chain["occ_symbol"].tolist()[:MAX_LISTED]
    assert listed["shown"][0]["bid"] == chain.at[0, "bid"]
    assert pd.Timestamp(listed["shown"][0]["quote_time"]) == pd.Timestamp(NOW)


def test_max_quote_age_is_the_age_of_the_oldest_quote() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=(480, 500, 520))
    chain["quote_time"] = pd.Timestamp(NOW) - pd.to_timedelta(np.arange(len(chain)), unit="s")
    chain.loc[3, "quote_time"] = pd.Timestamp(NOW - timedelta(minutes=7))

    # Act
    age = max_quote_age_seconds(chain, NOW + timedelta(seconds=30))

    # Assert
    assert age == pytest.approx(7 * 60 + 30)


def test_max_quote_age_reads_quote_times_in_other_time_zones_as_instants() -> None:
    # Arrange: the same instant written in New York time.
    chain = quote_chain(dtes=(42,), strikes=(500,))
    chain["quote_time"] = pd.Timestamp(NOW - timedelta(seconds=90)).tz_convert("America/New_York")

    # Act
    age = max_quote_age_seconds(chain, NOW)

    # Assert
    assert age == pytest.approx(90)


def test_max_quote_age_of_an_empty_chain_is_zero() -> None:
    assert max_quote_age_seconds(EMPTY, NOW) == 0.0


def test_stale_quotes_are_rows_older_than_the_limit() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=(480, 500))
    chain.loc[1, "quote_time"] = pd.Timestamp(NOW - timedelta(seconds=301))
    chain.loc[2, "quote_time"] = pd.Timestamp(NOW - timedelta(seconds=300))

    # Act
    stale = stale_quotes(chain, NOW, max_age_seconds=300)

    # Assert
    assert stale["occ_symbol"].tolist() == [chain.at[1, "occ_symbol"]]


def test_future_quotes_are_rows_stamped_after_now_beyond_the_clock_skew() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=(480, 500))
    chain.loc[1, "quote_time"] = pd.Timestamp(NOW + timedelta(minutes=5))
    chain.loc[2, "quote_time"] = pd.Timestamp(NOW + timedelta(seconds=QUOTE_CLOCK_SKEW_SECONDS))

    # Act
    future = future_quotes(chain, NOW)

    # Assert
    assert future["occ_symbol"].tolist() == [chain.at[1, "occ_symbol"]]


def test_quote_ages_of_naive_quote_times_are_refused_not_read_as_utc() -> None:
    # Arrange: 10:30 New York time without its zone; read as UTC it would look 4 hours old.
    chain = quote_chain(dtes=(42,), strikes=(500,))
    chain["quote_time"] = pd.Timestamp("2025-03-14 10:30")
    symbol = chain.at[0, "occ_symbol"]

    # Act / Assert
    expected = (
        "option chain field 'quote_time' must hold timezone-aware timestamps, got dtype datetime64[us] "
        f"(first: Timestamp('2025-03-14 10:30:00') for {symbol!r})"
    )
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        future_quotes(chain, NOW)


def test_stale_and_future_quotes_of_an_empty_chain_are_empty() -> None:
    # Arrange
    chain = _empty_enriched_chain()

    # Act / Assert
    assert stale_quotes(chain, NOW, 300).empty
    assert future_quotes(chain, NOW).empty


def test_strikes_each_side_counts_distinct_strikes_per_underlying_and_expiration() -> None:
    # Arrange: spot 500; strikes 490, 495 below, 500 at the money, 505 above; puts and calls each.
    spy = quote_chain(dtes=(42, 49), strikes=(490, 495, 500, 505))
    qqq = quote_chain(dtes=(42,), strikes=(440, 460), underlying="QQQ", spot=450.0)
    chain = pd.concat([spy, qqq], ignore_index=True)

    # Act
    counts = strikes_each_side(chain)

    # Assert
    by_key = {(row.underlying, row.expiration.date()): (row.below, row.above) for row in counts.itertuples()}
    today = NOW.date()
    assert by_key == {
        ("SPY", today + timedelta(days=42)): (2, 1),
        ("SPY", today + timedelta(days=49)): (2, 1),
        ("QQQ", today + timedelta(days=42)): (1, 1),
    }


def test_strikes_each_side_reports_zero_for_a_side_without_strikes() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=(510, 520))

    # Act
    counts = strikes_each_side(chain)

    # Assert
    assert counts[["below", "above"]].to_dict("records") == [{"below": 0, "above": 2}]


def test_strikes_each_side_of_an_empty_chain_is_an_empty_table() -> None:
    # Act
    counts = strikes_each_side(EMPTY)

    # Assert
    assert counts.empty
    assert list(counts.columns) == ["underlying", "expiration", "below", "above"]


def test_unsolvable_near_money_are_the_quotes_within_five_percent_of_spot_without_iv() -> None:
    # Arrange: strikes 470..530 around spot 500; 480..520 are within 5% (9 strikes x 2 rights).
    chain = enriched_chain(dtes=(42,), strikes=range(470, 535, 5))
    chain.loc[chain["strike"] == 500.0, "iv"] = np.nan  # near the money: counted
    chain.loc[chain["strike"] == 470.0, "iv"] = np.nan  # 6% away: ignored

    # Act
    unsolved, total = unsolvable_near_money(chain)

    # Assert
    assert unsolved["occ_symbol"].tolist() == chain.loc[chain["strike"] == 500.0, "occ_symbol"].tolist()
    assert total == 18


def test_unsolvable_near_money_ignores_contracts_expiring_today() -> None:
    # Arrange
    chain = enriched_chain(dtes=(0, 42), strikes=(500,))
    chain.loc[chain["dte"] == 0, "iv"] = np.nan

    # Act
    unsolved, total = unsolvable_near_money(chain)

    # Assert
    assert (len(unsolved), total) == (0, 2)


def test_unsolvable_near_money_of_an_empty_chain_is_zero_of_zero() -> None:
    # Act
    unsolved, total = unsolvable_near_money(EMPTY)

    # Assert
    assert (len(unsolved), total) == (0, 0)


def test_expiration_coverage_of_an_empty_chain_is_an_empty_table() -> None:
    # Act
    coverage = expiration_coverage(_empty_enriched_chain())

    # Assert
    assert coverage.empty
    assert list(coverage.columns) == ["underlying", "expiration", "below", "above", "gap_spacings"]


def test_incomplete_expirations_are_those_thin_on_a_side_or_with_a_hole_at_spot() -> None:
    # Arrange: 42 days complete; 49 days has 2 strikes below spot; 56 days misses 495..505.
    full = quote_chain(dtes=(42,), strikes=range(480, 525, 5))
    thin = quote_chain(dtes=(49,), strikes=range(490, 525, 5))
    holed = quote_chain(dtes=(56,), strikes=[k for k in range(480, 525, 5) if not 495 <= k <= 505])
    chain = pd.concat([full, thin, holed], ignore_index=True)

    # Act
    incomplete = incomplete_expirations(expiration_coverage(chain), 3, max_spot_gap_spacings=2.0)

    # Assert
    today = NOW.date()
    assert [e.date() for e in incomplete["expiration"]] == [today + timedelta(days=d) for d in (49, 56)]


def test_missing_underlyings_are_the_expected_ones_without_quotes() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=(500,))

    # Act / Assert
    assert missing_underlyings(chain, ["SPY", "QQQ", "IWM"]) == ["IWM", "QQQ"]
    assert missing_underlyings(_empty_enriched_chain(), ["SPY"]) == ["SPY"]


def _grid(strikes: list[float], spot: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "underlying": "SPY",
            "expiration": pd.Timestamp("2026-01-16"),
            "strike": strikes,
            "underlying_price": spot,
        }
    )


def test_gap_around_spot_is_one_spacing_on_a_complete_grid() -> None:
    # Arrange
    chain = _grid([float(k) for k in range(490, 511)], spot=500.4)

    # Act
    gaps = gap_around_spot(chain)

    # Assert
    assert gaps["gap_spacings"].tolist() == [1.0]


def test_gap_around_spot_grows_with_the_strikes_missing_next_to_spot() -> None:
    # Arrange: 499, 500 and 501, 502 missing around a spot of 500.4
    chain = _grid([float(k) for k in range(490, 511) if k not in (499, 500, 501, 502)], spot=500.4)

    # Act
    gaps = gap_around_spot(chain)

    # Assert: 498 -> 503 is five spacings of 1
    assert gaps["gap_spacings"].tolist() == [5.0]


def test_gap_around_spot_is_infinite_when_one_side_has_no_strike() -> None:
    # Arrange
    chain = _grid([490.0, 495.0, 500.0], spot=505.0)

    # Act / Assert
    assert gap_around_spot(chain)["gap_spacings"].tolist() == [float("inf")]
