"""Expiration of option positions: settlement prices, cash settlement, exercise and assignment.

Pure: the caller passes the expiration day's prices and `now`. Index options (SPX, SPXW, ...) are European
and cash-settled at intrinsic value; ETF options (SPY, QQQ, IWM) are physically settled: OCC exercises
every contract in the money by at least $0.01 (exercise by exception), so a long leg is exercised and a
short leg assigned, the option closes at zero and 100 shares per contract change hands at the strike.
Contrary exercise instructions and after-hours moves are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import pandas as pd

from trading_pipeline.core.calendar import ET, expiration_datetime, is_am_settled
from trading_pipeline.core.expirations import on_or_before_session
from trading_pipeline.core.instruments import (
    EUROPEAN_ROOTS,
    INDEX_ROOTS,
    Leg,
    OptionContract,
    contract_multiplier,
    to_money,
)
from trading_pipeline.core.orders import OrderIntent, PositionEffect, make_client_order_id
from trading_pipeline.core.pnl import structure_pnl, structure_value
from trading_pipeline.core.positions import Fill, Position, PositionStatus

#: OCC exercises by exception every expiring contract in the money by at least this much.
EXERCISE_THRESHOLD = Decimal("0.01")
#: Prefix of the deterministic fill id of an expiration: expiry-<position_id>-<yyyy-mm-dd>.
EXPIRY_FILL_PREFIX = "expiry-"
#: Decision key of an expiration's closing intent (one per position and expiration day).
EXPIRY_DECISION_KEY = "expiration"
ZERO = Decimal("0")


class SettlementDataError(ValueError):
    """The expiration day's price is missing or unusable, named by root, date and field."""


class ExpirationError(ValueError):
    """A position that cannot be expired as asked (closed, not yet settled, legs of several expirations)."""


class SettlementAction(StrEnum):
    """What happened to an expiring leg."""

    CASH_SETTLED = "CASH_SETTLED"  # index option in the money: closed at intrinsic value in cash
    EXERCISED = "EXERCISED"  # long ETF option in the money: shares delivered at the strike
    ASSIGNED = "ASSIGNED"  # short ETF option in the money: shares delivered at the strike
    EXPIRED_WORTHLESS = "EXPIRED_WORTHLESS"  # out of the money (or by less than a cent): closed at zero


def is_cash_settled(root: str) -> bool:
    """Whether options on `root` settle in cash (European index options) rather than by share delivery."""
    symbol = root.strip().upper()
    return symbol in INDEX_ROOTS or symbol in EUROPEAN_ROOTS


def intrinsic_value(contract: OptionContract, underlying_price: Decimal) -> Decimal:
    """Per-share value of exercising `contract` at `underlying_price` (zero when out of the money)."""
    gain = underlying_price - contract.strike if contract.is_call else contract.strike - underlying_price
    return max(gain, ZERO)


def settlement_price(root: str, expiration: date, bars: pd.DataFrame) -> Decimal:
    """The underlying price an expiration of `root` settles at, from daily bars (columns open, close) by date.

    AM-settled roots (SPX monthlies) settle at the expiration day's OPEN: the real value is Cboe's special
    opening quotation (SOQ) built from each constituent's opening trade, for which the index's daily open is
    our proxy (they can differ by a few points). PM-settled roots (SPXW, every ETF option) settle at the
    CLOSE. A Saturday-dated (pre-2015) monthly settles on the session before; the price is rounded to cents.
    """
    session = on_or_before_session(expiration)
    field = "open" if is_am_settled(root) else "close"
    if field not in bars.columns:
        raise SettlementDataError(
            f"{root} {expiration.isoformat()} settles at the {field}; bars have columns {list(bars.columns)}"
        )
    rows = bars.loc[pd.to_datetime(bars.index) == pd.Timestamp(session), field]
    if rows.empty:
        raise SettlementDataError(
            f"{root} {expiration.isoformat()}: no bar for session {session.isoformat()}"
        )
    value = rows.iloc[0]
    if pd.isna(value) or not float(value) > 0:
        raise SettlementDataError(f"{root} {session.isoformat()}: field {field!r} has {value!r}")
    return to_money(value)


@dataclass(frozen=True)
class ExpirationFees:
    """Per-contract fees charged on expiration (brokers differ); expiring worthless is free."""

    cash_settlement: Decimal = ZERO
    exercise: Decimal = ZERO
    assignment: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("cash_settlement", "exercise", "assignment"):
            value = Decimal(str(getattr(self, name)))
            if value < 0:
                raise ValueError(f"expiration fee {name} must be >= 0, got {value}")
            object.__setattr__(self, name, value)

    def per_contract(self, action: SettlementAction) -> Decimal:
        return {
            SettlementAction.CASH_SETTLED: self.cash_settlement,
            SettlementAction.EXERCISED: self.exercise,
            SettlementAction.ASSIGNED: self.assignment,
        }.get(action, ZERO)


