"""Expiration: settlement prices, cash settlement, exercise and assignment, and early-assignment risk."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

import pandas as pd
import pytest

from trading_pipeline.core.calendar import ET, at_et
from trading_pipeline.core.early_assignment import early_assignment_risks
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.orders import OrderIntent, PositionEffect
from trading_pipeline.core.positions import (
    Fill,
    Position,
    PositionStatus,
    apply_fill,
    open_position,
    reduce_position,
)
from trading_pipeline.core.settlement import (
    ExpirationError,
    ExpirationFees,
    SettlementAction,
    SettlementDataError,
    StockDelivery,
    expiration_fill,
    expiration_intent,
    expire_position,
    net_deliveries,
    settlement_price,
    settlement_prices,
)
from trading_pipeline_tests.real_market_data import MARKET_DATA, daily_bars, daily_closes, needs_market_data

SPX_MONTHLY = date(2022, 10, 21)  # third Friday: SPX (AM) and SPXW (PM) both expire
SPY_EXPIRY = date(2022, 10, 21)
COMMISSION_PER_CONTRACT = Decimal("0.65")


def _leg(root: str, expiration: date, right: str, strike: str, side: Side, ratio: int = 1) -> Leg:
    return Leg(OptionContract(root, expiration, Decimal(strike), Right(right)), side, ratio)


def _opened(
    legs: tuple[Leg, ...], entry: str, quantity: int, underlying: str, position_id: str = "tp-open-1"
) -> Position:
    """A position opened through the normal fill path, paying 0.65 per contract."""
    opened_at = at_et(date(2022, 10, 3), time(10, 0))
    intent = OrderIntent(
        client_order_id=position_id,
        strategy="test",
        session=opened_at.date(),
        decision_time=opened_at,
        underlying=underlying,
        legs=legs,
        quantity=quantity,
        limit_price=Decimal(entry),
        effect=PositionEffect.OPEN,
    )
    contracts = sum(leg.ratio for leg in legs) * quantity
    fill = Fill(
        fill_id="f-" + position_id,
        client_order_id=position_id,
        broker_order_id="b-" + position_id,
        filled_at=opened_at,
        quantity=quantity,
        net_value=Decimal(entry),
        leg_prices=(),
        commission=COMMISSION_PER_CONTRACT * contracts,
    )
    return open_position(intent, fill)


def _bars(day: date, open_: float, close: float) -> pd.DataFrame:
    return pd.DataFrame({"open": [open_], "close": [close]}, index=pd.DatetimeIndex([pd.Timestamp(day)]))


def _after_close(day: date) -> datetime:
    return at_et(day, time(17, 0))


def _spy_expiring(*legs: tuple[str, str, Side], quantity: int = 1, entry: str = "-1.00") -> Position:
    return _opened(
        tuple(_leg("SPY", SPY_EXPIRY, right, strike, side) for right, strike, side in legs),
        entry,
        quantity,
        "SPY",
    )


# --- settlement prices -------------------------------------------------------------------------------


@needs_market_data
def test_spx_monthly_settles_at_the_third_friday_open_and_spxw_at_its_close() -> None:
    # Arrange: the real S&P 500 bars of Friday 2022-10-21 (open 3657.10, close 3752.75)
    bars = daily_bars("GSPC").rename(columns=str.lower)

    # Act
    am = settlement_price("SPX", SPX_MONTHLY, bars)
    pm = settlement_price("SPXW", SPX_MONTHLY, bars)

    # Assert
    assert am == Decimal("3657.10")
    assert pm == Decimal("3752.75")


@needs_market_data
def test_saturday_dated_spy_monthly_settles_at_the_friday_close() -> None:
    # Arrange: before February 2015 OCC dated monthlies on the Saturday after the third Friday
    bars = daily_bars("SPY").rename(columns=str.lower)

    # Act
    price = settlement_price("SPY", date(2015, 1, 17), bars)

    # Assert
    assert price == Decimal(str(daily_closes("SPY")[pd.Timestamp("2015-01-16")])).quantize(Decimal("0.01"))


def test_settlement_price_without_the_expiration_bar_names_root_and_session() -> None:
    bars = _bars(date(2022, 10, 20), 3700.0, 3710.0)

    with pytest.raises(SettlementDataError, match="SPX 2022-10-21: no bar for session 2022-10-21"):
        settlement_price("SPX", SPX_MONTHLY, bars)


def test_settlement_prices_of_a_position_key_each_root_to_its_own_price() -> None:
    # Arrange
    legs = (
        _leg("SPXW", SPX_MONTHLY, "P", "3600", Side.SELL),
        _leg("SPXW", SPX_MONTHLY, "P", "3550", Side.BUY),
    )
    position = _opened(legs, "-2.00", 1, "SPX")

    # Act
    prices = settlement_prices(position, _bars(SPX_MONTHLY, 3657.1001, 3752.75))

    # Assert
    assert prices == {"SPXW": Decimal("3752.75")}


# --- cash-settled index options ----------------------------------------------------------------------


def _spx_iron_condor(quantity: int = 2) -> Position:
    legs = (
        _leg("SPX", SPX_MONTHLY, "P", "3600", Side.BUY),
        _leg("SPX", SPX_MONTHLY, "P", "3675", Side.SELL),
        _leg("SPX", SPX_MONTHLY, "C", "3850", Side.SELL),
        _leg("SPX", SPX_MONTHLY, "C", "3900", Side.BUY),
    )
    return _opened(legs, "-12.40", quantity, "SPX", position_id="tp-condor")


def test_spx_iron_condor_with_put_spread_partly_itm_realizes_pnl_to_the_cent_incl_commissions() -> None:
    # Arrange: sold 2 condors for 12.40 (commission 8 x 0.65 = 5.20); AM settlement 3657.10 puts the 3675
    # put 17.90 in the money and leaves the 3600 put and both calls worthless.
    position = _spx_iron_condor(quantity=2)
    now = _after_close(SPX_MONTHLY)

    # Act
    outcome = expire_position(position, {"SPX": Decimal("3657.10")}, now)
    closed = reduce_position(position, expiration_fill(outcome, "tp-close", "expiry"))

    # Assert: (-17.90 - -12.40) x 2 x 100 = -1100.00, less 5.20 of opening commissions
    assert outcome.closing_net_value == Decimal("17.90")
    assert [leg.action for leg in outcome.legs] == [
        SettlementAction.EXPIRED_WORTHLESS,
        SettlementAction.CASH_SETTLED,
        SettlementAction.EXPIRED_WORTHLESS,
        SettlementAction.EXPIRED_WORTHLESS,
    ]
    assert outcome.leg_prices == (Decimal(0), Decimal("17.90"), Decimal(0), Decimal(0))
    assert outcome.deliveries == ()
    assert outcome.gross_pnl == Decimal("-1100.00")
    assert outcome.net_realized_pnl == Decimal("-1105.20")
    assert closed.net_realized_pnl == outcome.net_realized_pnl
    assert closed.status is PositionStatus.CLOSED


def test_spx_expiration_fill_is_dated_at_the_am_settlement_with_a_deterministic_id() -> None:
    # Arrange
    position = _spx_iron_condor()

    # Act
    first = expiration_fill(
        expire_position(position, {"SPX": Decimal("3657.10")}, _after_close(SPX_MONTHLY)), "c", "b"
    )
    rerun = expiration_fill(
        expire_position(position, {"SPX": Decimal("3657.10")}, at_et(date(2022, 10, 24), time(9, 0))),
        "c",
        "b",
    )

    # Assert
    assert first == rerun
    assert first.fill_id == "expiry-tp-condor-2022-10-21"
    assert first.filled_at == datetime(2022, 10, 21, 9, 30, tzinfo=ET)
    assert first.quantity == 2
    assert first.commission == Decimal("0.00")


def test_same_spxw_condor_settles_at_the_close_and_loses_nothing_on_the_puts() -> None:
    # Arrange: the same strikes on SPXW, settled at the 3752.75 close: every leg out of the money
    legs = tuple(
        _leg("SPXW", leg.contract.expiration, leg.contract.right, str(leg.contract.strike), leg.side)
        for leg in _spx_iron_condor().legs
    )
    position = _opened(legs, "-12.40", 2, "SPX")

    # Act
    outcome = expire_position(position, {"SPXW": Decimal("3752.75")}, _after_close(SPX_MONTHLY))

    # Assert
    assert outcome.closing_net_value == Decimal("0.00")
    assert outcome.net_realized_pnl == Decimal("2474.80")  # 12.40 x 2 x 100 - 5.20
    assert outcome.settled_at == datetime(2022, 10, 21, 16, 0, tzinfo=ET)


def test_cash_settlement_fee_applies_per_itm_contract_and_enters_the_fill_commission() -> None:
    # Arrange: 3 SPXW put spreads, both legs in the money; 0.50 per cash-settled contract
    legs = (
        _leg("SPXW", SPX_MONTHLY, "P", "3800", Side.SELL),
        _leg("SPXW", SPX_MONTHLY, "P", "3775", Side.BUY),
    )
    position = _opened(legs, "-6.35", 3, "SPX")
    fees = ExpirationFees(cash_settlement=Decimal("0.50"))

    # Act
    outcome = expire_position(position, {"SPXW": Decimal("3752.75")}, _after_close(SPX_MONTHLY), fees)
    closed = reduce_position(position, expiration_fill(outcome, "tp-close", "expiry"))

    # Assert: the width 25.00 paid back; (-25.00 - -6.35) x 3 x 100 = -5595.00; fees 3.90 + 3.00
    assert outcome.closing_net_value == Decimal("25.00")
    assert outcome.fees == Decimal("3.00")
    assert outcome.net_realized_pnl == Decimal("-5601.90")
    assert closed.net_realized_pnl == Decimal("-5601.90")
    assert closed.fees == Decimal("6.90")


# --- physically settled ETF options ------------------------------------------------------------------


def test_spy_short_put_assigned_receives_100_shares_at_the_strike_with_its_cost_basis() -> None:
    # Arrange: short the 380 put for 1.25; SPY closes at 374.29
    position = _spy_expiring(("P", "380", Side.SELL), entry="-1.25")

    # Act
    outcome = expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))

    # Assert: the option closes at zero (the full credit realized); the loss sits in the shares' basis
    assert outcome.legs[0].action is SettlementAction.ASSIGNED
    assert outcome.closing_net_value == Decimal("0.00")
    assert outcome.gross_pnl == Decimal("125.00")
    assert outcome.deliveries == (
        StockDelivery(
            underlying="SPY",
            shares=100,
            price=Decimal("380"),
            acquired_at=datetime(2022, 10, 21, 16, 0, tzinfo=ET),
            position_id="tp-open-1",
            occ_symbol="SPY   221021P00380000",
        ),
    )
    assert outcome.deliveries[0].cash == Decimal("-38000")


def test_spy_short_call_assigned_delivers_100_shares_at_the_strike() -> None:
    # Arrange
    position = _spy_expiring(("C", "370", Side.SELL), entry="-2.00")

    # Act
    outcome = expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))

    # Assert
    assert outcome.legs[0].action is SettlementAction.ASSIGNED
    assert [(d.shares, d.price, d.cash) for d in outcome.deliveries] == [
        (-100, Decimal("370"), Decimal("37000"))
    ]


def test_spy_long_put_exercised_delivers_shares_and_long_call_receives_them() -> None:
    # Arrange
    position = _spy_expiring(("P", "380", Side.BUY), ("C", "370", Side.BUY), entry="9.00")

    # Act
    outcome = expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))

    # Assert
    assert [leg.action for leg in outcome.legs] == [SettlementAction.EXERCISED, SettlementAction.EXERCISED]
    assert [d.shares for d in outcome.deliveries] == [-100, 100]
    assert outcome.gross_pnl == Decimal("-900.00")


def test_spy_put_spread_with_both_legs_itm_nets_to_zero_shares_and_the_width_in_cash() -> None:
    # Arrange: sold the 385/380 put spread for 2.10; SPY closes at 374.29, below both strikes
    position = _spy_expiring(("P", "385", Side.SELL), ("P", "380", Side.BUY), entry="-2.10")

    # Act
    outcome = expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))
    (net,) = net_deliveries(outcome.deliveries)

    # Assert: bought 100 at 385, sold 100 at 380: 500 paid; with the 210 credit the spread lost 290
    assert [(d.shares, d.price) for d in outcome.deliveries] == [
        (100, Decimal("385")),
        (-100, Decimal("380")),
    ]
    assert (net.underlying, net.shares, net.cash) == ("SPY", 0, Decimal("-500"))
    assert outcome.gross_pnl + net.cash == Decimal("-290.00")


def test_otm_spy_strangle_expires_worthless_with_the_full_credit_realized() -> None:
    # Arrange: 2 strangles sold for 3.15, commission 4 x 0.65
    position = _spy_expiring(("P", "360", Side.SELL), ("C", "390", Side.SELL), quantity=2, entry="-3.15")

    # Act
    outcome = expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))
    closed = reduce_position(position, expiration_fill(outcome, "tp-close", "expiry"))

    # Assert
    assert {leg.action for leg in outcome.legs} == {SettlementAction.EXPIRED_WORTHLESS}
    assert outcome.deliveries == ()
    assert outcome.gross_pnl == Decimal("630.00")
    assert closed.net_realized_pnl == Decimal("627.40")


@pytest.mark.parametrize(
    ("close", "action", "shares"),
    [
        ("380.00", SettlementAction.EXPIRED_WORTHLESS, 0),  # at the money
        ("379.995", SettlementAction.EXPIRED_WORTHLESS, 0),  # half a cent in the money
        ("379.99", SettlementAction.ASSIGNED, 100),  # one cent in the money: exercised by exception
    ],
)
def test_short_put_is_assigned_only_when_itm_by_at_least_one_cent(
    close: str, action: SettlementAction, shares: int
) -> None:
    # Arrange
    position = _spy_expiring(("P", "380", Side.SELL), entry="-0.50")

    # Act
    outcome = expire_position(position, {"SPY": Decimal(close)}, _after_close(SPY_EXPIRY))

    # Assert
    assert outcome.legs[0].action is action
    assert sum(d.shares for d in outcome.deliveries) == shares


def test_partial_quantity_qqq_call_spread_scales_deliveries_and_fees_exactly() -> None:
    # Arrange: 3 long 260/265 call spreads bought for 2.37; exercise and assignment fees 0.15 per contract
    legs = (_leg("QQQ", SPY_EXPIRY, "C", "260", Side.BUY), _leg("QQQ", SPY_EXPIRY, "C", "265", Side.SELL))
    position = _opened(legs, "2.37", 3, "QQQ")
    fees = ExpirationFees(exercise=Decimal("0.15"), assignment=Decimal("0.15"))

    # Act
    outcome = expire_position(position, {"QQQ": Decimal("271.18")}, _after_close(SPY_EXPIRY), fees)
    (net,) = net_deliveries(outcome.deliveries)
    closed = reduce_position(position, expiration_fill(outcome, "tp-close", "expiry"))

    # Assert: options close at zero (-711.00); shares 300 in at 260 and 300 out at 265: +1500.00 cash
    assert [d.shares for d in outcome.deliveries] == [300, -300]
    assert (net.shares, net.cash) == (0, Decimal("1500"))
    assert outcome.fees == Decimal("0.90")
    assert closed.net_realized_pnl == Decimal("-711.00") - Decimal("3.90") - Decimal("0.90")
    assert closed.net_realized_pnl + net.cash == Decimal("784.20")


def test_expiration_recorded_through_the_normal_fill_path_closes_the_position() -> None:
    # Arrange
    position = _spy_expiring(("P", "380", Side.SELL), entry="-1.25")
    outcome = expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))

    # Act
    intent = expiration_intent(position, outcome)
    closed = apply_fill(position, intent, expiration_fill(outcome, intent.client_order_id, "expiry"))

    # Assert
    assert intent.effect is PositionEffect.CLOSE
    assert intent.position_id == position.position_id
    assert intent.legs == tuple(leg.closing() for leg in position.legs)
    assert intent == expiration_intent(position, outcome)
    assert closed.status is PositionStatus.CLOSED
    assert closed.net_realized_pnl == outcome.net_realized_pnl == Decimal("124.35")


def test_expiring_before_the_settlement_time_is_refused() -> None:
    position = _spy_expiring(("P", "380", Side.SELL))

    with pytest.raises(ExpirationError, match="settles at 2022-10-21T16:00:00-04:00"):
        expire_position(position, {"SPY": Decimal("374.29")}, at_et(SPY_EXPIRY, time(15, 59)))


def test_position_with_legs_of_two_expirations_is_refused() -> None:
    legs = (
        _leg("SPY", SPY_EXPIRY, "C", "380", Side.SELL),
        _leg("SPY", date(2022, 11, 18), "C", "380", Side.BUY),
    )
    position = _opened(legs, "-1.00", 1, "SPY")

    with pytest.raises(ExpirationError, match="legs expiring on"):
        expire_position(position, {"SPY": Decimal("374.29")}, _after_close(SPY_EXPIRY))


def test_missing_settlement_root_names_the_leg() -> None:
    position = _spx_iron_condor()

    with pytest.raises(SettlementDataError, match="no settlement price for root SPX"):
        expire_position(position, {"SPXW": Decimal("3752.75")}, _after_close(SPX_MONTHLY))


# --- early assignment before an ex-dividend date -----------------------------------------------------

JAN_2016 = date(2016, 1, 15)


def _short_call(
    strike: str, root: str = "SPY", underlying: str = "SPY", expiration: date = JAN_2016
) -> Position:
    return _opened((_leg(root, expiration, "C", strike, Side.SELL),), "-5.00", 2, underlying, "tp-short-call")


def _quote(position: Position, mid: str) -> pd.DataFrame:
    return pd.DataFrame({"occ_symbol": [position.legs[0].contract.occ_symbol], "mid": [float(mid)]})


def _spy_dividends() -> pd.Series:
    frame = pd.read_csv(MARKET_DATA / "dividends" / "SPY.csv", parse_dates=["ex_date"], index_col="ex_date")
    return frame["amount"]


@needs_market_data
def test_short_itm_spy_call_with_extrinsic_below_the_next_days_real_dividend_is_flagged() -> None:
    # Arrange: Thursday 2015-12-17, SPY closed at 204.86; the 1.212 dividend goes ex on Friday 2015-12-18
    today = date(2015, 12, 17)
    spot = daily_closes("SPY")[pd.Timestamp(today)]
    position = _short_call("190")
    quotes = _quote(position, "15.26")  # intrinsic 14.86, extrinsic 0.40

    # Act
    risks = early_assignment_risks([position], {"SPY": spot}, quotes, {"SPY": _spy_dividends()}, today)

    # Assert
    (risk,) = risks
    assert (risk.short_contracts, risk.intrinsic, risk.extrinsic) == (2, Decimal("14.86"), Decimal("0.40"))
    assert (risk.dividend, risk.ex_date) == (Decimal("1.212"), date(2015, 12, 18))
    assert risk.reason == (
        "short 2 SPY160115C00190000 is 14.86 in the money with extrinsic 0.40 below the 1.212 dividend"
        " going ex on 2015-12-18: likely assigned before the ex-date"
    )


@needs_market_data
def test_short_itm_spy_call_with_extrinsic_above_the_real_dividend_is_not_flagged() -> None:
    # Arrange: the same call worth 1.64 above intrinsic, more than the 1.212 dividend
    position = _short_call("190")

    # Act
    risks = early_assignment_risks(
        [position], {"SPY": 204.86}, _quote(position, "16.50"), {"SPY": _spy_dividends()}, date(2015, 12, 17)
    )

    # Assert
    assert risks == []


def test_dividend_two_sessions_away_is_flagged_only_within_a_two_session_horizon() -> None:
    # Arrange: Wednesday; ex-date Friday
    position = _short_call("190")
    dividends = {"SPY": pd.Series([1.212], index=pd.DatetimeIndex(["2015-12-18"]))}
    args = ([position], {"SPY": Decimal("204.86")}, _quote(position, "15.00"), dividends, date(2015, 12, 16))

    # Act
    next_session_only = early_assignment_risks(*args)
    two_sessions = early_assignment_risks(*args, within_sessions=2)

    # Assert
    assert next_session_only == []
    assert [risk.ex_date for risk in two_sessions] == [date(2015, 12, 18)]


def test_otm_short_call_and_european_spx_call_are_not_flagged() -> None:
    # Arrange
    otm = _short_call("210")
    spx = _short_call("1900", root="SPX", underlying="SPX")
    quotes = pd.concat([_quote(otm, "0.30"), _quote(spx, "150.10")])
    dividends = {"SPY": pd.Series([1.212], index=pd.DatetimeIndex(["2015-12-18"]))}

    # Act
    risks = early_assignment_risks(
        [otm, spx],
        {"SPY": Decimal("204.86"), "SPX": Decimal("2041.89")},
        quotes,
        dividends,
        date(2015, 12, 17),
    )

    # Assert
    assert risks == []


def test_short_itm_call_without_a_quote_is_flagged_as_unknown_extrinsic() -> None:
    # Arrange
    position = _short_call("190")
    dividends = {"SPY": pd.Series([1.212], index=pd.DatetimeIndex(["2015-12-18"]))}
    no_quotes = pd.DataFrame({"occ_symbol": [], "bid": [], "ask": []})

    # Act
    (risk,) = early_assignment_risks(
        [position], {"SPY": Decimal("204.86")}, no_quotes, dividends, date(2015, 12, 17)
    )

    # Assert
    assert risk.extrinsic is None
    assert "no quote, extrinsic unknown" in risk.reason


def test_short_call_expiring_before_the_last_cum_dividend_session_is_not_flagged() -> None:
    # Arrange: the call expires Wednesday; the dividend goes ex Friday (last cum session Thursday)
    position = _short_call("190", expiration=date(2015, 12, 16))
    dividends = {"SPY": pd.Series([1.212], index=pd.DatetimeIndex(["2015-12-18"]))}

    # Act
    risks = early_assignment_risks(
        [position], {"SPY": Decimal("204.86")}, _quote(position, "14.90"), dividends, date(2015, 12, 16), 2
    )

    # Assert
    assert risks == []
