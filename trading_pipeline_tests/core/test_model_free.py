"""Model-free 30-day variance: Cboe's published worked example, real SPX chains against the VIX, unit rules.

Worked-example sources (the Cboe PDFs themselves were not reachable from the test environment; the figures
below were transcribed from public reproductions of them and agree with each other):
- Cboe, "White Paper: Cboe Volatility Index" (2019 edition, cdn.cboe.com/resources/vix/vixwhite.pdf):
  9:46 a.m. example, T1 = 35,924 and T2 = 46,394 minutes, R1 = 0.0305%, R2 = 0.0286%, VIX 13.69; as
  transcribed in github.com/aclime/vix_approx_research white_paper_replicate/VIX_WP_REP.ipynb.
- Cboe Global Indices, "Cboe Volatility Index Methodology" (Appendices 3-5): the same option table
  re-dated, T1 = 34,484 and T2 = 44,954 minutes, R1 = 0.031664%, R2 = 0.028797%, strip sums printed to
  10 dp, VIX 13.93; the per-strike Q(K) and delta K of Appendix 5 as transcribed in a public C++ test.
The table below is the published strip (strike, type, Q(K)) plus the raw quotes the documents print
(Appendix 3: the forward table around 1960 and both wings' cut-off rows).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.carry_files import FileCarry
from trading_pipeline.adapters.market_data.chain_files import load_chain_file
from trading_pipeline.core.calendar import years_to_expiry
from trading_pipeline.core.instruments import format_occ_symbol
from trading_pipeline.core.model_free import (
    MINUTES_PER_YEAR,
    NoBracketingExpirationsError,
    expiration_variance,
    interpolated_variance,
    model_free_vol_30d,
    parity_forward_at_closest_strike,
    strike_intervals,
    walk_wing,
)
from trading_pipeline.core.pricing import bsm_price
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

# --- Cboe's worked example ----------------------------------------------------------------------------

#: Published strip, "strike type Q(K)": P a put, C a call, A the K0 put/call average (built from raw legs).
NEAR_STRIP = """
1370 P .2 1375 P .125 1380 P .15 1385 P .225 1390 P .225 1395 P .125 1400 P .125 1410 P .225
1420 P .225 1425 P .175 1430 P .225 1435 P .275 1440 P .175 1445 P .225 1450 P .2 1455 P .25
1460 P .25 1465 P .25 1470 P .25 1475 P .2 1480 P .25 1485 P .35 1490 P .175 1495 P .275
1500 P .325 1505 P .325 1510 P .3 1515 P .3 1520 P .35 1525 P .35 1530 P .325 1535 P .375
1540 P .375 1545 P .375 1550 P .5 1555 P .425 1560 P .425 1565 P .425 1570 P .475 1575 P .55
1580 P .525 1585 P .525 1590 P .525 1595 P .525 1600 P .675 1605 P .575 1610 P .625 1615 P .625
1620 P .625 1625 P .675 1630 P .675 1635 P .725 1640 P .725 1645 P .775 1650 P .675 1655 P .825
1660 P .825 1665 P .875 1670 P .875 1675 P .925 1680 P .975 1685 P 1.025 1690 P 1.025 1695 P 1.075
1700 P 1.125 1705 P 1.125 1710 P 1.175 1715 P 1.225 1720 P 1.275 1725 P 1.325 1730 P 1.375
1735 P 1.425 1740 P 1.475 1745 P 1.55 1750 P 1.6 1755 P 1.675 1760 P 1.75 1765 P 1.825 1770 P 1.9
1775 P 2 1780 P 2.075 1785 P 2.175 1790 P 2.25 1795 P 2.375 1800 P 2.525 1805 P 2.625 1810 P 2.775
1815 P 2.95 1820 P 3.075 1825 P 3.3 1830 P 3.45 1835 P 3.65 1840 P 3.9 1845 P 4.1 1850 P 4.35
1855 P 4.65 1860 P 4.95 1865 P 5.25 1870 P 5.6 1875 P 6 1880 P 6.4 1885 P 6.85 1890 P 7.35
1895 P 7.9 1900 P 8.3 1905 P 9 1910 P 9.65 1915 P 10.6 1920 P 11.4 1925 P 12.1 1930 P 13.25
1935 P 14.15 1940 P 15.25 1945 P 16.55 1950 P 18.25 1955 P 19.75 1960 A 22.775 1965 C 21.05
1970 C 18.1 1975 C 15.25 1980 C 12.75 1985 C 10.45 1990 C 8.45 1995 C 6.65 2000 C 4.95 2005 C 3.8
2010 C 2.875 2015 C 2.025 2020 C 1.45 2025 C 1.125 2030 C .725 2035 C .525 2040 C .5 2045 C .4
2050 C .25 2055 C .325 2060 C .225 2065 C .175 2070 C .15 2075 C .15 2080 C .25 2085 C .225
2090 C .1 2095 C .2 2100 C .1 2125 C .1
"""
NEXT_STRIP = """
1275 P .075 1325 P .15 1350 P .15 1375 P .175 1400 P .2 1425 P .25 1450 P .3 1475 P .35 1500 P .4
1510 P .425 1520 P .45 1525 P .475 1530 P .5 1540 P .525 1550 P .55 1555 P .575 1560 P .6
1565 P .625 1570 P .65 1575 P .675 1580 P .675 1585 P .7 1590 P .725 1595 P .75 1600 P .775
1605 P .8 1610 P .825 1615 P .85 1620 P .875 1625 P .9 1630 P .95 1635 P .975 1640 P 1 1645 P 1.025
1650 P 1.075 1655 P 1.1 1660 P 1.15 1665 P 1.2 1670 P 1.225 1675 P 1.275 1680 P 1.325 1685 P 1.375
1690 P 1.425 1695 P 1.475 1700 P 1.525 1705 P 1.6 1710 P 1.675 1715 P 1.725 1720 P 1.8 1725 P 1.85
1730 P 1.925 1735 P 2 1740 P 2.1 1745 P 2.175 1750 P 2.275 1755 P 2.375 1760 P 2.475 1765 P 2.575
1770 P 2.725 1775 P 2.825 1780 P 3 1785 P 3.1 1790 P 3.25 1795 P 3.45 1800 P 3.6 1805 P 3.8
1810 P 3.95 1815 P 4.2 1820 P 4.4 1825 P 4.65 1830 P 4.9 1835 P 5.15 1840 P 5.45 1845 P 5.75
1850 P 6.05 1855 P 6.45 1860 P 6.75 1865 P 7.15 1870 P 7.65 1875 P 8.15 1880 P 8.6 1885 P 9.2
1890 P 9.75 1895 P 10.4 1900 P 11.1 1905 P 11.8 1910 P 12.6 1915 P 13.45 1920 P 14.4 1925 P 15.4
1930 P 16.4 1935 P 17.6 1940 P 18.8 1945 P 20.2 1950 P 21.6 1955 P 23.2 1960 A 26.1 1965 C 24.15
1970 C 21.1 1975 C 18.3 1980 C 15.7 1985 C 13.3 1990 C 11.1 1995 C 9.15 2000 C 7.4 2005 C 5.85
2010 C 4.65 2015 C 3.55 2020 C 2.7 2025 C 2.05 2030 C 1.55 2035 C 1.15 2040 C .875 2045 C .675
2050 C .575 2060 C .35 2070 C .25 2075 C .2 2100 C .15 2125 C .1 2150 C .1 2200 C .075
"""
#: Raw quotes the documents print, "strike right bid ask". Near term: the cut-off rows of both wings (1350
#: and 1355 puts and the 2225 call have bids yet lie beyond two zero bids), the interior zero-bid puts 1405
#: and 1415 and call 2120, and both legs from 1940 to 1980, where the forward is read.
NEAR_RAW = """
1345 P 0 .15 1350 P .05 .15 1355 P .05 .35 1360 P 0 .35 1365 P 0 .35 1370 P .05 .35 1375 P .1 .15
1380 P .1 .2 1405 P 0 .35 1415 P 0 .4 1940 C 37.4 39.5 1940 P 14.7 15.8 1945 C 33.7 35.7 1945 P 15.9 17.2
1950 C 30.1 32.1 1950 P 17.7 18.8 1955 C 26.7 28.5 1955 P 19 20.5 1960 C 23.4 25.1 1960 P 20.6 22
1965 C 20.3 21.8 1965 P 22.3 24 1970 C 17.4 18.8 1970 P 24.3 25.8 1975 C 14.6 15.9 1975 P 26.5 28.1
1980 C 12.2 13.3 1980 P 28.9 30.6 2095 C .05 .35 2100 C .05 .15 2120 C 0 .15 2125 C .05 .15
2150 C 0 .1 2175 C 0 .05 2200 C 0 .05 2225 C .05 .1 2250 C 0 .05
"""
#: Next term: the K0 legs (27.30 call, 24.90 put mids, printed as mids) and the zero-bid puts 1225, 1250
#: (the cut-off pair) and 1300 (skipped); their asks are not printed, 0.05 stands in (a zero bid excludes
#: the quote whatever its ask).
NEXT_RAW = "1960 C 27.3 27.3 1960 P 24.9 24.9 1225 P 0 .05 1250 P 0 .05 1300 P 0 .05"


def _rows(text: str, width: int) -> list[list[str]]:
    tokens = text.split()
    return [tokens[i : i + width] for i in range(0, len(tokens), width)]


def _example_quotes(strip: str, raw: str) -> pd.DataFrame:
    """The example's board: printed raw quotes, and each other strip member quoted at its published Q(K)."""
    quotes = {(float(k), right): (float(bid), float(ask)) for k, right, bid, ask in _rows(raw, 4)}
    for k, kind, q in _rows(strip, 3):
        if kind != "A":
            quotes.setdefault((float(k), kind), (float(q), float(q)))
    return pd.DataFrame(
        [(k, right, bid, ask) for (k, right), (bid, ask) in quotes.items()],
        columns=["strike", "right", "bid", "ask"],
    )