NO_FEES = ExpirationFees()


@dataclass(frozen=True)
class StockDelivery:
    """Shares that change hands at the strike when an ETF option is exercised or assigned (one stock lot).

    `shares` is signed: + received (bought), - delivered (sold); `price`, the strike, is the cost basis.
    """

    underlying: str
    shares: int
    price: Decimal
    acquired_at: datetime
    position_id: str
    occ_symbol: str

    @property
    def cash(self) -> Decimal:
        """Cash that moves with the delivery: paid (-) for shares received, received (+) for shares given."""
        return -self.shares * self.price


@dataclass(frozen=True)
class NetDelivery:
    """Deliveries of one underlying netted: shares and cash summed exactly.

    With zero net shares (both legs of a vertical exercised/assigned) `cash` is the deliveries' realized
    result, the spread's width; otherwise the net shares cost -`cash` (net-cost basis).
    """

    underlying: str
    shares: int
    cash: Decimal


def net_deliveries(deliveries: Iterable[StockDelivery]) -> tuple[NetDelivery, ...]:
    """Deliveries summed per underlying (shares and cash), by underlying."""
    shares: dict[str, int] = {}
    cash: dict[str, Decimal] = {}
    for delivery in deliveries:
        shares[delivery.underlying] = shares.get(delivery.underlying, 0) + delivery.shares
        cash[delivery.underlying] = cash.get(delivery.underlying, ZERO) + delivery.cash
    return tuple(NetDelivery(u, shares[u], cash[u]) for u in sorted(shares))


@dataclass(frozen=True)
class LegSettlement:
    """One expiring leg: its signed contracts, intrinsic value per share, the price it closes at and why."""

    leg: Leg
    contracts: int  # signed: + long, - short (leg ratio x position quantity)
    settlement_price: Decimal
    intrinsic: Decimal
    closing_price: Decimal  # intrinsic when cash-settled, zero when delivered or worthless
    action: SettlementAction
    fee: Decimal


@dataclass(frozen=True)
class ExpirationOutcome:
    """A position's expiration as one closing fill of all its units plus any stock deliveries.

    `closing_net_value` is per unit in the fill sign convention (+ debit paid, - credit received);
    `gross_pnl` is realized on the expiring units; `net_realized_pnl` is the whole position's realized P&L
    after expiry net of every commission and fee, what reduce_position books for expiration_fill.
    """

    position_id: str
    expiration: date
    settled_at: datetime
    quantity: int
    legs: tuple[LegSettlement, ...]
    closing_net_value: Decimal
    fees: Decimal
    deliveries: tuple[StockDelivery, ...]
    gross_pnl: Decimal
    net_realized_pnl: Decimal

    @property
    def fill_id(self) -> str:
        """Deterministic fill id: a rerun of the end-of-day job records the same fill, never a second one."""
        return f"{EXPIRY_FILL_PREFIX}{self.position_id}-{self.expiration.isoformat()}"

    @property
    def leg_prices(self) -> tuple[Decimal, ...]:
        """Per-leg closing prices in the position's leg order (unsigned, as brokers report them)."""
        return tuple(leg.closing_price for leg in self.legs)


def expiration_session(position: Position) -> date:
    """The session on which the position's legs expire; ExpirationError when they expire on several."""
    sessions = {on_or_before_session(leg.contract.expiration) for leg in position.legs}
    if len(sessions) != 1:
        raise ExpirationError(
            f"position {position.position_id} has legs expiring on {sorted(d.isoformat() for d in sessions)}:"
            " a structure-level position cannot expire some legs and keep others"
        )
    return sessions.pop()


def settlement_prices(position: Position, bars: pd.DataFrame) -> dict[str, Decimal]:
    """Settlement price per option root of the position's legs, from the underlying's daily bars."""
    expiration = expiration_session(position)
    return {
        root: settlement_price(root, expiration, bars)
        for root in {leg.contract.root for leg in position.legs}
    }


