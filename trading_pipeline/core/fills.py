"""Paper fill model: each leg fills at mid plus a fraction of the half-spread toward the natural side."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from trading_pipeline.core.instruments import Leg, Side, to_money
from trading_pipeline.core.pnl import structure_value


@dataclass(frozen=True)
class LegQuote:
    """Bid and ask of one contract at fill time."""

    bid: Decimal
    ask: Decimal

    def __post_init__(self) -> None:
        bid, ask = Decimal(str(self.bid)), Decimal(str(self.ask))
        if bid < 0 or ask <= 0 or bid > ask:
            raise ValueError(f"quote must satisfy 0 <= bid <= ask and ask > 0, got bid={bid} ask={ask}")
        object.__setattr__(self, "bid", bid)
        object.__setattr__(self, "ask", ask)


CENT = Decimal("0.01")


def price_toward_natural(side: Side, quote: LegQuote, fraction: Decimal) -> Decimal:
    """Mid moved `fraction` of the half-spread toward the natural side (0 = mid, 1 = bid/ask).

    Sub-cent results round against us (buys up, sells down), so paper fills are never optimistic.
    """
    mid = (quote.bid + quote.ask) / 2
    half_spread = (quote.ask - quote.bid) / 2
    price = mid + side.sign * Decimal(fraction) * half_spread
    return price.quantize(CENT, rounding=ROUND_CEILING if side is Side.BUY else ROUND_FLOOR)


def structure_price(legs: tuple[Leg, ...], quotes: tuple[LegQuote, ...], fraction: Decimal) -> Decimal:
    """Signed net value of a structure priced `fraction` of the way from mid to natural."""
    prices = [price_toward_natural(leg.side, q, fraction) for leg, q in zip(legs, quotes, strict=True)]
    return to_money(structure_value(legs, prices))


#: Roots whose options trade in nickels under $3 and dimes from $3 (Cboe SPX rules); every other root we
#: trade (SPY, QQQ, IWM: the penny program) trades in cents.
NICKEL_DIME_ROOTS = frozenset({"SPX", "SPXW"})
NICKEL, DIME, NICKEL_DIME_BREAK = Decimal("0.05"), Decimal("0.10"), Decimal("3")


def price_tick(root: str, price: Decimal) -> Decimal:
    """The price increment of an order on `root` at `price` (its absolute value)."""
    if root.strip().upper() in NICKEL_DIME_ROOTS:
        return NICKEL if abs(price) < NICKEL_DIME_BREAK else DIME
    return CENT


def on_tick(value: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (value / tick).to_integral_value(rounding=rounding) * tick


def limit_price(legs: tuple[Leg, ...], quotes: tuple[LegQuote, ...], fraction: Decimal) -> Decimal:
    """The limit to send: the structure priced `fraction` of the way to natural, on the root's tick.

    It rounds toward the natural side (a fill is never made less likely), but never past the natural: then
    toward the mid while it stays at or beyond the mid, else the natural itself (quoted prices)."""
    raw = structure_price(legs, quotes, fraction)
    tick = price_tick(legs[0].contract.root, raw)
    rounded = on_tick(raw, tick, ROUND_CEILING)
    natural = structure_price(legs, quotes, Decimal(1))
    if rounded > natural:
        toward_mid = on_tick(raw, tick, ROUND_FLOOR)
        rounded = toward_mid if toward_mid >= structure_price(legs, quotes, Decimal(0)) else natural
    return to_money(rounded)


@dataclass(frozen=True)
class FillModel:
    """Slippage is the fraction (0 = mid, 1 = natural) of the half-spread paid on each leg."""

    slippage_fraction: Decimal = Decimal("0.25")
    commission_per_contract: Decimal = Decimal("0.65")

    def __post_init__(self) -> None:
        if not Decimal(0) <= Decimal(self.slippage_fraction) <= Decimal(1):
            raise ValueError(f"slippage_fraction must be within [0, 1], got {self.slippage_fraction}")
        if Decimal(self.commission_per_contract) < 0:
            raise ValueError(f"commission_per_contract must be >= 0, got {self.commission_per_contract}")

    def leg_price(self, side: Side, quote: LegQuote) -> Decimal:
        """Fill price of one leg: buys pay above mid, sells receive below mid."""
        return price_toward_natural(side, quote, Decimal(self.slippage_fraction))

    def commission(self, legs: tuple[Leg, ...], quantity: int) -> Decimal:
        """Total commission for `quantity` structure units."""
        contracts = sum(leg.ratio for leg in legs) * quantity
        return to_money(Decimal(self.commission_per_contract) * contracts)


@dataclass(frozen=True)
class StructureFill:
    """Result of filling a structure: per-leg prices, signed net value per unit and commission."""

    leg_prices: tuple[Decimal, ...]
    net_value: Decimal
    commission: Decimal


def fill_structure(
    model: FillModel, legs: tuple[Leg, ...], quotes: tuple[LegQuote, ...], quantity: int
) -> StructureFill:
    """Fill every leg with the model and report the signed net value (negative for a credit)."""
    prices = tuple(model.leg_price(leg.side, q) for leg, q in zip(legs, quotes, strict=True))
    return StructureFill(
        leg_prices=prices,
        net_value=to_money(structure_value(legs, prices)),
        commission=model.commission(legs, quantity),
    )


def limit_is_marketable(limit_price: Decimal, net_value: Decimal) -> bool:
    """A limit (signed net value, + debit / - credit) fills if the fill costs no more than it."""
    return net_value <= limit_price