def _published_strip(strip: str) -> pd.DataFrame:
    rows = [(float(k), "P/C" if kind == "A" else kind, float(q)) for k, kind, q in _rows(strip, 3)]
    return pd.DataFrame(rows, columns=["strike", "type", "mid"])


WHITE_PAPER = {  # 2019 white paper: T from minutes, rates, and its printed figures
    "minutes": (35_924, 46_394),
    "rates": (0.000305, 0.000286),
    "sum_term": (0.018495, 0.018838),
    "correction": (0.00003203, 0.00001699),
    "sigma2": (0.01846292, 0.01882101),
    "vol": 0.13685821,
    "vix": 13.69,
}
METHODOLOGY = {  # the current VIX methodology document: same table, re-timed
    "minutes": (34_484, 44_954),
    "rates": (0.00031664, 0.00028797),
    "sum_term": (0.019267, 0.019441),
    "correction": (0.00003337, 0.00001753),
    "sigma2": (0.019233906, 0.019423884),
    "vol": None,
    "vix": 13.93,
}
#: Appendix 5 prints the two strip sums (sum of dK/K^2 e^{RT} Q) to 10 decimal places.
METHODOLOGY_STRIP_SUMS = (0.0006320516, 0.0008314016)


def _example_terms(document: dict) -> tuple:
    boards = (_example_quotes(NEAR_STRIP, NEAR_RAW), _example_quotes(NEXT_STRIP, NEXT_RAW))
    return tuple(
        expiration_variance(board, minutes / MINUTES_PER_YEAR, rate)
        for board, minutes, rate in zip(boards, document["minutes"], document["rates"], strict=True)
    )


