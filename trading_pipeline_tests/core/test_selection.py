"""Expiration and strike selection: DTE window, closest-to-target, tie-breaking and eligibility."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta

import pandas as pd
import pytest

from trading_pipeline.core.instruments import Right
from trading_pipeline.core.selection import SelectionError, choose_expiration, strike_by_delta

TODAY = date(2025, 3, 14)
EXPIRY = TODAY + timedelta(days=42)
OTHER_EXPIRY = TODAY + timedelta(days=49)


def expirations_chain(dtes: list[int]) -> pd.DataFrame:
    """Two rows (a put and a call) per expiration, in shuffled order."""
    rows = []
    for dte in reversed(dtes):
        for right in ("P", "C"):
            rows.append({"expiration": pd.Timestamp(TODAY + timedelta(days=dte)), "dte": dte, "right": right})
    return pd.DataFrame(rows)


def contracts(*rows: tuple[str, float, float], expiration: date = EXPIRY) -> pd.DataFrame:
    """Rows of (right, strike, delta) with a bid and a solved IV; adjust columns per test."""
    return pd.DataFrame(
        [
            {
                "expiration": pd.Timestamp(expiration),
                "right": right,
                "strike": strike,
                "delta": delta,
                "bid": 1.0,
                "iv": 0.2,
            }
            for right, strike, delta in rows
        ]
    )


def test_choose_expiration_picks_dte_closest_to_target_inside_window() -> None:
    # Arrange
    chain = expirations_chain([30, 42, 49, 60])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45)

    # Assert
    assert chosen == TODAY + timedelta(days=42)


def test_choose_expiration_breaks_ties_toward_the_earlier_expiration() -> None:
    # Arrange
    chain = expirations_chain([47, 43])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45)

    # Assert
    assert chosen == TODAY + timedelta(days=43)


def test_choose_expiration_window_bounds_are_inclusive() -> None:
    # Arrange
    chain = expirations_chain([39, 40, 51])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=50)

    # Assert
    assert chosen == TODAY + timedelta(days=40)


def test_choose_expiration_outside_window_never_wins_even_if_closer_to_target() -> None:
    # Arrange
    chain = expirations_chain([39, 50])

    # Act
    chosen = choose_expiration(chain, dte_min=40, dte_max=50, dte_target=40)

    # Assert
    assert chosen == TODAY + timedelta(days=50)


def test_choose_expiration_without_one_in_window_raises_listing_dtes_in_order() -> None:
    # Arrange
    chain = expirations_chain([60, 30, 7])

    # Act / Assert
    message = "no expiration with DTE in [40, 50]; listed DTEs: [7, 30, 60]"
    with pytest.raises(SelectionError, match=re.escape(message)):
        choose_expiration(chain, dte_min=40, dte_max=50, dte_target=45)


def test_strike_by_delta_picks_put_with_abs_delta_closest_to_target() -> None:
    # Arrange
    chain = contracts(("P", 460.0, -0.10), ("P", 470.0, -0.15), ("P", 480.0, -0.22), ("C", 540.0, 0.16))

    # Act
    row = strike_by_delta(chain, EXPIRY, Right.PUT, 0.16)

    # Assert
    assert row["strike"] == 470.0


def test_strike_by_delta_picks_call_with_delta_closest_to_target() -> None:
    # Arrange
    chain = contracts(("C", 530.0, 0.25), ("C", 540.0, 0.17), ("C", 550.0, 0.09), ("P", 470.0, -0.16))

    # Act
    row = strike_by_delta(chain, EXPIRY, Right.CALL, 0.16)

    # Assert
    assert row["strike"] == 540.0


def test_strike_by_delta_breaks_put_ties_toward_the_lower_strike() -> None:
    # Arrange: |delta| 0.14 and 0.18 are equally far from 0.16 (up to float noise).
    chain = contracts(("P", 475.0, -0.18), ("P", 470.0, -0.14))

    # Act
    row = strike_by_delta(chain, EXPIRY, Right.PUT, 0.16)

    # Assert
    assert row["strike"] == 470.0


def test_strike_by_delta_breaks_call_ties_toward_the_higher_strike() -> None:
    # Arrange
    chain = contracts(("C", 530.0, 0.14), ("C", 525.0, 0.18))

    # Act
    row = strike_by_delta(chain, EXPIRY, Right.CALL, 0.16)

    # Assert
    assert row["strike"] == 530.0


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
    row = strike_by_delta(chain, EXPIRY, Right.PUT, 0.16)

    # Assert
    assert row["strike"] == 465.0


def test_strike_by_delta_ignores_other_expirations() -> None:
    # Arrange
    chain = pd.concat(
        [contracts(("P", 470.0, -0.16), expiration=OTHER_EXPIRY), contracts(("P", 460.0, -0.11))],
        ignore_index=True,
    )

    # Act
    row = strike_by_delta(chain, EXPIRY, Right.PUT, 0.16)

    # Assert
    assert row["strike"] == 460.0


def test_strike_by_delta_without_eligible_contracts_raises_naming_right_and_expiration() -> None:
    # Arrange: only calls, and a put without a bid.
    chain = contracts(("C", 540.0, 0.16), ("P", 470.0, -0.16))
    chain.loc[chain["right"] == "P", "bid"] = 0.0

    # Act / Assert
    with pytest.raises(SelectionError, match="no quoted puts with a bid for 2025-04-25"):
        strike_by_delta(chain, EXPIRY, Right.PUT, 0.16)