def expire_position(
    position: Position, settlement: Mapping[str, Decimal], now: datetime, fees: ExpirationFees = NO_FEES
) -> ExpirationOutcome:
    """Settle every unit of an expired position: cash at intrinsic, deliveries at the strike, or worthless.

    `settlement` maps each leg's OCC root to its settlement price (SPX and SPXW differ on a third Friday).
    Refuses before the settlement time and for positions whose legs expire on different days.
    """
    if now.tzinfo is None:
        raise ExpirationError(f"now must be timezone-aware, got {now.isoformat()}")
    if position.status is PositionStatus.CLOSED or position.quantity < 1:
        raise ExpirationError(f"position {position.position_id} is already closed")
    expiration = expiration_session(position)
    settled_at = max(expiration_datetime(expiration, leg.contract.root) for leg in position.legs)
    if now < settled_at:
        raise ExpirationError(
            f"position {position.position_id} settles at {settled_at.astimezone(ET).isoformat()}, "
            f"not yet at {now.astimezone(ET).isoformat()}"
        )
    legs = tuple(
        _settle_leg(leg, position.quantity, _price_of(settlement, leg), fees) for leg in position.legs
    )
    closing_net_value = to_money(-structure_value(position.legs, [leg.closing_price for leg in legs]))
    fee_total = to_money(sum((leg.fee for leg in legs), ZERO))
    gross = structure_pnl(position.entry_value, -closing_net_value, position.quantity, position.multiplier)
    deliveries = tuple(
        StockDelivery(
            underlying=position.underlying,
            shares=_delivered_shares(leg),
            price=leg.leg.contract.strike,
            acquired_at=settled_at,
            position_id=position.position_id,
            occ_symbol=leg.leg.contract.occ_symbol,
        )
        for leg in legs
        if leg.action in (SettlementAction.EXERCISED, SettlementAction.ASSIGNED)
    )
    return ExpirationOutcome(
        position_id=position.position_id,
        expiration=expiration,
        settled_at=settled_at,
        quantity=position.quantity,
        legs=legs,
        closing_net_value=closing_net_value,
        fees=fee_total,
        deliveries=deliveries,
        gross_pnl=gross,
        net_realized_pnl=position.realized_pnl + gross - position.fees - fee_total,
    )


def _price_of(settlement: Mapping[str, Decimal], leg: Leg) -> Decimal:
    root = leg.contract.root
    if root not in settlement:
        raise SettlementDataError(
            f"no settlement price for root {root} ({leg.contract.occ_symbol}); given for {sorted(settlement)}"
        )
    return Decimal(str(settlement[root]))


def _settle_leg(leg: Leg, quantity: int, price: Decimal, fees: ExpirationFees) -> LegSettlement:
    contract = leg.contract
    intrinsic = intrinsic_value(contract, price)
    contracts = leg.signed_ratio * quantity
    if intrinsic < EXERCISE_THRESHOLD:
        action, closing_price = SettlementAction.EXPIRED_WORTHLESS, ZERO
    elif is_cash_settled(contract.root):
        action, closing_price = SettlementAction.CASH_SETTLED, intrinsic
    else:
        action = SettlementAction.EXERCISED if contracts > 0 else SettlementAction.ASSIGNED
        closing_price = ZERO
    fee = fees.per_contract(action) * abs(contracts)
    return LegSettlement(leg, contracts, price, intrinsic, closing_price, action, fee)


def _delivered_shares(settled: LegSettlement) -> int:
    """Long call exercised or short put assigned receives shares; long put exercised or short call assigned
    delivers them."""
    contract = settled.leg.contract
    direction = 1 if contract.is_call else -1
    return settled.contracts * direction * contract_multiplier(contract.root)


def expiration_fill(outcome: ExpirationOutcome, client_order_id: str, broker_order_id: str) -> Fill:
    """The closing fill that records an expiration through the normal fill path (reduce_position)."""
    return Fill(
        fill_id=outcome.fill_id,
        client_order_id=client_order_id,
        broker_order_id=broker_order_id,
        filled_at=outcome.settled_at,
        quantity=outcome.quantity,
        net_value=outcome.closing_net_value,
        leg_prices=outcome.leg_prices,
        commission=outcome.fees,
    )


def expiration_intent(position: Position, outcome: ExpirationOutcome) -> OrderIntent:
    """The closing intent an expiration fill belongs to, with a deterministic client order id.

    It records what happened and must never be sent to a broker: store it together with its fill as FILLED.
    """
    legs = tuple(leg.closing() for leg in position.legs)
    key = f"{EXPIRY_DECISION_KEY}:{position.position_id}"
    return OrderIntent(
        client_order_id=make_client_order_id(
            position.strategy, outcome.expiration, key, legs, PositionEffect.CLOSE
        ),
        strategy=position.strategy,
        session=outcome.expiration,
        decision_time=outcome.settled_at,
        underlying=position.underlying,
        legs=legs,
        quantity=outcome.quantity,
        limit_price=outcome.closing_net_value,
        effect=PositionEffect.CLOSE,
        position_id=position.position_id,
        reason=f"expiration {outcome.expiration.isoformat()}: "
        + ", ".join(
            f"{leg.leg.contract.occ_symbol.replace(' ', '')} {leg.action.value}" for leg in outcome.legs
        ),
        tags={"kind": EXPIRY_DECISION_KEY},
    )