def test_worked_example_forward_k0_and_k0_price_match_the_white_paper() -> None:
    # Act
    near, next_ = _example_terms(WHITE_PAPER)

    # Assert: F1 = 1965 + e^{RT}(21.05 - 23.15) = 1962.89996, F2 = 1960 + e^{RT}(27.30 - 24.90) = 1962.40006
    assert near.forward == pytest.approx(1962.89996, abs=5e-6)
    assert next_.forward == pytest.approx(1962.40006, abs=5e-6)
    assert (near.k0, next_.k0) == (1960.0, 1960.0)
    assert near.strip.set_index("strike").at[1960.0, "mid"] == pytest.approx(22.775)  # (24.25 + 21.30)/2
    assert next_.strip.set_index("strike").at[1960.0, "mid"] == pytest.approx(26.10)  # (27.30 + 24.90)/2


@pytest.mark.parametrize(("which", "strip"), [(0, NEAR_STRIP), (1, NEXT_STRIP)])
def test_worked_example_selects_exactly_the_published_strip_with_its_mids_and_delta_k(
    which: int, strip: str
) -> None:
    # Act
    got = _example_terms(WHITE_PAPER)[which].strip

    # Assert: same strikes (1350/1355 puts and the 2225 call left out despite bids), types and Q(K)
    published = _published_strip(strip)
    assert got["strike"].tolist() == published["strike"].tolist()
    assert got["type"].tolist() == published["type"].tolist()
    np.testing.assert_allclose(got["mid"], published["mid"], atol=1e-12)


