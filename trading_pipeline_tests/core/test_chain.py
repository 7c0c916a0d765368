"""Option-chain schema validation and enrichment (mid, DTE, time to expiry, IV and greeks)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.american import american_price
from trading_pipeline.core.calendar import SECONDS_PER_YEAR, years_to_expiry
from trading_pipeline.core.carry import PARITY_SOURCE, Carry
from trading_pipeline.core.chain import (
    ENRICHED_COLUMNS,
    MAX_LISTED,
    QUOTE_COLUMNS,
    ChainSchemaError,
    enrich_chain,
    normalize_chain,
)
from trading_pipeline.core.pricing import bsm_greeks, bsm_price, implied_vol
from trading_pipeline_tests.core.chain_builders import CARRY, DIV, NOW, RATE, SPOT, VOL, quote_chain

GREEKS = ["delta", "gamma", "vega", "theta"]
NUMERIC_FIELDS = [
    "strike",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "volume",
    "open_interest",
    "underlying_price",
]


def small_chain() -> pd.DataFrame:
    return quote_chain(dtes=(42,), strikes=(480, 500, 520))


#: XSP (Mini-SPX) options are European, so BSM prices them exactly; SPY's are American.
EUROPEAN_CARRY = {"XSP": Carry(RATE, DIV, "test")}


def exact_bsm_quotes(now: datetime, dtes: tuple[int, ...] = (42,)) -> pd.DataFrame:
    """Near-the-money XSP quotes whose mid is exactly the BSM price at VOL (bid/ask +-2% around it)."""
    chain = quote_chain(now, dtes=dtes, strikes=range(450, 555, 5), underlying="XSP")
    t = chain["expiration"].map(lambda expiration: years_to_expiry(now, expiration.date(), "XSP"))
    price = bsm_price(SPOT, chain["strike"], t, RATE, DIV, VOL, chain["right"] == "C")
    return chain.assign(bid=price * 0.98, ask=price * 1.02)


def exact_american_quotes(now: datetime) -> pd.DataFrame:
    """SPY quotes whose mid is exactly the American price at VOL, deep in-the-money puts included."""
    chain = quote_chain(now, dtes=(42,), strikes=range(450, 555, 5))
    t = chain["expiration"].map(lambda expiration: years_to_expiry(now, expiration.date()))
    price = american_price(SPOT, chain["strike"], t, RATE, DIV, VOL, chain["right"] == "C")
    return chain.assign(bid=price * 0.98, ask=price * 1.02)


def test_well_formed_chain_normalizes_to_the_same_chain_with_float_numbers() -> None:
    # Arrange
    chain = small_chain()

    # Act
    normalized = normalize_chain(chain)

    # Assert
    pd.testing.assert_frame_equal(normalized, chain.astype(dict.fromkeys(NUMERIC_FIELDS, float)))


def test_numeric_text_is_converted_to_floats() -> None:
    # Arrange
    chain = small_chain().astype({"strike": object, "bid": object, "volume": object})
    chain["strike"] = ["480", " 480 ", "500.0", "500", "520.5", " 520 "]
    chain.at[0, "bid"] = "1.25"
    chain.at[1, "volume"] = "12"

    # Act
    normalized = normalize_chain(chain)

    # Assert
    assert normalized["strike"].tolist() == [480.0, 480.0, 500.0, 500.0, 520.5, 520.0]
    assert (normalized.at[0, "bid"], normalized.at[1, "volume"]) == (1.25, 12.0)
    assert all(normalized[field].dtype == np.float64 for field in NUMERIC_FIELDS)


def test_text_dates_are_parsed_and_quote_times_made_utc() -> None:
    # Arrange
    chain = small_chain()
    expected = normalize_chain(chain)
    chain["expiration"] = chain["expiration"].dt.strftime("%Y-%m-%d")
    chain["quote_time"] = chain["quote_time"].dt.tz_convert("America/New_York").map(pd.Timestamp.isoformat)

    # Act
    normalized = normalize_chain(chain)

    # Assert
    assert (normalized["expiration"] == expected["expiration"]).all()
    assert (normalized["quote_time"] == expected["quote_time"]).all()
    assert str(normalized["quote_time"].dt.tz) == "UTC"


def test_quote_times_in_mixed_zones_are_made_the_same_utc_instants() -> None:
    # Arrange: one instant written in three zones, as aware timestamps and as ISO text with an offset.
    chain = small_chain().astype({"quote_time": object})
    instant = chain.at[0, "quote_time"]
    chain["quote_time"] = [
        instant.tz_convert("America/New_York"),
        instant.tz_convert("Asia/Tokyo"),
        instant.tz_convert("America/New_York").isoformat(),
        instant.tz_convert("Europe/London").isoformat(),
        instant,
        instant.isoformat(),
    ]

    # Act
    normalized = normalize_chain(chain)

    # Assert
    assert (normalized["quote_time"] == instant).all()
    assert str(normalized["quote_time"].dt.tz) == "UTC"


@pytest.mark.parametrize(
    "naive",
    [
        "2025-03-14 10:30:00",
        "2025-03-14T10:30",
        pd.Timestamp("2025-03-14 10:30"),
        datetime(2025, 3, 14, 10, 30),
    ],
    ids=["text", "iso-text", "timestamp", "datetime"],
)
def test_naive_quote_time_is_refused_naming_the_contract_and_the_value(naive: object) -> None:
    # Arrange: a stamp without a zone was silently read as UTC (10:30 ET would have become 06:30 ET).
    chain = small_chain().astype({"quote_time": object})
    chain.at[3, "quote_time"] = naive
    symbol = chain.at[3, "occ_symbol"]

    # Act / Assert
    expected = (
        f"field 'quote_time' has 1 bad value (showing 1 of 1): {naive!r} for {symbol!r}; "
        "expected a timestamp with a time zone"
    )
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        normalize_chain(chain)


def test_a_naive_quote_time_column_is_refused_naming_every_contract_and_the_total() -> None:
    # Arrange
    chain = small_chain()
    chain["quote_time"] = chain["quote_time"].dt.tz_localize(None)

    # Act
    with pytest.raises(ChainSchemaError) as raised:
        normalize_chain(chain)

    # Assert
    message = str(raised.value)
    assert f"field 'quote_time' has {len(chain)} bad values (showing {len(chain)} of {len(chain)})" in message
    assert all(symbol in message for symbol in chain["occ_symbol"])
    assert message.endswith("expected a timestamp with a time zone")


def test_normalize_leaves_its_input_unchanged() -> None:
    # Arrange
    chain = small_chain().astype({"strike": object})
    chain.at[0, "strike"] = "480"
    before = chain.copy()

    # Act
    normalize_chain(chain)

    # Assert
    pd.testing.assert_frame_equal(chain, before)


def test_chain_with_text_strikes_enriches_like_the_numeric_chain() -> None:
    # Arrange: text strikes used to pass validation and then break arithmetic downstream.
    numeric = small_chain()
    text = numeric.astype({"strike": str, "bid": str, "ask": str})

    # Act
    enriched = enrich_chain(normalize_chain(text), NOW, CARRY)

    # Assert
    expected = enrich_chain(normalize_chain(numeric), NOW, CARRY)
    pd.testing.assert_frame_equal(enriched, expected)


def test_empty_chain_normalizes_and_enriches_to_an_empty_table_with_every_column() -> None:
    # Arrange
    empty = small_chain().iloc[0:0]

    # Act
    chain = enrich_chain(normalize_chain(empty), NOW, CARRY)

    # Assert
    assert chain.empty
    assert list(chain.columns) == [*QUOTE_COLUMNS, *ENRICHED_COLUMNS]


def test_missing_columns_are_named() -> None:
    # Arrange
    chain = small_chain().drop(columns=["bid", "quote_time"])

    # Act / Assert
    with pytest.raises(ChainSchemaError, match=re.escape("missing columns ['bid', 'quote_time']")):
        normalize_chain(chain)


def test_every_bad_strike_is_named_with_its_contract_and_the_total() -> None:
    # Arrange
    chain = small_chain().astype({"strike": object})
    chain.loc[[1, 3, 4], "strike"] = ["abc", -5.0, np.nan]
    symbols = chain["occ_symbol"]

    # Act / Assert
    expected = (
        f"option chain field 'strike' has 3 bad values (showing 3 of 3): 'abc' for {symbols[1]!r}, "
        f"-5.0 for {symbols[3]!r}, nan for {symbols[4]!r}; expected a finite number >= 0"
    )
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        normalize_chain(chain)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("five hundred", "'five hundred'"),
        ("", "''"),
        (None, "None"),
        (np.nan, "nan"),
        (np.inf, "inf"),
        (-0.05, "-0.05"),
    ],
    ids=["text", "blank", "none", "nan", "inf", "negative"],
)
def test_non_numeric_missing_infinite_or_negative_price_is_named_with_value_and_symbol(
    value: object, shown: str
) -> None:
    # Arrange
    chain = small_chain().astype({"ask": object})
    chain.at[2, "ask"] = value
    symbol = chain.at[2, "occ_symbol"]

    # Act / Assert
    expected = f"field 'ask' has 1 bad value (showing 1 of 1): {shown} for {symbol!r}"
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        normalize_chain(chain)


def test_more_bad_values_than_the_cap_shows_the_first_ten_and_the_total() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), strikes=range(480, 520, 5))
    chain["bid"] = -1.0
    symbols = chain["occ_symbol"].tolist()

    # Act
    with pytest.raises(ChainSchemaError) as raised:
        normalize_chain(chain)

    # Assert
    message = str(raised.value)
    assert f"field 'bid' has {len(chain)} bad values (showing {MAX_LISTED} of {len(chain)})" in message
    assert all(symbol in message for symbol in symbols[:MAX_LISTED])
    assert not any(symbol in message for symbol in symbols[MAX_LISTED:])


def test_bad_values_in_several_fields_are_all_named() -> None:
    # Arrange
    chain = small_chain().astype({"volume": object})
    chain.at[0, "volume"] = "many"
    chain.at[5, "right"] = "X"

    # Act / Assert
    with pytest.raises(
        ChainSchemaError, match=r"field 'volume' has 1 bad value .*; .*field 'right' has 1 bad"
    ):
        normalize_chain(chain)


@pytest.mark.parametrize(("column", "value"), [("expiration", "2025-13-01"), ("quote_time", "yesterday")])
def test_malformed_date_is_named_with_value_and_symbol(column: str, value: str) -> None:
    # Arrange
    chain = small_chain().astype({column: object})
    chain.at[2, column] = value
    symbol = chain.at[2, "occ_symbol"]

    # Act / Assert
    expected = f"field {column!r} has 1 bad value (showing 1 of 1): {value!r} for {symbol!r}; expected a date"
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        normalize_chain(chain)


def test_bad_right_is_named_with_value_and_symbol() -> None:
    # Arrange
    chain = small_chain()
    chain.at[0, "right"] = "X"
    symbol = chain.at[0, "occ_symbol"]

    # Act / Assert
    expected = f"field 'right' has 1 bad value (showing 1 of 1): 'X' for {symbol!r}; expected C or P"
    with pytest.raises(ChainSchemaError, match=re.escape(expected)):
        normalize_chain(chain)


def test_enrich_adds_every_enriched_column_and_keeps_quotes_unchanged() -> None:
    # Arrange
    quotes = small_chain()
    before = quotes.copy()

    # Act
    chain = enrich_chain(quotes, NOW, CARRY)

    # Assert
    assert list(chain.columns) == [*QUOTE_COLUMNS, *ENRICHED_COLUMNS]
    pd.testing.assert_frame_equal(quotes, before)
    assert chain["mid"].tolist() == pytest.approx(((quotes["bid"] + quotes["ask"]) / 2).tolist())


def test_enrich_recovers_the_pricing_volatility_from_bsm_mids() -> None:
    # Arrange
    quotes = exact_bsm_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, EUROPEAN_CARRY)

    # Assert
    assert chain["iv"].notna().all()
    assert np.abs(chain["iv"] - VOL).max() < 1e-6


def test_enrich_prefers_the_parity_forward_over_a_wrong_provider_dividend_yield() -> None:
    # Arrange: the quotes were priced with DIV; the provider claims no dividend at all.
    quotes = exact_bsm_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, {"XSP": Carry(RATE, 0.0, "provider")})

    # Assert: put-call parity near the money gives back DIV, so the vols come back too
    assert (chain["carry_source"] == PARITY_SOURCE).all()
    assert np.abs(chain["div_yield"] - DIV).max() < 1e-6
    assert np.abs(chain["iv"] - VOL).max() < 1e-6


def test_enrich_without_two_sided_pairs_uses_the_provider_carry_and_a_wrong_yield_shows() -> None:
    # Arrange: only calls are quoted, so no parity forward exists; the provider's yield is wrong.
    quotes = exact_bsm_quotes(NOW)
    calls = quotes[quotes["right"] == "C"].reset_index(drop=True)

    # Act
    chain = enrich_chain(calls, NOW, {"XSP": Carry(RATE, 0.0, "provider")})

    # Assert
    assert (chain["carry_source"] == "provider").all()
    assert np.abs(chain["iv"] - VOL).max() > 1e-3


def test_enrich_refuses_an_underlying_without_carry_naming_it() -> None:
    # Arrange
    quotes = exact_bsm_quotes(NOW)

    # Act / Assert
    with pytest.raises(KeyError, match="XSP"):
        enrich_chain(quotes, NOW, {"QQQ": Carry(RATE, DIV, "provider")})


def test_enrich_greeks_are_those_of_an_option_at_the_solved_volatility() -> None:
    # Arrange
    quotes = exact_bsm_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, EUROPEAN_CARRY)

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
    chain = enrich_chain(quotes, now, CARRY)

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
    chain = enrich_chain(quotes, now, CARRY)

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
    chain = enrich_chain(quotes, NOW, EUROPEAN_CARRY)

    # Assert
    assert chain.loc[bad, ["iv", *GREEKS]].isna().all(axis=None)
    assert chain.loc[~bad, ["iv", *GREEKS]].notna().all(axis=None)


def test_enrich_gives_an_expired_contract_no_iv_and_its_payoff_greeks() -> None:
    # Arrange: quotes listed yesterday for today's 16:00 expiry (strikes around the 500 spot), enriched
    # after the expiry.
    quotes = quote_chain(dtes=(0,), strikes=(490, 510))
    after_expiry = datetime(2025, 3, 14, 21, 0, tzinfo=UTC)

    # Act
    chain = enrich_chain(quotes, after_expiry, CARRY)

    # Assert: in the money a call's delta is 1 and a put's -1; out of the money 0; nothing else moves.
    assert (chain["t_years"] < 0).all()
    assert chain["iv"].isna().all()
    assert (chain["iv_reason"] == "expired").all()
    delta = chain.set_index(["strike", "right"])["delta"]
    assert delta.to_dict() == {(490.0, "P"): 0.0, (490.0, "C"): 1.0, (510.0, "P"): -1.0, (510.0, "C"): 0.0}
    assert (chain[["gamma", "vega", "theta"]] == 0.0).all(axis=None)


def test_enrich_values_etf_options_as_american() -> None:
    # Arrange: SPY quotes at American prices (deep in-the-money puts are worth more than European ones).
    quotes = exact_american_quotes(NOW)

    # Act
    chain = enrich_chain(quotes, NOW, CARRY)

    # Assert: the vol comes back everywhere, and a deep in-the-money put's delta is the American one,
    # not the European delta at the (higher) European vol of its price.
    assert (chain["iv_reason"] == "").all()
    assert np.abs(chain["iv"] - VOL).max() < 1e-5
    deep_put = chain[(chain["right"] == "P") & (chain["strike"] == 550.0)].iloc[0]
    european = chain_as_european(deep_put)
    assert deep_put["delta"] < european - 0.02


def chain_as_european(row: pd.Series) -> float:
    """The European delta at the European vol of the row's mid."""
    iv = implied_vol(row["mid"], SPOT, row["strike"], row["t_years"], RATE, row["div_yield"], False)
    return float(bsm_greeks(SPOT, row["strike"], row["t_years"], RATE, row["div_yield"], iv, False).delta)


def test_enrich_time_to_expiry_ends_at_the_early_close_of_a_half_day() -> None:
    # Arrange: Friday 2025-11-21 10:00 EST; expiry 2025-11-28, the day after Thanksgiving (13:00 close).
    now = datetime(2025, 11, 21, 15, 0, tzinfo=UTC)
    quotes = quote_chain(now, dtes=(7,), strikes=(500,))

    # Act
    chain = enrich_chain(quotes, now, CARRY)

    # Assert: 7 days and 3 hours (13:00 EST is 18:00 UTC).
    expected_seconds = 7 * 86_400 + 3 * 3_600
    assert chain["t_years"].tolist() == pytest.approx([expected_seconds / SECONDS_PER_YEAR] * 2, abs=1e-12)
