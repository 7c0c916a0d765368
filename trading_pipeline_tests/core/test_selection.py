"""Expiration and strike selection: DTE window, closest-to-target, tie-breaking, eligibility, the delta
tolerance and the liquidity floor."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pandas as pd
import pytest

from trading_pipeline.core.instruments import Right, format_occ_symbol
from trading_pipeline.core.selection import LiquidityFloor, SelectionError, choose_expiration, strike_by_delta
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

TODAY = date(2025, 3, 14)
EXPIRY = TODAY + timedelta(days=42)
OTHER_EXPIRY = TODAY + timedelta(days=49)
SPOT = 500.0
#: Every quoted contract passes: the tests of DTE, delta and tie rules are not about liquidity.
ANY_LIQUIDITY = LiquidityFloor(min_open_interest=0, max_spread_pct=100.0)
FLOOR = LiquidityFloor(min_open_interest=100, max_spread_pct=10.0)
#: Wide enough that the tests of the closest-delta rule never meet the tolerance.
WIDE = 0.2


def quote(right: str, strike: float, expiration: date = EXPIRY, **columns: float) -> dict[str, object]:
    """One liquid contract row (bid 1.00, ask 1.04, open interest 1000, solved IV); override any column."""
    row: dict[str, object] = {
        "occ_symbol": format_occ_symbol("SPY", expiration, Right(right), strike),
        "expiration": pd.Timestamp(expiration),
        "dte": (expiration - TODAY).days,
        "right": right,
        "strike": strike,
        "underlying_price": SPOT,
        "delta": 0.5 if right == "C" else -0.5,
        "iv": 0.2,
        "bid": 1.0,
        "ask": 1.04,
        "open_interest": 1000.0,
        **columns,
    }
    row["mid"] = (float(row["bid"]) + float(row["ask"])) / 2  # type: ignore[arg-type]
    return row


def expirations_chain(dtes: list[int], **columns: float) -> pd.DataFrame:
    """An at-the-money put and call per expiration, in shuffled order."""
    return pd.DataFrame(
        [
            quote(right, SPOT, TODAY + timedelta(days=dte), **columns)
            for dte in reversed(dtes)
            for right in ("P", "C")
        ]
    )


def contracts(*rows: tuple[str, float, float], expiration: date = EXPIRY) -> pd.DataFrame:
    """Rows of (right, strike, delta), liquid, with a bid and a solved IV; adjust columns per test."""
    return pd.DataFrame([quote(right, strike, expiration, delta=delta) for right, strike, delta in rows])


def pick(
    chain: pd.DataFrame, right: Right, tolerance: float = WIDE, floor: LiquidityFloor = ANY_LIQUIDITY
) -> float:
    """The strike strike_by_delta chooses for a 16-delta target in EXPIRY."""
    return float(strike_by_delta(chain, EXPIRY, right, 0.16, tolerance, floor)["strike"])


def test_choose_expiration_picks_dte_closest_to_target_inside_window() -> None:
    # Arrange
    chain = expirations_chain([30, 42, 49, 60])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45, liquidity=ANY_LIQUIDITY)

    # Assert
    assert chosen == TODAY + timedelta(days=42)


def test_choose_expiration_breaks_ties_toward_the_earlier_expiration() -> None:
    # Arrange
    chain = expirations_chain([47, 43])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45, liquidity=ANY_LIQUIDITY)

    # Assert
    assert chosen == TODAY + timedelta(days=43)


def test_choose_expiration_window_bounds_are_inclusive() -> None:
    # Arrange
    chain = expirations_chain([39, 40, 51])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=50, liquidity=ANY_LIQUIDITY)

    # Assert
    assert chosen == TODAY + timedelta(days=40)


def test_choose_expiration_outside_window_never_wins_even_if_closer_to_target() -> None:
    # Arrange
    chain = expirations_chain([39, 50])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=40, liquidity=ANY_LIQUIDITY)

    # Assert
    assert chosen == TODAY + timedelta(days=50)


def test_choose_expiration_without_one_in_window_raises_listing_dtes_in_order() -> None:
    # Arrange
    chain = expirations_chain([60, 30, 7])

    # Act / Assert
    message = "no expiration with DTE in [40, 50]; listed DTEs: [7, 30, 60]"
    with pytest.raises(SelectionError, match=re.escape(message)):
        choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45, liquidity=ANY_LIQUIDITY)


def test_strike_by_delta_picks_put_with_abs_delta_closest_to_target() -> None:
    # Arrange
    chain = contracts(("P", 460.0, -0.10), ("P", 470.0, -0.15), ("P", 480.0, -0.22), ("C", 540.0, 0.16))

    # Act
    strike = pick(chain, Right.PUT)

    # Assert
    assert strike == 470.0


def test_strike_by_delta_picks_call_with_delta_closest_to_target() -> None:
    # Arrange
    chain = contracts(("C", 530.0, 0.25), ("C", 540.0, 0.17), ("C", 550.0, 0.09), ("P", 470.0, -0.16))

    # Act
    strike = pick(chain, Right.CALL)

    # Assert
    assert strike == 540.0


def test_strike_by_delta_breaks_put_ties_toward_the_lower_strike() -> None:
    # Arrange: |delta| 0.14 and 0.18 are equally far from 0.16 (up to float noise).
    chain = contracts(("P", 475.0, -0.18), ("P", 470.0, -0.14))

    # Act
    strike = pick(chain, Right.PUT)

    # Assert
    assert strike == 470.0


def test_strike_by_delta_breaks_call_ties_toward_the_higher_strike() -> None:
    # Arrange
    chain = contracts(("C", 530.0, 0.14), ("C", 525.0, 0.18))

    # Act
    strike = pick(chain, Right.CALL)

    # Assert
    assert strike == 530.0


@pytest.mark.parametrize(
    ("column", "value"),
    [("bid", 0.0), ("delta", math.nan), ("iv", math.nan)],
    ids=["no-bid", "no-delta", "no-iv"],
)
def test_strike_by_delta_skips_contracts_without_bid_delta_or_iv(column: str, value: float) -> None:
    # Arrange: the 470 put is the best match but is not eligible.
    chain = contracts(("P", 470.0, -0.16), ("P", 465.0, -0.13))
    chain.loc[chain["strike"] == 470.0, column] = value

    # Act
    strike = pick(chain, Right.PUT)

    # Assert
    assert strike == 465.0


def test_strike_by_delta_ignores_other_expirations() -> None:
    # Arrange
    chain = pd.concat(
        [contracts(("P", 470.0, -0.16), expiration=OTHER_EXPIRY), contracts(("P", 460.0, -0.11))],
        ignore_index=True,
    )

    # Act
    strike = pick(chain, Right.PUT)

    # Assert
    assert strike == 460.0


def test_strike_by_delta_without_eligible_contracts_raises_naming_right_and_expiration() -> None:
    # Arrange: only calls, and a put without a bid.
    chain = contracts(("C", 540.0, 0.16), ("P", 470.0, -0.16))
    chain.loc[chain["right"] == "P", "bid"] = 0.0

    # Act / Assert
    with pytest.raises(SelectionError, match="no quoted puts with a bid for 2025-04-25"):
        pick(chain, Right.PUT)


def test_strike_by_delta_when_the_closest_delta_is_outside_the_tolerance_raises_naming_it() -> None:
    # Arrange: the nearest call to 16 delta is a 21-delta call.
    chain = contracts(("C", 520.0, 0.30), ("C", 530.0, 0.21), ("P", 470.0, -0.16))
    symbol = format_occ_symbol("SPY", EXPIRY, Right.CALL, 530.0).strip()

    # Act / Assert
    expected = (
        "no liquid call for 2025-04-25 within 0.03 of target delta 0.16: the closest is "
        f"{symbol} (strike 530) at delta 0.210, tolerance 0.03"
    )
    with pytest.raises(SelectionError, match=re.escape(expected)):
        pick(chain, Right.CALL, tolerance=0.03)


def test_strike_by_delta_when_the_delta_error_equals_the_tolerance_accepts_the_strike() -> None:
    # Arrange: |0.19 - 0.16| is 0.030000000000000027 in floats; the tolerance is 0.03.
    chain = contracts(("C", 525.0, 0.19), ("C", 515.0, 0.26))

    # Act
    strike = pick(chain, Right.CALL, tolerance=0.03)

    # Assert
    assert strike == 525.0


@pytest.mark.parametrize(
    ("column", "value"),
    [("open_interest", 99.0), ("ask", 1.11)],
    ids=["open-interest-below-floor", "spread-wider-than-limit"],
)
def test_strike_by_delta_skips_a_contract_below_the_liquidity_floor(column: str, value: float) -> None:
    # Arrange: the exact 16-delta put is thin; the 15-delta put passes the floor (spread 1.11 - 1.00 is
    # 10.4% of the 1.055 mid).
    chain = contracts(("P", 470.0, -0.16), ("P", 465.0, -0.15))
    thin = chain["strike"] == 470.0
    chain.loc[thin, column] = value
    chain["mid"] = (chain["bid"] + chain["ask"]) / 2

    # Act
    strike = pick(chain, Right.PUT, floor=FLOOR)

    # Assert
    assert strike == 465.0


def test_liquidity_floor_passes_open_interest_and_spread_exactly_at_the_limits() -> None:
    # Arrange: open interest 100; bid 0.95, ask 1.05: the spread is 10% of the 1.00 mid.
    chain = contracts(("P", 470.0, -0.16))
    chain[["bid", "ask", "mid", "open_interest"]] = [0.95, 1.05, 1.00, 100.0]

    # Act
    passes = FLOOR.passes(chain)

    # Assert
    assert passes.tolist() == [True]


def test_strike_by_delta_when_no_contract_passes_the_floor_raises_naming_the_floor() -> None:
    # Arrange
    chain = contracts(("P", 470.0, -0.16), ("P", 465.0, -0.15))
    chain["open_interest"] = 3.0

    # Act / Assert
    expected = (
        "none of the 2 quoted puts for 2025-04-25 passes the liquidity floor "
        "(open interest >= 100, spread <= 10% of mid)"
    )
    with pytest.raises(SelectionError, match=re.escape(expected)):
        pick(chain, Right.PUT, floor=FLOOR)


def test_choose_expiration_when_the_closest_is_thin_at_the_money_prefers_a_liquid_one_further_away() -> None:
    # Arrange: a just-listed 44-DTE weekly (open interest 12 at the money) and the 49-DTE monthly.
    chain = pd.concat(
        [expirations_chain([44], open_interest=12.0), expirations_chain([49], open_interest=25_000.0)],
        ignore_index=True,
    )

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45, liquidity=FLOOR)

    # Assert
    assert chosen == TODAY + timedelta(days=49)


def test_choose_expiration_when_only_the_atm_call_is_thin_refuses_that_expiration() -> None:
    # Arrange
    chain = pd.concat([expirations_chain([44]), expirations_chain([49])], ignore_index=True)
    weekly_call = (chain["dte"] == 44) & (chain["right"] == "C")
    chain.loc[weekly_call, ["ask", "mid"]] = [1.50, 1.25]

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45, liquidity=FLOOR)

    # Assert
    assert chosen == TODAY + timedelta(days=49)


def test_choose_expiration_when_none_is_liquid_at_the_money_raises_naming_each_and_why() -> None:
    # Arrange
    chain = expirations_chain([42, 49], open_interest=7.0)
    chain = chain[~((chain["dte"] == 49) & (chain["right"] == "P"))]

    # Act / Assert
    expected = (
        "no expiration with DTE in [40, 50] is liquid at the money "
        "(open interest >= 100, spread <= 10% of mid): "
        "2025-04-25 (42 DTE): P 500 open interest 7, bid 1, spread 3.9% of mid; "
        "C 500 open interest 7, bid 1, spread 3.9% of mid | "
        "2025-05-02 (49 DTE): P not quoted; C 500 open interest 7, bid 1, spread 3.9% of mid"
    )
    with pytest.raises(SelectionError, match=re.escape(expected)):
        choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45, liquidity=FLOOR)


#: The file has no spot column (`under` is the symbol); SOURCES.md gives the close.
SPY_CLOSE_2015_01_05 = 201.72


def _real_spy_chain_2015_01_05() -> pd.DataFrame:
    """The real SPY chain of 2015-01-05 (standard contracts), with the vendor's IV and delta."""
    raw = pd.read_csv(MARKET_DATA / "chains" / "SPY_2015-01-05.csv", skipinitialspace=True)
    raw = raw[raw["nonstd"] == 0]
    expiration = pd.to_datetime(raw["expiration"])
    return pd.DataFrame(
        {
            "occ_symbol": raw["symbol"],
            "expiration": expiration,
            "dte": (expiration - pd.Timestamp("2015-01-05")).dt.days,
            "right": raw["put/call"],
            "strike": raw["strike"],
            "underlying_price": SPY_CLOSE_2015_01_05,
            "bid": raw["bid"],
            "ask": raw["ask"],
            "mid": (raw["bid"] + raw["ask"]) / 2,
            "open_interest": raw["open interest"],
            "iv": raw["implied vol"],
            "delta": raw["delta"],
        }
    )


@needs_market_data
def test_on_the_real_2015_spy_chain_the_just_listed_weekly_loses_to_the_monthly() -> None:
    # Arrange: 2015-02-13 (39 DTE, listed days before) has open interest 20 on the at-the-money put and 0
    # on the call; the 2015-02-20 monthly (46 DTE) has 125,018 and 11,948.
    chain = _real_spy_chain_2015_01_05()

    # Act
    chosen = choose_expiration(chain, dte_min=35, dte_max=50, dte_target=39, liquidity=FLOOR)
    put, call = (
        strike_by_delta(chain, chosen, right, 0.16, 0.03, FLOOR) for right in (Right.PUT, Right.CALL)
    )

    # Assert
    assert chosen == date(2015, 2, 20)
    assert (put["strike"], call["strike"]) == (186.0, 211.0)
    assert abs(abs(put["delta"]) - 0.16) <= 0.03 and abs(call["delta"] - 0.16) <= 0.03