def test_worked_example_delta_k_spans_the_strikes_kept_not_the_strikes_listed() -> None:
    # Act
    near, next_ = (term.strip.set_index("strike")["delta_k"] for term in _example_terms(WHITE_PAPER))

    # Assert: white paper: next-term 1325 put dK = (1350 - 1275)/2 = 37.5; near 1370 put (lowest) dK = 5
    assert next_[1325.0] == 37.5
    assert near[1370.0] == 5.0
    assert (near[1400.0], near[1410.0], near[2100.0], near[2125.0]) == (7.5, 10.0, 15.0, 25.0)
    assert (next_[1275.0], next_[2200.0]) == (50.0, 50.0)


def test_worked_example_single_contribution_matches_the_white_paper() -> None:
    # Act
    near = _example_terms(WHITE_PAPER)[0].strip.set_index("strike")

    # Assert: 5/1370^2 e^{0.000305 x 0.0683486} x 0.20 = 0.0000005328
    assert near.at[1370.0, "contribution"] == pytest.approx(0.0000005328, abs=5e-11)


@pytest.mark.parametrize("document", [WHITE_PAPER, METHODOLOGY], ids=["white_paper", "methodology"])
def test_worked_example_reproduces_the_published_variances(document: dict) -> None:
    # Act
    terms = _example_terms(document)

    # Assert: each figure to the precision it is printed with
    for term, sum_term, correction, sigma2 in zip(
        terms, document["sum_term"], document["correction"], document["sigma2"], strict=True
    ):
        assert 2 / term.t_years * term.contribution_sum == pytest.approx(sum_term, abs=5e-7)
        assert (term.forward / term.k0 - 1) ** 2 / term.t_years == pytest.approx(correction, abs=5e-9)
        # the printed sigma^2 carries more digits than the printed terms it is the difference of
        assert term.sigma2 == pytest.approx(sigma2, abs=1e-8)


def test_worked_example_strip_sums_match_the_methodology_appendix() -> None:
    # Act
    sums = tuple(term.contribution_sum for term in _example_terms(METHODOLOGY))

    # Assert
    assert sums == pytest.approx(METHODOLOGY_STRIP_SUMS, abs=1e-10)


@pytest.mark.parametrize("document", [WHITE_PAPER, METHODOLOGY], ids=["white_paper", "methodology"])
def test_worked_example_interpolates_to_the_published_vix(document: dict) -> None:
    # Arrange
    near, next_ = _example_terms(document)

    # Act
    vol = np.sqrt(interpolated_variance(near.t_years, near.sigma2, next_.t_years, next_.sigma2))

    # Assert
    assert round(100 * vol, 2) == document["vix"]
    if document["vol"] is not None:
        assert vol == pytest.approx(document["vol"], abs=1e-7)


# --- Real SPX chains against the VIX ----------------------------------------------------------------

#: Cboe VIX daily closes, cboe/VIX_close.csv (SOURCES.md: FMarkiv/SPXVIX): 2023-06-09 close 13.83 (the
#: chain was taken intraday at 13:40 ET, so the close is the nearest published value); 2023-09-14 close
#: 12.82 (the chain was taken at 16:31 ET, after the 16:15 VIX close). The end-of-day SPY chain of
#: 2015-01-05 (American options, mids used as they are) is held to that day's close, 19.92, as well.
MAX_VOL_POINTS_FROM_VIX = 1.5


def _vix_close(day: date) -> float:
    frame = pd.read_csv(MARKET_DATA / "cboe" / "VIX_close.csv", encoding="utf-8-sig")
    closes = pd.Series(
        frame["Close"].to_numpy(), index=pd.to_datetime(frame["Date"], format="%m/%d/%Y").dt.date
    )
    return float(closes[day])


@needs_market_data
@pytest.mark.parametrize(
    ("file_name", "day", "vix_close"),
    [
        ("SPX_2023-06-09_cboe.csv", date(2023, 6, 9), 13.83),
        ("SPX_2023-09-14_cboe.csv", date(2023, 9, 14), 12.82),
        ("SPY_2015-01-05.csv", date(2015, 1, 5), 19.92),
    ],
)
def test_model_free_vol_of_a_real_chain_is_within_one_and_a_half_points_of_the_vix_close(
    file_name: str, day: date, vix_close: float
) -> None:
    # Arrange
    recorded = load_chain_file(MARKET_DATA / "chains" / file_name)
    rate = FileCarry(MARKET_DATA).rate(recorded.quote_time)

    # Act
    result = model_free_vol_30d(recorded.quotes, recorded.quote_time, rate)

    # Assert
    assert _vix_close(day) == vix_close
    assert abs(100 * result.vol - vix_close) <= MAX_VOL_POINTS_FROM_VIX, result
    assert result.t1 * 365 <= 30 < result.t2 * 365
    assert min(result.strikes_1, result.strikes_2) > 40


