"""Paper fill model: mid-to-natural slippage, quote validation and commissions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from trading_pipeline.core.fills import (
    FillModel,
    LegMarket,
    LegQuote,
    fill_at_limit,
    fill_structure,
    limit_is_marketable,
    limit_price,
    price_tick,
    structure_price,
)
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side, parse_occ_symbol

PUT = parse_occ_symbol("SPY   251219P00640000")
CALL = parse_occ_symbol("SPY   251219C00720000")
STRANGLE = (Leg(PUT, Side.SELL), Leg(CALL, Side.SELL))
QUOTES = (LegQuote(Decimal("1.10"), Decimal("1.30")), LegQuote(Decimal("1.00"), Decimal("1.20")))


@pytest.mark.parametrize("side", list(Side))
def test_zero_slippage_fills_at_mid(side: Side) -> None:
    model = FillModel(slippage_fraction=Decimal(0))

    assert model.leg_price(side, LegQuote(Decimal("1.10"), Decimal("1.30"))) == Decimal("1.20")


@pytest.mark.parametrize(("side", "expected"), [(Side.BUY, Decimal("1.30")), (Side.SELL, Decimal("1.10"))])
def test_full_slippage_fills_at_natural(side: Side, expected: Decimal) -> None:
    model = FillModel(slippage_fraction=Decimal(1))

    assert model.leg_price(side, LegQuote(Decimal("1.10"), Decimal("1.30"))) == expected


def test_sells_receive_below_mid_and_buys_pay_above_mid() -> None:
    # Arrange
    model = FillModel(slippage_fraction=Decimal("0.25"))
    quote = LegQuote(Decimal("2.00"), Decimal("2.40"))

    # Act
    sell, buy = model.leg_price(Side.SELL, quote), model.leg_price(Side.BUY, quote)

    # Assert
    assert sell == Decimal("2.15") < Decimal("2.20") < buy == Decimal("2.25")


def test_crossed_quote_is_rejected_naming_bid_and_ask() -> None:
    with pytest.raises(ValueError, match=r"bid=1\.30 ask=1\.10"):
        LegQuote(Decimal("1.30"), Decimal("1.10"))


@pytest.mark.parametrize(("bid", "ask"), [("-0.05", "0.10"), ("0", "0")])
def test_negative_bid_or_zero_ask_is_rejected(bid: str, ask: str) -> None:
    with pytest.raises(ValueError, match=f"bid={bid} ask={ask}"):
        LegQuote(Decimal(bid), Decimal(ask))


@pytest.mark.parametrize("fraction", [Decimal("-0.1"), Decimal("1.5")])
def test_slippage_outside_zero_to_one_is_rejected(fraction: Decimal) -> None:
    with pytest.raises(ValueError, match="slippage_fraction must be within"):
        FillModel(slippage_fraction=fraction)


def test_commission_is_per_contract_times_contracts_times_quantity() -> None:
    # Arrange: 1 + 2 contracts per unit (a ratio leg), 3 units.
    model = FillModel(commission_per_contract=Decimal("0.65"))
    legs = (Leg(PUT, Side.SELL), Leg(CALL, Side.BUY, ratio=2))

    # Act / Assert
    assert model.commission(legs, quantity=3) == Decimal("5.85")


def test_short_strangle_fills_for_a_negative_net_value_with_commission() -> None:
    # Arrange
    model = FillModel(slippage_fraction=Decimal("0.5"), commission_per_contract=Decimal("0.65"))

    # Act
    fill = fill_structure(model, STRANGLE, QUOTES, quantity=2)

    # Assert: each sell gives up half the half-spread (0.05) from mid.
    assert fill.leg_prices == (Decimal("1.15"), Decimal("1.05"))
    assert fill.net_value == Decimal("-2.20")
    assert fill.commission == Decimal("2.60")


def test_fill_structure_rejects_missing_quote() -> None:
    with pytest.raises(ValueError):
        fill_structure(FillModel(), STRANGLE, QUOTES[:1], quantity=1)


@pytest.mark.parametrize(
    ("limit", "net", "marketable"),
    [
        (Decimal("-2.40"), Decimal("-2.50"), True),  # more credit than asked
        (Decimal("-2.40"), Decimal("-2.40"), True),
        (Decimal("-2.40"), Decimal("-2.30"), False),  # less credit than asked
        (Decimal("1.20"), Decimal("1.15"), True),  # cheaper debit
        (Decimal("1.20"), Decimal("1.25"), False),
    ],
)
def test_limit_is_marketable_when_fill_costs_no_more_than_limit(
    limit: Decimal, net: Decimal, marketable: bool
) -> None:
    assert limit_is_marketable(limit, net) is marketable


def _spx(strike: str, right: Right, side: Side) -> Leg:
    return Leg(OptionContract("SPXW", date(2025, 12, 19), Decimal(strike), right), side)


def test_spx_ticks_are_nickels_under_three_dollars_and_dimes_from_three() -> None:
    assert price_tick("SPXW", Decimal("-2.95")) == Decimal("0.05")
    assert price_tick("SPX", Decimal("3.00")) == Decimal("0.10")
    assert price_tick("SPY", Decimal("12.34")) == Decimal("0.01")


def test_an_spx_credit_limit_rounds_to_its_tick_toward_the_natural_side() -> None:
    # Arrange: a put credit spread, mid credit 4.37, natural 3.95; half way to natural is a credit of 4.15
    legs = (_spx("5800", Right.PUT, Side.SELL), _spx("5775", Right.PUT, Side.BUY))
    quotes = (LegQuote(Decimal("12.10"), Decimal("12.60")), LegQuote(Decimal("7.80"), Decimal("8.15")))

    # Act
    limit = limit_price(legs, quotes, Decimal("0.5"))

    # Assert: a dime tick above $3, rounded toward natural (less credit), still between mid and natural
    assert limit == Decimal("-4.10")
    assert structure_price(legs, quotes, Decimal(1)) >= limit >= structure_price(legs, quotes, Decimal(0))


def test_a_limit_never_rounds_past_the_natural() -> None:
    # Arrange: a credit of 3.06 (dime ticks) whose natural, 3.05, lies between it and the next dime up
    wide = (LegQuote(Decimal("3.05"), Decimal("3.35")),)
    narrow = (LegQuote(Decimal("3.05"), Decimal("3.10")),)
    legs = (_spx("5900", Right.CALL, Side.SELL),)

    # Act / Assert: toward the mid when a dime lies between mid and natural, else the natural itself
    assert limit_price(legs, wide, Decimal("0.9")) == Decimal("-3.10")
    assert limit_price(legs, narrow, Decimal("0.5")) == Decimal("-3.05")


def test_etf_limits_keep_their_cent_prices() -> None:
    legs = (Leg(OptionContract("SPY", date(2025, 12, 19), Decimal("600"), Right.PUT), Side.SELL),)
    quotes = (LegQuote(Decimal("3.01"), Decimal("3.08")),)

    assert limit_price(legs, quotes, Decimal("0.5")) == structure_price(legs, quotes, Decimal("0.5"))


# --- the modeled market of the paper broker ------------------------------------------------------------

TIGHT = (LegQuote(Decimal("1.19"), Decimal("1.21")), LegQuote(Decimal("1.09"), Decimal("1.11")))
CALM = (LegMarket(TIGHT[0], 0.15), LegMarket(TIGHT[1], 0.15))
WIDE = (
    LegMarket(LegQuote(Decimal("0.90"), Decimal("1.50")), 0.15),
    LegMarket(LegQuote(Decimal("0.80"), Decimal("1.40")), 0.15),
)
STRESSED = (LegMarket(TIGHT[0], 0.70), LegMarket(TIGHT[1], 0.70))
SHAPED = FillModel(Decimal("0.25"), wide_spread_extra=Decimal("0.30"), volatility_extra=Decimal("0.20"))


def test_the_modeled_fraction_grows_with_wide_spreads_and_with_high_implied_vol() -> None:
    # Act
    calm, wide, stressed = (SHAPED.fraction(m, ("order", "t")) for m in (CALM, WIDE, STRESSED))

    # Assert: 1.7% spreads add 0.30 x 1.74/20; 46% spreads the whole 0.30; a 70% vol the whole 0.20
    assert calm == Decimal("0.2761")
    assert wide == Decimal("0.5500")
    assert stressed == Decimal("0.4761")
    assert calm < wide and calm < stressed


def test_the_jitter_is_seeded_by_order_and_time_and_stays_within_its_bounds() -> None:
    # Arrange
    model = FillModel(Decimal("0.25"), jitter=Decimal("0.20"))  # tight spreads, calm vol: only the jitter
    keys = [("order", f"t{i}") for i in range(200)]

    # Act
    draws = [model.fraction(CALM, key) for key in keys]

    # Assert
    assert draws == [model.fraction(CALM, key) for key in keys]
    assert all(Decimal("0.05") <= d <= Decimal("0.45") for d in draws)
    assert len(set(draws)) > 150
    assert min(draws) < Decimal("0.10") and max(draws) > Decimal("0.40")  # the whole band is used


def test_costs_add_per_contract_fees_and_the_sec_fee_on_sale_proceeds_each_rounded_up_to_the_cent() -> None:
    # Arrange
    model = FillModel(
        Decimal("0.5"),
        Decimal("0.65"),
        exchange_fee_per_contract=Decimal("0.30"),
        regulatory_fee_per_contract=Decimal("0.02685"),
        sec_fee_per_million=Decimal("27.80"),
    )

    # Act: sell 3 strangles at 1.15 + 1.05, then buy them back (no SEC fee on purchases)
    sold = model.costs(STRANGLE, (Decimal("1.15"), Decimal("1.05")), 3)
    bought = model.costs(tuple(leg.closing() for leg in STRANGLE), (Decimal("1.25"), Decimal("1.15")), 3)

    # Assert: 6 x 0.97685 = 5.8611 -> 5.87; SEC 660 x 27.80 / 1e6 = 0.018348 -> 0.02
    assert sold == Decimal("5.89")
    assert bought == Decimal("5.87")


def test_a_resting_fill_at_its_limit_moves_the_first_leg_so_the_legs_add_up_to_the_limit() -> None:
    # Arrange: the market would pay 2.20; the resting order asked 2.10
    met = fill_structure(FillModel(Decimal("0.5")), STRANGLE, QUOTES, 2)

    # Act
    filled = fill_at_limit(FillModel(Decimal("0.5")), STRANGLE, met, Decimal("-2.10"), 2)

    # Assert
    assert met.net_value == Decimal("-2.20")
    assert filled.leg_prices == (Decimal("1.05"), Decimal("1.05"))
    assert filled.net_value == Decimal("-2.10")
    assert filled.commission == Decimal("2.60")


@pytest.mark.parametrize("probability", ["0", "1"])
def test_a_fill_takes_everything_or_with_the_partial_probability_a_seeded_part(probability: str) -> None:
    # Arrange
    model = FillModel(partial_fill_probability=Decimal(probability))

    # Act
    sizes = [model.fill_quantity(5, ("order", f"t{i}")) for i in range(50)]

    # Assert
    if probability == "0":
        assert set(sizes) == {5}
    else:
        assert set(sizes) <= {1, 2, 3, 4} and len(set(sizes)) > 1
    assert model.fill_quantity(1, ("order", "t")) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("jitter", "1.5"), ("partial_fill_probability", "-0.1"), ("sec_fee_per_million", "-1")],
)
def test_a_fill_model_out_of_bounds_is_refused_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        FillModel(**{field: Decimal(value)})
