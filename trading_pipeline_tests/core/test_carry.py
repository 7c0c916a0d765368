"""Carry: T-bill discount to continuous rates, trailing dividend yields, parity forwards per expiration."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from trading_pipeline.core.carry import (
    PARITY_SOURCE,
    Carry,
    chain_carry,
    continuous_rate_from_discount,
    implied_dividend_yield,
    parity_forward,
    trailing_dividend_yield,
)
from trading_pipeline.core.chain import enrich_chain
from trading_pipeline_tests.core.chain_builders import DIV, NOW, RATE, SPOT, quote_chain


def test_discount_rate_becomes_the_continuous_rate_of_the_bill_price() -> None:
    # Arrange: 5.27% discount on a 91-day bill: price 1 - 0.0527 * 91 / 360
    price = 1 - 0.0527 * 91 / 360

    # Act
    rate = continuous_rate_from_discount(5.27)

    # Assert: above the discount rate (a discount understates the yield), exact in log terms
    assert rate == pytest.approx(-np.log(price) * 365 / 91, rel=1e-12)
    assert 0.0537 < rate < 0.0539


def test_negative_discount_rates_are_real_and_give_negative_rates() -> None:
    assert continuous_rate_from_discount(-0.05) < 0


def test_impossible_discount_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="400"):
        continuous_rate_from_discount(400.0)


def test_trailing_yield_counts_the_year_of_ex_dates_up_to_the_day() -> None:
    # Arrange: four quarterly dividends of 1.50 in the year, one a year and a day earlier, one tomorrow
    dividends = pd.Series(
        [9.0, 1.5, 1.5, 1.5, 1.5, 9.0],
        index=pd.to_datetime(
            ["2019-06-14", "2019-06-21", "2019-09-20", "2019-12-20", "2020-03-20", "2020-06-16"]
        ),
    )

    # Act
    q = trailing_dividend_yield(dividends, date(2020, 6, 15), spot=300.0)

    # Assert
    assert q == pytest.approx(np.log1p(6.0 / 300.0))


def test_parity_forward_recovers_the_forward_of_bsm_quotes() -> None:
    # Arrange
    chain = quote_chain(dtes=(42,), spread_cents=2)
    t = (42 - 0.2) / 365  # forward barely depends on t; any nearby t gives it to a cent
    expected = SPOT * np.exp((RATE - DIV) * t)

    # Act
    forward = parity_forward(chain, RATE, t)

    # Assert
    assert forward == pytest.approx(expected, abs=0.05)


def test_parity_forward_is_none_without_a_two_sided_call_and_put_at_one_strike() -> None:
    # Arrange: calls at 495, puts at 505 only
    chain = quote_chain(dtes=(42,), strikes=(495, 505))
    one_sided = chain[
        ((chain["right"] == "C") & (chain["strike"] == 495))
        | ((chain["right"] == "P") & (chain["strike"] == 505))
    ]

    # Act / Assert
    assert parity_forward(one_sided, RATE, 0.1) is None


def test_parity_forward_ignores_a_wide_quote_near_the_money() -> None:
    # Arrange: one strike's call is quoted absurdly wide (a stub quote), the others are fine
    chain = quote_chain(dtes=(42,), strikes=range(480, 525, 5), spread_cents=2)
    wide = (chain["strike"] == 500) & (chain["right"] == "C")
    chain.loc[wide, ["bid", "ask"]] = [0.05, 60.0]

    # Act
    forward = parity_forward(chain, RATE, 42 / 365)

    # Assert
    assert forward == pytest.approx(SPOT * np.exp((RATE - DIV) * 42 / 365), abs=0.1)


def test_implied_yield_turns_the_forward_back_into_the_dividend_yield() -> None:
    forward = SPOT * np.exp((RATE - DIV) * 0.5)
    assert implied_dividend_yield(forward, SPOT, RATE, 0.5) == pytest.approx(DIV)


def test_chain_carry_falls_back_to_the_provider_when_parity_is_implausible() -> None:
    # Arrange: the (European) chain's forward sits 20% above spot (a stale spot, not carry)
    provider = {"XSP": Carry(RATE, DIV, "provider")}
    chain = enrich_chain(quote_chain(dtes=(42,), underlying="XSP"), NOW, provider)
    assert (chain["carry_source"] == PARITY_SOURCE).all()
    shifted = chain.assign(underlying_price=SPOT / 1.2)

    # Act
    carry = chain_carry(shifted, provider)

    # Assert
    assert (carry["carry_source"] == "provider").all()
    assert (carry["div_yield"] == DIV).all()


def test_chain_carry_keeps_the_provider_carry_for_american_options() -> None:
    # Arrange: a two-sided SPY chain; its early-exercise premia would bias a parity forward.
    chain = enrich_chain(quote_chain(dtes=(42,)), NOW, {"SPY": Carry(RATE, DIV, "provider")})

    # Act
    carry = chain_carry(chain, {"SPY": Carry(RATE, 0.02, "provider")})

    # Assert
    assert (carry["carry_source"] == "provider").all()
    assert (carry["div_yield"] == 0.02).all()


def test_chain_carry_keeps_spx_and_spxw_roots_apart_on_a_shared_expiration() -> None:
    # Arrange: same strikes and expiry, two roots priced with different forwards
    am = quote_chain(dtes=(42,), underlying="SPX", spread_cents=2)
    pm = am.copy()
    pm["occ_symbol"] = pm["occ_symbol"].str.replace("SPX", "SPXW", n=1, regex=False)
    chain = enrich_chain(pd.concat([am, pm], ignore_index=True), NOW, {"SPX": Carry(RATE, DIV, "p")})
    pm_rows = chain["occ_symbol"].str.startswith("SPXW")
    chain.loc[pm_rows & (chain["right"] == "C"), ["bid", "ask"]] += 1.0  # a forward 1 point higher

    # Act
    carry = chain_carry(chain, {"SPX": Carry(RATE, DIV, "p")})

    # Assert
    forwards = carry.groupby(pm_rows)["forward"].first()
    assert forwards[True] - forwards[False] == pytest.approx(
        np.exp(RATE * chain["t_years"].iloc[0]), abs=0.05
    )
    assert (carry["carry_source"] == PARITY_SOURCE).all()
