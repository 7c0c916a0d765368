"""Recorded vendor chains: every layout in ../shared/data/market/chains loads into the project's chain, and
bad files are refused naming file, line, field and value (small synthetic files)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.chain_files import (
    ChainFileError,
    RecordedChain,
    load_chain_file,
    recorded_chain_index,
)
from trading_pipeline.adapters.market_data.chain_files.chain_table import last_trading_day
from trading_pipeline.core.chain import QUOTE_COLUMNS, normalize_chain
from trading_pipeline.core.instruments import canonical_occ_symbol
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

CHAINS = MARKET_DATA / "chains"
SPX_JUNE, SPX_SEPTEMBER = "SPX_2023-06-09_cboe.csv", "SPX_2023-09-14_cboe.csv"
SPY_2015, IWM_2019, VIX_2016 = (
    "SPY_2015-01-05.csv",
    "IWM_2019-10-15_ivolatility.csv",
    ("VIX_2016-06-01_cboedatashop.csv"),
)
ALL_FILES = (SPX_JUNE, SPX_SEPTEMBER, SPY_2015, IWM_2019, VIX_2016)
EXTRA_COLUMNS = ["root", "vendor_iv", "vendor_delta", "vendor_gamma", "settlement", "vendor_forward"]
FLOAT_COLUMNS = [
    "strike",
    "bid",
    "ask",
    "bid_size",
    "ask_size",
    "volume",
    "open_interest",
    "underlying_price",
    "vendor_iv",
    "vendor_delta",
    "vendor_gamma",
    "vendor_forward",
]
MAX_LOAD_SECONDS = 1.0

CBOE_HEADER = (
    "Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,"
    "Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest"
)
CBOE_ROWS = (
    "Fri Jun 09 2023,SPXW230609C04300000,5.2,1,5.1,5.3,900,0.1806,0.4856,0.0123,50,4300.00,"
    "SPXW230609P04300000,5.5,-1,5.4,5.6,800,0.179,-0.5144,0.0123,40",
    "Fri Jun 09 2023,SPXW230609C04305000,3.1,1,3,3.2,700,0.178,0.37,0.011,20,4305.00,"
    "SPXW230609P04305000,8.4,-1,8.3,8.5,600,0.177,-0.63,0.011,10",
)
IWM_HEADER = (
    "date,symbol,exchange,company_name,stock_price_close,option_symbol,option_expiration,strike,call_put,"
    "style,open,high,low,close,bid,ask,mean_price,settlement,volume,open_interest,stock_price_for_iv"
)


def _iwm_row(bid: str = "1.200", expiration: str = "10/18/2019", strike: str = "150.000") -> str:
    symbol = f"IWM   191018C{int(float(strike) * 1000):08d}"
    return (
        f"10/15/2019,IWM,NYSEArca,iShares Russell 2000 ETF,151.390,{symbol},{expiration},{strike},C,A,"
        f"0,0,0,0,{bid},1.300,1.250,0.000,5,100,151.650"
    )


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _cboe_export(tmp_path: Path, stamp: str = "Date: 9 June 2023, 1:40 PM EDT", rows=CBOE_ROWS) -> Path:
    preamble = ["", "Standard & Poors 500 Index,Last: 4300.0098,Change:  6.0798", f"{stamp},Bid: 4299.34"]
    return _write(tmp_path, "SPX_cboe.csv", [*preamble, CBOE_HEADER, *rows])


# --- the real vendor files -----------------------------------------------------------------------------


@needs_market_data
@pytest.mark.parametrize(
    ("file_name", "layout", "underlying", "quote_time", "rows"),
    [
        (SPX_JUNE, "cboe_delayed_quotes", "SPX", "2023-06-09T17:40", 2 * 8894 - 10),
        (SPX_SEPTEMBER, "cboe_delayed_quotes", "SPX", "2023-09-14T20:31", 2 * 9960 - 296 - 1 - 228),
        (SPY_2015, "legacy_eod", "SPY", "2015-01-05T21:00", 4922 - 1258 - 180 - 32),
        (IWM_2019, "ivolatility_eod", "IWM", "2019-10-15T20:00", 2976),
        (VIX_2016, "cboe_datashop_eod", "VIX", "2016-06-01T19:45", 724 - 76),
    ],
)
def test_load_chain_file_when_vendor_file_detects_layout_underlying_aware_quote_time_and_keeps_rows(
    file_name: str, layout: str, underlying: str, quote_time: str, rows: int
) -> None:
    # Act
    recorded = load_chain_file(CHAINS / file_name)

    # Assert
    assert (recorded.layout, recorded.underlying) == (layout, underlying)
    assert recorded.quote_time == datetime.fromisoformat(quote_time).replace(tzinfo=UTC)
    assert len(recorded.quotes) == rows
    assert (recorded.quotes["quote_time"] == pd.Timestamp(recorded.quote_time)).all()
    assert (recorded.quotes["underlying"] == underlying).all()


@needs_market_data
@pytest.mark.parametrize("file_name", ALL_FILES)
def test_load_chain_file_when_vendor_file_gives_canonical_symbols_floats_dates_and_a_fresh_index(
    file_name: str,
) -> None:
    # Act
    quotes = load_chain_file(CHAINS / file_name).quotes

    # Assert
    assert list(quotes.columns) == [*QUOTE_COLUMNS, *EXTRA_COLUMNS]
    assert (quotes["occ_symbol"].map(canonical_occ_symbol) == quotes["occ_symbol"]).all()
    assert quotes["occ_symbol"].str.len().eq(21).all() and quotes["occ_symbol"].is_unique
    assert all(pd.api.types.is_float_dtype(quotes[column]) for column in FLOAT_COLUMNS)
    assert pd.api.types.is_datetime64_dtype(quotes["expiration"])
    assert isinstance(quotes["quote_time"].dtype, pd.DatetimeTZDtype)
    assert quotes.index.equals(pd.RangeIndex(len(quotes)))
    assert not (quotes["bid"] > quotes["ask"]).any()


@needs_market_data
@pytest.mark.parametrize("file_name", [SPX_JUNE, SPX_SEPTEMBER, IWM_2019, VIX_2016])
def test_load_chain_file_when_vendor_gives_an_underlying_price_passes_the_core_chain_schema(
    file_name: str,
) -> None:
    # Act
    normalized = normalize_chain(load_chain_file(CHAINS / file_name).quotes)

    # Assert
    assert normalized["underlying_price"].gt(0).all()


@needs_market_data
@pytest.mark.parametrize(("file_name", "pairs"), [(SPX_JUNE, 1396), (SPX_SEPTEMBER, 1727)])
def test_cboe_export_when_third_friday_lists_spx_and_spxw_keeps_both_keyed_by_root(
    file_name: str, pairs: int
) -> None:
    # Act
    quotes = load_chain_file(CHAINS / file_name).quotes

    # Assert: SOURCES.md's (expiry, strike) pairs listed under both roots, AM for SPX and PM for SPXW
    roots = quotes.groupby(["expiration", "strike"])["root"].nunique()
    assert (roots == 2).sum() == pairs
    assert set(map(tuple, quotes[["root", "settlement"]].drop_duplicates().to_numpy())) == {
        ("SPX", "AM"),
        ("SPXW", "PM"),
    }


@needs_market_data
def test_cboe_export_when_june_0dte_is_quoted_live_keeps_the_4300_call_and_put() -> None:
    # Act
    recorded = load_chain_file(CHAINS / SPX_JUNE)

    # Assert: SOURCES.md: 4300 call 5.10/5.30 and put 5.40/5.60, IV about 18%, delta 0.486
    rows = recorded.quotes.set_index("occ_symbol")
    call, put = rows.loc["SPXW  230609C04300000"], rows.loc["SPXW  230609P04300000"]
    assert (call["bid"], call["ask"], put["bid"], put["ask"]) == (5.10, 5.30, 5.40, 5.60)
    assert call["vendor_iv"] == pytest.approx(0.18, abs=0.005)
    assert call["vendor_delta"] == pytest.approx(0.486, abs=0.001)
    assert recorded.spot == pytest.approx(4300.0098)
    assert recorded.flagged["expired"] == 0


@needs_market_data
def test_cboe_export_when_quoted_after_the_close_drops_the_expired_0dte_and_the_crossed_row() -> None:
    # Act
    recorded = load_chain_file(CHAINS / SPX_SEPTEMBER)

    # Assert: 148 lines (call and put) of the 2023-09-14 expiry; SPX251219C04200000 bid 0.10 ask 0
    quotes = recorded.quotes
    assert recorded.flagged["expired"] == 2 * 148
    assert not (quotes["expiration"] == pd.Timestamp("2023-09-14")).any()
    assert recorded.flagged["crossed"] == 1
    assert "SPX   251219C04200000" not in set(quotes["occ_symbol"])
    assert (quotes["expiration"] == pd.Timestamp("2023-09-15")).sum() > 0  # AM-settled SPX not yet settled
    assert recorded.spot == pytest.approx(4505.1001)  # `Last`, the 16:00 close; no forward is invented
    assert quotes["vendor_forward"].isna().all()


@needs_market_data
def test_cboe_export_when_contract_has_no_usable_quote_gets_nan_vendor_iv_and_greeks_counted() -> None:
    # Act
    recorded = load_chain_file(CHAINS / SPX_JUNE)

    # Assert: IV/Delta/Gamma 0 mean "none"; zero bids are real quotes, kept and counted
    quotes = recorded.quotes
    assert not (quotes["vendor_iv"] == 0).any()
    assert recorded.flagged["missing_vendor_iv"] == quotes["vendor_iv"].isna().sum() > 0
    assert quotes.loc[quotes["vendor_iv"].isna(), ["vendor_delta", "vendor_gamma"]].isna().all().all()
    assert recorded.flagged["zero_bid"] == (quotes["bid"] == 0).sum() > 0


@needs_market_data
def test_spy_2015_when_monthlies_carry_the_saturday_date_keys_them_by_the_friday_last_trading_day() -> None:
    # Act
    recorded = load_chain_file(CHAINS / SPY_2015)

    # Assert
    quotes = recorded.quotes
    assert not (quotes["expiration"].dt.day_of_week == 5).any()
    assert "SPY   150116C00205000" in set(quotes["occ_symbol"])
    assert "SPY   150117C00205000" not in set(quotes["occ_symbol"])
    assert recorded.flagged["saturday_expiration"] == (
        quotes["expiration"].isin([pd.Timestamp("2015-01-16"), pd.Timestamp("2015-12-18")]).sum()
    )


@needs_market_data
def test_spy_2015_when_rows_are_adjusted_expired_or_placeholder_drops_or_blanks_them() -> None:
    # Act
    recorded = load_chain_file(CHAINS / SPY_2015)

    # Assert: 1258 SPY7-style rows, the 2015-01-02 expiry before the quote date, the 0.113826 placeholder
    quotes = recorded.quotes
    assert recorded.flagged["nonstandard"] == 1258
    assert set(quotes["root"]) == {"SPY"}
    assert recorded.flagged["expired"] == 180
    assert quotes["expiration"].min() == pd.Timestamp("2015-01-09")
    assert not np.isclose(quotes["vendor_iv"], 0.113826).any()
    assert recorded.flagged["missing_vendor_iv"] == quotes["vendor_iv"].isna().sum() > 0
    assert recorded.spot is None and quotes["underlying_price"].isna().all()


@needs_market_data
def test_iwm_ivolatility_when_loaded_uses_the_price_the_quotes_fit_and_has_no_vendor_iv() -> None:
    # Act
    recorded = load_chain_file(CHAINS / IWM_2019)

    # Assert
    quotes = recorded.quotes
    assert recorded.spot == 151.65 and (quotes["underlying_price"] == 151.65).all()
    assert recorded.flagged["missing_vendor_iv"] == len(quotes) == 2976
    assert recorded.flagged["zero_bid"] == 270
    assert quotes["occ_symbol"].iloc[0] == "IWM   191018C00100000"


@needs_market_data
def test_vix_datashop_when_loaded_keeps_per_expiry_forwards_and_drops_the_settled_same_day_expiry() -> None:
    # Act
    recorded = load_chain_file(CHAINS / VIX_2016)

    # Assert
    quotes = recorded.quotes
    forwards = quotes.groupby("expiration")["vendor_forward"].first()
    assert forwards[pd.Timestamp("2016-06-08")] == 14.5743
    assert forwards[pd.Timestamp("2016-11-16")] == 19.7079
    assert recorded.flagged["expired"] == 76
    assert recorded.spot == 14.24
    assert set(quotes["settlement"]) == {"AM"}


@needs_market_data
@pytest.mark.parametrize("file_name", ALL_FILES)
def test_load_chain_file_when_timed_takes_well_under_a_second(file_name: str) -> None:
    # Arrange: warm the calendar and imports once
    load_chain_file(CHAINS / VIX_2016)

    # Act
    started = time.perf_counter()
    load_chain_file(CHAINS / file_name)
    elapsed = time.perf_counter() - started

    # Assert
    assert elapsed < MAX_LOAD_SECONDS


@needs_market_data
def test_recorded_chain_index_when_folder_holds_the_vendor_files_lists_underlying_and_session() -> None:
    # Act
    index = recorded_chain_index(CHAINS)

    # Assert
    assert list(index.columns) == ["underlying", "session", "path"]
    assert sorted(zip(index["underlying"], index["session"], strict=True)) == [
        ("IWM", date(2019, 10, 15)),
        ("SPX", date(2023, 6, 9)),
        ("SPX", date(2023, 9, 14)),
        ("SPY", date(2015, 1, 5)),
        ("VIX", date(2016, 6, 1)),
    ]


# --- synthetic files: every refusal names file, line, field and value ----------------------------------


def test_cboe_export_when_symbols_are_compact_gives_padded_symbols_and_one_row_per_contract(
    tmp_path: Path,
) -> None:
    # Act: each line holds a call and a put; the halves are stacked without repeating index labels
    quotes = load_chain_file(_cboe_export(tmp_path)).quotes

    # Assert
    assert list(quotes["occ_symbol"]) == [
        "SPXW  230609C04300000",
        "SPXW  230609P04300000",
        "SPXW  230609C04305000",
        "SPXW  230609P04305000",
    ]
    assert quotes.index.equals(pd.RangeIndex(4))


@pytest.mark.parametrize("stamp", ["Date: 9 June 2023, 1:40 PM EDT", '"Date: June 9, 2023 at 1:40 PM EDT"'])
def test_cboe_export_when_timestamp_line_is_in_either_format_reads_the_same_aware_time(
    tmp_path: Path, stamp: str
) -> None:
    # Act
    recorded = load_chain_file(_cboe_export(tmp_path, stamp))

    # Assert
    assert recorded.quote_time == datetime(2023, 6, 9, 17, 40, tzinfo=UTC)


def test_cboe_export_when_timestamp_has_no_zone_is_refused_naming_the_line(tmp_path: Path) -> None:
    # Arrange
    path = _cboe_export(tmp_path, "Date: 9 June 2023, 1:40 PM")

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"SPX_cboe.csv line 3: field 'Date' has '9 June 2023, 1:40 PM'"):
        load_chain_file(path)


def test_load_chain_file_when_a_number_is_text_is_refused_naming_file_line_field_and_value(
    tmp_path: Path,
) -> None:
    # Arrange: the letter O in place of a zero on the third data line
    path = _write(tmp_path, "IWM.csv", [IWM_HEADER, _iwm_row(), _iwm_row(strike="151.000"), _iwm_row("1.2O")])

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"IWM.csv line 4: field 'bid' has '1.2O'; expected a number"):
        load_chain_file(path)


def test_load_chain_file_when_a_date_is_impossible_is_refused_naming_file_line_field_and_value(
    tmp_path: Path,
) -> None:
    # Arrange
    path = _write(tmp_path, "IWM.csv", [IWM_HEADER, _iwm_row(expiration="13/45/2019")])

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"line 2: field 'option_expiration' has '13/45/2019'"):
        load_chain_file(path)


def test_load_chain_file_when_symbol_disagrees_with_its_row_is_refused(tmp_path: Path) -> None:
    # Arrange: the strike column says 149, the symbol 150
    row = _iwm_row().replace(",150.000,", ",149.000,")
    path = _write(tmp_path, "IWM.csv", [IWM_HEADER, row])

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"line 2: field 'option_symbol' has 'IWM   191018C00150000'"):
        load_chain_file(path)


def test_load_chain_file_when_a_contract_repeats_is_refused_naming_the_second_line(tmp_path: Path) -> None:
    # Arrange
    path = _write(tmp_path, "IWM.csv", [IWM_HEADER, _iwm_row(), _iwm_row(strike="151.000"), _iwm_row()])

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"line 4: field 'occ_symbol' has 'IWM   191018C00150000'"):
        load_chain_file(path)


def test_load_chain_file_when_layout_is_unknown_is_refused_naming_the_file_and_its_header(
    tmp_path: Path,
) -> None:
    # Arrange
    path = _write(tmp_path, "other.csv", ["Symbol,Bid,Ask", "SPY150117C00205000,1,2"])

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"other.csv line 1: field 'header' has 'Symbol,Bid,Ask'"):
        load_chain_file(path)


def test_recorded_chain_when_quote_times_are_naive_is_refused(tmp_path: Path) -> None:
    # Arrange: a loaded chain whose quote times lost their zone
    recorded = load_chain_file(_cboe_export(tmp_path))
    naive = recorded.quotes.assign(quote_time=recorded.quotes["quote_time"].dt.tz_localize(None))

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"field 'quote_time' has .*naive quote times are refused"):
        RecordedChain(**{**vars(recorded), "quotes": naive})


def test_recorded_chain_when_frame_repeats_index_labels_resets_them(tmp_path: Path) -> None:
    # Arrange: two halves concatenated keep their own labels 0, 1 and 0, 1
    quotes = load_chain_file(_cboe_export(tmp_path)).quotes
    repeated = pd.concat([quotes.iloc[:2], quotes.iloc[2:].reset_index(drop=True)])
    recorded = load_chain_file(_cboe_export(tmp_path))

    # Act
    rebuilt = RecordedChain(**{**vars(recorded), "quotes": repeated})

    # Assert
    assert rebuilt.quotes.index.equals(pd.RangeIndex(4))


def test_recorded_chain_when_a_number_is_text_is_refused(tmp_path: Path) -> None:
    # Arrange
    recorded = load_chain_file(_cboe_export(tmp_path))
    texts = recorded.quotes.assign(bid=recorded.quotes["bid"].astype(str))

    # Act / Assert
    with pytest.raises(ChainFileError, match=r"row 1: field 'bid' has '5.1'; expected a float column"):
        RecordedChain(**{**vars(recorded), "quotes": texts})


@pytest.mark.parametrize(
    ("vendor_date", "last_trading"),
    [
        (date(2015, 1, 17), date(2015, 1, 16)),  # Saturday-dated monthly
        (date(2014, 4, 19), date(2014, 4, 17)),  # its Friday was Good Friday: the Thursday before
        (date(2015, 2, 20), date(2015, 2, 20)),  # Friday-dated from February 2015 on
    ],
)
def test_last_trading_day_when_vendor_dates_a_monthly_on_saturday_gives_the_session_before(
    vendor_date: date, last_trading: date
) -> None:
    assert last_trading_day(vendor_date) == last_trading
