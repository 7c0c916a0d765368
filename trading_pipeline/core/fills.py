"""Prices and fills: limit prices on the root's tick, and the paper market's modeled fill price and costs."""

from __future__ import annotations

import hashlib
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


#: The spread (% of mid, averaged over the legs) at which a fill gives up the whole `wide_spread_extra`.
WIDE_SPREAD_PCT = Decimal(20)
#: Implied vols from which `volatility_extra` starts to apply, and at which it applies in full.
CALM_IV, STRESSED_IV = 0.20, 0.60
_FRACTION = Decimal("0.0001")
_ONE_MILLION = Decimal(1_000_000)


def unit_draw(*key: object) -> Decimal:
    """A deterministic draw in [0, 1) from `key` (seeded paper fills: the same order at the same time
    always meets the same market)."""
    digest = hashlib.sha256("|".join(str(k) for k in key).encode()).hexdigest()
    return (Decimal(int(digest[:12], 16)) / Decimal(16**12)).quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class LegMarket:
    """What the market shows for one leg when an order meets it: its quote and its implied vol (None when
    unsolved), the inputs of the modeled fill price."""

    quote: LegQuote
    iv: float | None = None

    @property
    def spread_pct(self) -> Decimal:
        mid = (self.quote.bid + self.quote.ask) / 2
        return Decimal(100) * (self.quote.ask - self.quote.bid) / mid


@dataclass(frozen=True)
class FillModel:
    """How the paper market fills a structure, and what each fill costs.

    A marketable order meets a modeled price: mid worsened by a fraction of the half-spread, the base
    `slippage_fraction` plus more on wide spreads and high implied vol, plus a seeded jitter, so some limits
    rest and some never fill. Costs: commission, exchange and regulatory fees per contract, and the SEC fee
    (Section 31) on the proceeds of contracts sold.
    """

    slippage_fraction: Decimal = Decimal("0.25")
    commission_per_contract: Decimal = Decimal("0.65")
    exchange_fee_per_contract: Decimal = Decimal(0)
    regulatory_fee_per_contract: Decimal = Decimal(0)
    sec_fee_per_million: Decimal = Decimal(0)
    wide_spread_extra: Decimal = Decimal(0)
    volatility_extra: Decimal = Decimal(0)
    jitter: Decimal = Decimal(0)
    partial_fill_probability: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        for name in ("slippage_fraction", "wide_spread_extra", "volatility_extra", "jitter"):
            value = Decimal(getattr(self, name))
            if not Decimal(0) <= value <= Decimal(1):
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if not Decimal(0) <= Decimal(self.partial_fill_probability) <= Decimal(1):
            raise ValueError(
                f"partial_fill_probability must be within [0, 1], got {self.partial_fill_probability}"
            )
        for name in (
            "commission_per_contract",
            "exchange_fee_per_contract",
            "regulatory_fee_per_contract",
            "sec_fee_per_million",
        ):
            if Decimal(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")

    def leg_price(self, side: Side, quote: LegQuote) -> Decimal:
        """Fill price of one leg at the base fraction: buys pay above mid, sells receive below mid."""
        return price_toward_natural(side, quote, Decimal(self.slippage_fraction))

    def commission(self, legs: tuple[Leg, ...], quantity: int) -> Decimal:
        """The broker's commission alone for `quantity` structure units."""
        contracts = sum(leg.ratio for leg in legs) * quantity
        return to_money(Decimal(self.commission_per_contract) * contracts)

    def costs(self, legs: tuple[Leg, ...], leg_prices: tuple[Decimal, ...], quantity: int) -> Decimal:
        """Every cost of one fill, to the cent (each fee rounded up, as brokers charge them)."""
        contracts = sum(leg.ratio for leg in legs) * quantity
        per_contract = (
            Decimal(self.commission_per_contract)
            + Decimal(self.exchange_fee_per_contract)
            + Decimal(self.regulatory_fee_per_contract)
        )
        proceeds = sum(
            (
                price * leg.ratio * quantity * leg.contract.multiplier
                for leg, price in zip(legs, leg_prices, strict=True)
                if leg.side is Side.SELL
            ),
            Decimal(0),
        )
        sec_fee = proceeds * Decimal(self.sec_fee_per_million) / _ONE_MILLION
        return to_money(
            on_tick(per_contract * contracts, CENT, ROUND_CEILING) + on_tick(sec_fee, CENT, ROUND_CEILING)
        )

    def fraction(self, markets: tuple[LegMarket, ...], key: tuple[object, ...]) -> Decimal:
        """The share of the half-spread the market takes from a fill now: base, wide spreads, high vol and a
        seeded jitter in [-jitter, +jitter], within [0, 1]."""
        spread = sum((m.spread_pct for m in markets), Decimal(0)) / len(markets)
        ivs = [m.iv for m in markets if m.iv is not None and m.iv == m.iv]
        iv = sum(ivs) / len(ivs) if ivs else CALM_IV
        stress = min(max((iv - CALM_IV) / (STRESSED_IV - CALM_IV), 0.0), 1.0)
        value = (
            Decimal(self.slippage_fraction)
            + Decimal(self.wide_spread_extra) * min(spread / WIDE_SPREAD_PCT, Decimal(1))
            + Decimal(self.volatility_extra) * Decimal(str(round(stress, 6)))
            + Decimal(self.jitter) * (2 * unit_draw("fraction", *key) - 1)
        )
        return min(max(value, Decimal(0)), Decimal(1)).quantize(_FRACTION)

    def fill_quantity(self, remaining: int, key: tuple[object, ...]) -> int:
        """How many of `remaining` units one fill takes: all, or with `partial_fill_probability` a seeded
        share of them (at least one, never all)."""
        if remaining < 2 or unit_draw("partial", *key) >= Decimal(self.partial_fill_probability):
            return remaining
        return 1 + int(unit_draw("size", *key) * (remaining - 1))


@dataclass(frozen=True)
class StructureFill:
    """Result of filling a structure: per-leg prices, signed net value per unit and every cost of the fill."""

    leg_prices: tuple[Decimal, ...]
    net_value: Decimal
    commission: Decimal


def fill_structure(
    model: FillModel,
    legs: tuple[Leg, ...],
    quotes: tuple[LegQuote, ...],
    quantity: int,
    fraction: Decimal | None = None,
) -> StructureFill:
    """Fill every leg `fraction` of the way to natural (the model's base when None) and report the signed
    net value (negative for a credit) and the fill's costs."""
    share = Decimal(model.slippage_fraction) if fraction is None else fraction
    prices = tuple(price_toward_natural(leg.side, q, share) for leg, q in zip(legs, quotes, strict=True))
    return StructureFill(
        leg_prices=prices,
        net_value=to_money(structure_value(legs, prices)),
        commission=model.costs(legs, prices, quantity),
    )


def fill_at_limit(
    model: FillModel, legs: tuple[Leg, ...], met: StructureFill, limit: Decimal, quantity: int
) -> StructureFill:
    """A resting limit the market came to fills at its limit: the modeled leg prices with the first leg moved
    by the difference, so the legs add up to the limit exactly."""
    gap = to_money(limit) - met.net_value
    first = legs[0]
    prices = (met.leg_prices[0] + gap * first.side.sign / first.ratio, *met.leg_prices[1:])
    return StructureFill(prices, to_money(structure_value(legs, prices)), model.costs(legs, prices, quantity))


def limit_is_marketable(limit_price: Decimal, net_value: Decimal) -> bool:
    """A limit (signed net value, + debit / - credit) fills if the fill costs no more than it."""
    return net_value <= limit_price
