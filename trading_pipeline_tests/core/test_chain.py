"""Option-chain schema validation and enrichment (mid, DTE, time to expiry, IV and greeks)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.calendar import SECONDS_PER_YEAR, years_to_expiry
from trading_pipeline.core.chain import (
    ENRICHED_COLUMNS,
    QUOTE_COLUMNS,
    ChainSchemaError,
    enrich_chain,
    validate_chain_schema,
)
from trading_pipeline.core.pricing import bsm_price
from trading_pipeline_tests.core.chain_builders import DIV, NOW, RATE, SPOT, VOL, quote_chain

GREEKS = ["delta", "gamma", "vega", "theta"]


def small_chain() -> pd.DataFrame:
    return quote_chain(dtes=(42,), strikes=(480, 500, 520))


def exact_bsm_quotes(now: datetime, dtes: tuple[int, ...] = (42,)) -> pd.DataFrame:
    """Near-the-money quotes whose mid is exactly the BSM price at VOL (bid/ask +-2% around it)."""
    chain = quote_chain(now, dtes=dtes, strikes=range(450, 555, 5))
    t = chain["expiration"].map(lambda expiration: years_to_expiry(now, expiration.date()))
    price = bsm_price(SPOT, chain["strike"], t, RATE, DIV, VOL, chain["right"] == "C")
    return chain.assign(bid=price * 0.98, ask=price * 1.02)


def test_well_formed_chain_passes_validation() -> None:
    validate_chain_schema(small_chain())


def test_missing_columns_are_named() -> None:
    # Arrange
    chain = small_chain().drop(columns=["bid", "quote_time"])

    # Act / Assert
    with pytest.raises(ChainSchemaError, match=re.escape("missing columns ['bid', 'quote_time']")):
        validate_chain_schema(chain)


def test_non_numeric_strike_is_named_with_value_and_symbol() -> None:
    # Arrange
    chain = small_chain().astype({"strike": object})
    chain.at[2, "strike"] = "five hundred"
    symbol = chain.at[2, "occ_symbol"]

    # Act / Assert
    expected = f"field 'strike' has non-numeric value 'five hundred' for {symbol!r}"
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        validate_chain_schema(chain)


@pytest.mark.parametrize(("value", "shown"), [(np.nan, "nan"), (np.inf, "inf")], ids=["nan", "inf"])
def test_missing_or_infinite_price_is_rejected_as_non_numeric(value: float, shown: str) -> None:
    # Arrange
    chain = small_chain()
    chain.at[1, "ask"] = value

    # Act / Assert
    with pytest.raises(ChainSchemaError, match=f"field 'ask' has non-numeric value {shown} for 'SPY "):
        validate_chain_schema(chain)


def test_negative_bid_is_named_with_value_and_symbol() -> None:
    # Arrange
    chain = small_chain()
    chain.at[3, "bid"] = -0.05
    symbol = chain.at[3, "occ_symbol"]

    # Act / Assert
    expected = f"field 'bid' has negative value -0.05 for {symbol!r}"
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        validate_chain_schema(chain)


@pytest.mark.parametrize(("column", "value"), [("expiration", "2025-13-01"), ("quote_time", "yesterday")])
def test_malformed_date_is_named_with_value_and_symbol(column: str, value: str) -> None:
    # Arrange
    chain = small_chain().astype({column: object})
    chain.at[2, column] = value
    symbol = chain.at[2, "occ_symbol"]

    # Act / Assert
    expected = f"field {column!r} has non-date value {value!r} for {symbol!r}"
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        validate_chain_schema(chain)


def test_bad_right_is_named_with_value() -> None:
    # Arrange
    chain = small_chain()
    chain.at[0, "right"] = "X"

    # Act / Assert
    with pytest.raises(ChainSchemaError, match=re.escape("field 'right' has value 'X'; expected C or P")):
        validate_chain_schema(chain)


def test_enrich_adds_every_enriched_column_and_keeps_quotes_unchanged() -> None:
    # Arrange
    quotes = small_chain()
    before = quotes.copy()

    # Act
    chain = enrich_chain(quotes, NOW, RATE, {"SPY": DIV})

    # Assert
    assert list(chain.columns) == [*QUOTE_COLUMNS, *ENRICHED_COLUMNS]
    pd.testing.assert_frame_equal(quotes, before)
    assert chain["mid"].tolist() == pytest.approx(((quotes["bid"] + quotes["ask"]) / 2).tolist())


def test_enrich_recovers_the_pricing_volatility_from_bsm_mids() -> None:
    # Arrange
    quotes = exact_bsm_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, RATE, {"SPY": DIV})

    # Assert
    assert chain["iv"].notna().all()
    assert np.abs(chain["iv"] - VOL).max() < 1e-6


def test_enrich_with_wrong_dividend_yield_does_not_recover_the_volatility() -> None:
    # Arrange: the quotes were priced with DIV; solving with no dividend must give other vols.
    quotes = exact_bsm_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, RATE, {})

    # Assert
    assert np.abs(chain["iv"] - VOL).max() > 1e-3


def test_enrich_greeks_are_those_of_an_option_at_the_solved_volatility() -> None:
    # Arrange
    quotes = exact_bsm_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, RATE, {"SPY": DIV})

    # Assert
    calls, puts = chain[chain["right"] == "C"], chain[chain["right"] == "P"]
    assert ((calls["delta"] > 0) & (calls["delta"] < 1)).all()
    assert ((puts["delta"] < 0) & (puts["delta"] > -1)).all()
    assert (chain["gamma"] > 0).all()
    assert (chain["vega"] > 0).all()
    # Put-call parity of deltas at the same strike: call delta - put delta = exp(-q t).
    atm = chain[chain["strike"] == 500.0].set_index("right")
    parity = float(atm.at["C", "delta"] - atm.at["P", "delta"])
    assert parity == pytest.approx(np.exp(-DIV * atm.at["C", "t_years"]), abs=1e-9)


def test_enrich_time_to_expiry_spans_the_dst_change_exactly() -> None:
    # Arrange: Friday 2025-03-07 10:00 EST; expiry Friday 2025-03-21 16:00 EDT (clocks moved on 03-09).
    now = datetime(2025, 3, 7, 15, 0, tzinfo=UTC)
    quotes = quote_chain(now, dtes=(14,), strikes=(500,))

    # Act
    chain = enrich_chain(quotes, now, RATE, {"SPY": DIV})

    # Assert: 14 days and 5 hours (16:00 EDT is 20:00 UTC), not 14 days and 6 hours.
    assert (chain["expiration"] == pd.Timestamp("2025-03-21")).all()
    assert (chain["dte"] == 14).all()
    expected_seconds = 14 * 86_400 + 5 * 3_600
    assert chain["t_years"].tolist() == pytest.approx([expected_seconds / SECONDS_PER_YEAR] * 2, abs=1e-12)


def test_enrich_counts_dte_from_the_new_york_date_not_the_utc_date() -> None:
    # Arrange: 2025-03-08 02:00 UTC is still Friday 2025-03-07 (21:00 EST) in New York.
    now = datetime(2025, 3, 8, 2, 0, tzinfo=UTC)
    quotes = quote_chain(datetime(2025, 3, 7, 15, 0, tzinfo=UTC), dtes=(14,), strikes=(500,))

    # Act
    chain = enrich_chain(quotes, now, RATE, {"SPY": DIV})

    # Assert
    assert (chain["dte"] == 14).all()
    expected_seconds = 13 * 86_400 + 18 * 3_600
    assert chain["t_years"].tolist() == pytest.approx([expected_seconds / SECONDS_PER_YEAR] * 2, abs=1e-12)


def test_enrich_leaves_iv_and_greeks_nan_where_iv_is_unsolvable() -> None:
    # Arrange: a deep in-the-money put quoted below intrinsic value has no implied volatility.
    quotes = exact_bsm_quotes(NOW)
    bad = (quotes["right"] == "P") & (quotes["strike"] == 550.0)
    quotes.loc[bad, ["bid", "ask"]] = [40.0, 40.5]

    # Act
    chain = enrich_chain(quotes, NOW, RATE, {"SPY": DIV})

    # Assert
    assert chain.loc[bad, ["iv", *GREEKS]].isna().all(axis=None)
    assert chain.loc[~bad, ["iv", *GREEKS]].notna().all(axis=None)


def test_enrich_leaves_iv_nan_for_an_expired_contract() -> None:
    # Arrange: quotes listed yesterday for today's 16:00 expiry, enriched after the expiry.
    quotes = quote_chain(dtes=(0,), strikes=(500,))
    after_expiry = datetime(2025, 3, 14, 21, 0, tzinfo=UTC)

    # Act
    chain = enrich_chain(quotes, after_expiry, RATE, {"SPY": DIV})

    # Assert
    assert (chain["t_years"] < 0).all()
    assert chain[["iv", *GREEKS]].isna().all(axis=None)


def test_enrich_time_to_expiry_ends_at_the_early_close_of_a_half_day() -> None:
    # Arrange: Friday 2025-11-21 10:00 EST; expiry 2025-11-28, the day after Thanksgiving (13:00 close).
    now = datetime(2025, 11, 21, 15, 0, tzinfo=UTC)
    quotes = quote_chain(now, dtes=(7,), strikes=(500,))

    # Act
    chain = enrich_chain(quotes, now, RATE, {"SPY": DIV})

    # Assert: 7 days and 3 hours (13:00 EST is 18:00 UTC).
    expected_seconds = 7 * 86_400 + 3 * 3_600
    assert chain["t_years"].tolist() == pytest.approx([expected_seconds / SECONDS_PER_YEAR] * 2, abs=1e-12)
