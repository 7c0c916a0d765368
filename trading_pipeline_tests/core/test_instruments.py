"""OCC symbols, option contracts, legs, money rounding and multipliers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_pipeline.core.instruments import (
    CONTRACT_MULTIPLIER,
    Leg,
    OccSymbolError,
    OptionContract,
    Right,
    Side,
    canonical_occ_symbol,
    contract_multiplier,
    format_occ_symbol,
    parse_occ_symbol,
    to_money,
)

roots = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=6)
expirations = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
strikes = st.integers(min_value=1, max_value=99_999_999).map(lambda n: Decimal(n).scaleb(-3))
rights = st.sampled_from(list(Right))


def test_parse_real_padded_symbol_gives_root_expiry_right_and_strike() -> None:
    # Arrange
    symbol = "SPY   150117C00205000"

    # Act
    contract = parse_occ_symbol(symbol)

    # Assert
    assert contract == OptionContract("SPY", date(2015, 1, 17), Decimal("205"), Right.CALL)
    assert contract.is_call
    assert str(contract.strike) == "205"


def test_parse_put_with_fractional_strike_and_six_letter_root() -> None:
    contract = parse_occ_symbol("SPXW  251219P05987500")

    assert (contract.root, contract.expiration, contract.right) == ("SPXW", date(2025, 12, 19), Right.PUT)
    assert contract.strike == Decimal("5987.5")


def test_parsed_round_strike_has_no_exponent_notation() -> None:
    contract = parse_occ_symbol("SPY   150117C00200000")

    assert str(contract.strike) == "200"


def test_parse_compact_symbol_without_padding() -> None:
    assert parse_occ_symbol("SPY150117C00205000") == parse_occ_symbol("SPY   150117C00205000")


def test_parse_lowercase_and_surrounding_whitespace_is_accepted() -> None:
    assert parse_occ_symbol("  spy   150117c00205000 ").occ_symbol == "SPY   150117C00205000"


def test_format_pads_root_to_six_and_strike_to_eight_digits() -> None:
    symbol = format_occ_symbol("qqq", date(2026, 3, 20), "P", Decimal("512.5"))

    assert symbol == "QQQ   260320P00512500"
    assert len(symbol) == 21


@given(root=roots, expiration=expirations, right=rights, strike=strikes)
def test_format_then_parse_round_trips(root: str, expiration: date, right: Right, strike: Decimal) -> None:
    # Arrange
    contract = OptionContract(root, expiration, strike, right)

    # Act
    parsed = parse_occ_symbol(contract.occ_symbol)

    # Assert
    assert parsed == contract
    assert parsed.occ_symbol == contract.occ_symbol
    assert "E" not in str(parsed.strike)


@pytest.mark.parametrize(
    "symbol",
    [
        "",
        "SPY",
        "SPY   150117X00205000",  # right is not C/P
        "SPY   15017C00205000",  # 5-digit date
        "SPY   150117C0020500",  # 7-digit strike
        "TOOLONG150117C00205000",  # 7-character root
        "SPY-  150117C00205000",
    ],
)
def test_malformed_symbol_raises_naming_the_symbol(symbol: str) -> None:
    with pytest.raises(OccSymbolError, match="not an OCC option symbol") as excinfo:
        parse_occ_symbol(symbol)

    assert repr(symbol) in str(excinfo.value)


@pytest.mark.parametrize(
    ("vendor_text", "canonical"),
    [
        ("SPXW230609C04300000", "SPXW  230609C04300000"),  # Cboe export: compact
        ("IWM   191018C00100000", "IWM   191018C00100000"),  # iVolatility: already padded
        ("spy7  150102c00187500 ", "SPY7  150102C00187500"),  # adjusted root, lower case, trailing space
    ],
)
def test_canonical_occ_symbol_when_vendor_pads_or_not_gives_the_formatter_form(
    vendor_text: str, canonical: str
) -> None:
    # Act
    symbol = canonical_occ_symbol(vendor_text)

    # Assert
    assert symbol == canonical
    assert symbol == parse_occ_symbol(vendor_text).occ_symbol


def test_canonical_occ_symbol_when_text_is_not_a_symbol_raises_naming_it() -> None:
    with pytest.raises(OccSymbolError, match=r"'SPXW2306C04300000'"):
        canonical_occ_symbol("SPXW2306C04300000")


def test_impossible_expiration_date_raises_naming_date_and_symbol() -> None:
    with pytest.raises(OccSymbolError, match=r"bad expiration '151317'.*SPY   151317C00205000"):
        parse_occ_symbol("SPY   151317C00205000")


def test_zero_strike_symbol_is_rejected() -> None:
    with pytest.raises(OccSymbolError, match="strike must be positive"):
        parse_occ_symbol("SPY   150117C00000000")


@pytest.mark.parametrize("strike", [Decimal("205.0001"), 205.1234, "0.0005"])
def test_format_rejects_strike_with_four_decimals(strike: Decimal | float | str) -> None:
    with pytest.raises(OccSymbolError, match="at most 3 decimals"):
        format_occ_symbol("SPY", date(2015, 1, 17), Right.CALL, strike)  # type: ignore[arg-type]


@pytest.mark.parametrize("strike", [Decimal(0), Decimal(-5), Decimal(100_000)])
def test_format_rejects_non_positive_or_too_large_strike(strike: Decimal) -> None:
    with pytest.raises(OccSymbolError):
        format_occ_symbol("SPY", date(2015, 1, 17), Right.CALL, strike)


@pytest.mark.parametrize("root", ["", "TOOLONG", "SP Y", "SP-Y"])
def test_format_rejects_bad_root_naming_it(root: str) -> None:
    with pytest.raises(OccSymbolError, match="root must be"):
        format_occ_symbol(root, date(2015, 1, 17), Right.CALL, Decimal(205))


def test_contract_from_float_strike_equals_contract_from_symbol() -> None:
    contract = OptionContract("SPY", date(2015, 1, 17), 205.5, "C")  # type: ignore[arg-type]

    assert contract == parse_occ_symbol("SPY   150117C00205500")
    assert contract.strike == Decimal("205.5")


def test_every_root_uses_the_standard_multiplier() -> None:
    contract = parse_occ_symbol("SPX   251219P05000000")

    assert contract.multiplier == contract_multiplier("SPX") == CONTRACT_MULTIPLIER == 100


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2.675, "2.68"), ("1.005", "1.01"), (Decimal("-2.405"), "-2.41"), (3, "3.00"), (0.1 + 0.2, "0.30")],
)
def test_to_money_rounds_half_up_to_cents(value: Decimal | float | int | str, expected: str) -> None:
    money = to_money(value)

    assert money == Decimal(expected)
    assert money.as_tuple().exponent == -2


def test_short_leg_has_negative_signed_ratio_and_closing_leg_buys() -> None:
    # Arrange
    leg = Leg(parse_occ_symbol("SPY   150117P00190000"), Side.SELL, ratio=2)

    # Act
    closing = leg.closing()

    # Assert
    assert leg.signed_ratio == -2
    assert closing.side is Side.BUY
    assert closing.signed_ratio == 2
    assert closing.contract == leg.contract


def test_leg_ratio_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="ratio must be >= 1, got 0"):
        Leg(parse_occ_symbol("SPY   150117P00190000"), Side.BUY, ratio=0)