# --- Unit rules -------------------------------------------------------------------------------------

NOW = datetime(2024, 3, 1, 15, 0, tzinfo=UTC)  # a Friday, 10:00 ET


def _bsm_chain(
    expirations: list[date], vol: float = 0.2, rate: float = 0.03, div: float = 0.01, root: str = "SPY"
) -> pd.DataFrame:
    """A chain of European prices at one flat vol on a dense strike grid, quoted 1% either side of fair."""
    spot, strikes = 100.0, np.arange(30.0, 300.0, 0.5)
    frames = []
    for expiration in expirations:
        t = years_to_expiry(NOW, expiration, root)
        for right in ("C", "P"):
            price = bsm_price(spot, strikes, t, rate, div, vol, right == "C")
            frames.append(
                pd.DataFrame(
                    {
                        "occ_symbol": [format_occ_symbol(root, expiration, right, k) for k in strikes],
                        "expiration": pd.Timestamp(expiration),
                        "strike": strikes,
                        "right": right,
                        "bid": price * 0.99,
                        "ask": price * 1.01,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def test_flat_vol_chain_gives_back_its_vol() -> None:
    # Arrange
    chain = _bsm_chain([date(2024, 3, 28), date(2024, 4, 5)])

    # Act
    result = model_free_vol_30d(chain, NOW, 0.03)

    # Assert
    assert result.vol == pytest.approx(0.2, abs=0.001)
    assert (result.near_expiration, result.next_expiration) == (date(2024, 3, 28), date(2024, 4, 5))
    assert result.f1 == pytest.approx(100 * np.exp(0.02 * result.t1), abs=1e-6)


def test_rates_may_be_given_per_expiration_and_a_missing_one_is_named() -> None:
    # Arrange
    near, later = date(2024, 3, 28), date(2024, 4, 5)
    chain = _bsm_chain([near, later])

    # Act
    result = model_free_vol_30d(chain, NOW, {near: 0.03, later: 0.03})

    # Assert
    assert result.vol == pytest.approx(0.2, abs=0.001)
    with pytest.raises(KeyError, match="2024-04-05"):
        model_free_vol_30d(chain, NOW, {near: 0.03})


def test_chain_without_expirations_bracketing_30_days_raises_naming_what_is_listed() -> None:
    # Arrange
    chain = _bsm_chain([date(2024, 3, 8), date(2024, 3, 15)])

    # Act / Assert
    with pytest.raises(
        NoBracketingExpirationsError, match=r"2024-03-08 SPY \(7\.\d\d days\).*2024-03-15 SPY"
    ):
        model_free_vol_30d(chain, NOW, 0.03)


def test_near_term_of_a_week_or_less_is_not_used() -> None:
    # Arrange: 2024-03-08 is 7.25 days away, less than the 7-day minimum plus a day's margin here
    chain = _bsm_chain([date(2024, 3, 8), date(2024, 4, 5)])

    # Act / Assert
    with pytest.raises(NoBracketingExpirationsError):
        model_free_vol_30d(chain, NOW, 0.03, min_near_days=8)
    assert model_free_vol_30d(chain, NOW, 0.03).near_expiration == date(2024, 3, 8)


def test_on_a_date_listed_as_spx_and_spxw_the_am_settled_spx_is_used_to_its_0930_settlement() -> None:
    # Arrange: 2024-05-17 is the third Friday; SPX settles at its 09:30 ET open, SPXW at 16:00
    chain = pd.concat(
        [_bsm_chain([date(2024, 5, 17)], root=root) for root in ("SPX", "SPXW")]
        + [_bsm_chain([date(2024, 5, 24)], root="SPXW")],
        ignore_index=True,
    )
    now = datetime(2024, 4, 23, 14, 0, tzinfo=UTC)  # Tuesday 10:00 ET (EDT throughout)

    # Act
    result = model_free_vol_30d(chain, now, 0.03)

    # Assert
    assert (result.near_root, result.next_root) == ("SPX", "SPXW")
    assert result.t1 * MINUTES_PER_YEAR == pytest.approx(24 * 1440 - 30)  # 10:00 ET to 09:30 ET 24 days on


def test_zero_bids_are_skipped_and_two_in_a_row_end_the_wing() -> None:
    # Arrange: walking down from K0; 90 has no bid, 80 and 75 have none either; 70 is bid but beyond
    bids = pd.Series({95.0: 0.5, 90.0: 0.0, 85.0: 0.3, 80.0: 0.0, 75.0: 0.0, 70.0: 0.2})

    # Act
    kept = walk_wing(bids, [95.0, 90.0, 85.0, 80.0, 75.0, 70.0])

    # Assert
    assert kept == [95.0, 85.0]


def test_a_listed_strike_without_a_quote_counts_as_a_zero_bid() -> None:
    bids = pd.Series({105.0: 0.4, 115.0: 0.1})
    assert walk_wing(bids, [105.0, 110.0, 115.0, 120.0, 125.0]) == [105.0, 115.0]


def test_delta_k_is_half_the_neighbour_gap_inside_and_one_sided_at_the_ends() -> None:
    np.testing.assert_array_equal(
        strike_intervals(np.array([70.0, 85.0, 95.0, 100.0])), [15.0, 12.5, 7.5, 5.0]
    )


def _parity_quotes(forward: float, t: float, rate: float, strikes: list[float]) -> pd.DataFrame:
    """Quotes whose call and put mids satisfy C - P = e^{-RT}(F - K) exactly, with time value on both."""
    rows = []
    for k in strikes:
        put = 1.0 + max(k - forward, 0.0) * np.exp(-rate * t)
        call = put + np.exp(-rate * t) * (forward - k)
        rows += [(k, "C", call - 0.05, call + 0.05), (k, "P", put - 0.05, put + 0.05)]
    return pd.DataFrame(rows, columns=["strike", "right", "bid", "ask"])


def test_forward_comes_from_the_strike_with_the_closest_call_and_put_and_k0_is_the_strike_below() -> None:
    # Arrange
    quotes = _parity_quotes(101.3, 0.1, 0.05, [90.0, 95.0, 100.0, 105.0, 110.0])

    # Act
    term = expiration_variance(quotes, 0.1, 0.05)

    # Assert
    assert term.forward == pytest.approx(101.3, abs=1e-9)
    assert term.k0 == 100.0
    assert term.strip.set_index("strike")["type"].to_dict() == {
        90.0: "P",
        95.0: "P",
        100.0: "P/C",
        105.0: "C",
        110.0: "C",
    }


def test_k0_is_the_forward_itself_when_the_forward_sits_on_a_strike() -> None:
    quotes = _parity_quotes(100.0, 0.1, 0.05, [90.0, 95.0, 100.0, 105.0, 110.0])
    assert expiration_variance(quotes, 0.1, 0.05).k0 == 100.0


def test_forward_ignores_strikes_where_a_leg_has_no_bid() -> None:
    # Arrange: at 150 both mids are 0.025 (no bids), which a plain |C - P| would pick
    quotes = pd.concat(
        [
            _parity_quotes(101.3, 0.1, 0.05, [95.0, 100.0, 105.0]),
            pd.DataFrame(
                [(150.0, "C", 0.0, 0.05), (150.0, "P", 0.0, 0.05)], columns=["strike", "right", "bid", "ask"]
            ),
        ]
    )
    calls = quotes[quotes["right"] == "C"].set_index("strike").assign(mid=lambda q: (q["bid"] + q["ask"]) / 2)
    puts = quotes[quotes["right"] == "P"].set_index("strike").assign(mid=lambda q: (q["bid"] + q["ask"]) / 2)

    # Act / Assert
    assert parity_forward_at_closest_strike(calls, puts, 0.1, 0.05) == pytest.approx(101.3, abs=1e-9)


def test_with_no_expiration_inside_30_days_the_two_after_it_extrapolate_as_before_weeklies() -> None:
    # Arrange: monthlies only, 35 and 63 days out, both at a flat 20% vol
    chain = _bsm_chain([date(2024, 4, 5), date(2024, 5, 3)])

    # Act
    result = model_free_vol_30d(chain, NOW, 0.03)

    # Assert: a flat term structure extrapolates to the same vol at 30 days
    assert (result.near_expiration, result.next_expiration) == (date(2024, 4, 5), date(2024, 5, 3))
    assert result.vol == pytest.approx(0.2, abs=0.002)
