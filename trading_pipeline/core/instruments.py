"""Option contracts, legs and OCC symbols: the one place that knows symbol format and multipliers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

import pandas as pd

#: Shares per contract for every root we trade (equity ETFs and SPX index options alike).
CONTRACT_MULTIPLIER = 100

#: Roots whose options are cash-settled index options (matters for expiration handling).
INDEX_ROOTS = frozenset({"SPX", "SPXW", "XSP", "NDX", "RUT", "VIX"})

#: Roots whose options are European-exercise (cash-settled index and VIX options); every other root
#: (SPY, QQQ, IWM and other equity or ETF options) is American and may be exercised before expiry.
EUROPEAN_ROOTS = frozenset({"SPX", "SPXW", "XSP", "NDX", "NDXP", "RUT", "RUTW", "VIX", "VIXW"})


def is_american(root: str) -> bool:
    """Whether options on `root` are American-exercise (equity and ETF roots) rather than European."""
    return root.strip().upper() not in EUROPEAN_ROOTS


def occ_roots(symbols: pd.Series) -> pd.Series:
    """The root of each canonical OCC symbol (the padded six characters before date, right and strike)."""
    return symbols.str[:-15].str.strip()


_OCC_PATTERN = re.compile(r"^(?P<root>[A-Z0-9]{1,6}) *(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")
_CENT = Decimal("0.01")


class Right(StrEnum):
    """Call or put, spelled as in OCC symbols."""

    CALL = "C"
    PUT = "P"


class Side(StrEnum):
    """Direction of a leg or an order: buying adds long exposure, selling adds short exposure."""

    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for long exposure, -1 for short exposure."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OccSymbolError(ValueError):
    """An OCC option symbol that does not follow the OCC 21-character layout."""


def contract_multiplier(root: str) -> int:
    """Shares (or index units) delivered per contract; one place for every multiplier decision."""
    del root  # every root we support today uses the standard multiplier
    return CONTRACT_MULTIPLIER


def to_money(value: Decimal | float | int | str) -> Decimal:
    """Round a price or amount to whole cents as a Decimal (never a float in the ledger)."""
    return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)


def format_occ_symbol(root: str, expiration: date, right: Right | str, strike: Decimal | float) -> str:
    """Format an OCC symbol: root padded to 6, yymmdd, C/P, strike x 1000 in 8 digits."""
    root = root.strip().upper()
    if not 1 <= len(root) <= 6 or not root.isalnum():
        raise OccSymbolError(f"root must be 1-6 letters or digits, got {root!r}")
    strike_thousandths = Decimal(str(strike)) * 1000
    if strike_thousandths != strike_thousandths.to_integral_value() or not (
        0 < strike_thousandths < 100_000_000
    ):
        raise OccSymbolError(f"strike must be positive with at most 3 decimals and < 100000, got {strike}")
    return f"{root:<6}{expiration:%y%m%d}{Right(right).value}{int(strike_thousandths):08d}"


@dataclass(frozen=True, order=True)
class OptionContract:
    """A listed option: root, expiration, strike and right; the multiplier comes from the root."""

    root: str
    expiration: date
    strike: Decimal
    right: Right

    def __post_init__(self) -> None:
        object.__setattr__(self, "strike", Decimal(str(self.strike)))
        object.__setattr__(self, "right", Right(self.right))
        object.__setattr__(self, "root", self.root.strip().upper())

    @property
    def occ_symbol(self) -> str:
        return format_occ_symbol(self.root, self.expiration, self.right, self.strike)

    @property
    def multiplier(self) -> int:
        return contract_multiplier(self.root)

    @property
    def is_call(self) -> bool:
        return self.right is Right.CALL

    @classmethod
    def from_occ(cls, symbol: str) -> OptionContract:
        """Parse an OCC symbol (padded or compact) into a contract, naming the bad part on error."""
        match = _OCC_PATTERN.match(symbol.strip().upper())
        if match is None:
            raise OccSymbolError(f"not an OCC option symbol: {symbol!r}")
        try:
            raw = match["date"]
            expiration = date(2000 + int(raw[:2]), int(raw[2:4]), int(raw[4:6]))
        except ValueError as exc:
            raise OccSymbolError(f"bad expiration {match['date']!r} in {symbol!r}") from exc
        # Exact thousandths without exponent notation (normalize() would turn 200 into 2E+2).
        strike = Decimal(int(match["strike"])).scaleb(-3)
        strike = strike.quantize(Decimal(1)) if strike == strike.to_integral_value() else strike.normalize()
        if strike <= 0:
            raise OccSymbolError(f"strike must be positive in {symbol!r}")
        return cls(match["root"], expiration, strike, Right(match["right"]))


def parse_occ_symbol(symbol: str) -> OptionContract:
    """Parse an OCC symbol into an OptionContract."""
    return OptionContract.from_occ(symbol)


def canonical_occ_symbol(text: str) -> str:
    """The project's one OCC form (root padded to 6) of a compact or padded vendor symbol, so chains,
    orders and marks key the same contract by the same text; OccSymbolError names the text."""
    return parse_occ_symbol(text).occ_symbol


@dataclass(frozen=True)
class Leg:
    """One leg of a structure: a contract, a side and a ratio of contracts per structure unit."""

    contract: OptionContract
    side: Side
    ratio: int = 1

    def __post_init__(self) -> None:
        if self.ratio < 1:
            raise ValueError(f"leg ratio must be >= 1, got {self.ratio}")
        object.__setattr__(self, "side", Side(self.side))

    @property
    def signed_ratio(self) -> int:
        """Contracts per unit, positive when long and negative when short."""
        return self.side.sign * self.ratio

    def closing(self) -> Leg:
        """The leg that closes this one."""
        return Leg(self.contract, self.side.opposite, self.ratio)


def legs_to_json(legs: tuple[Leg, ...]) -> list[dict[str, Any]]:
    """Legs as [{occ_symbol, side, ratio}]: the OCC symbol carries root, expiry, right and strike."""
    return [
        {"occ_symbol": leg.contract.occ_symbol, "side": leg.side.value, "ratio": leg.ratio} for leg in legs
    ]


def legs_from_json(data: list[dict[str, Any]]) -> tuple[Leg, ...]:
    """Legs rebuilt from their OCC symbols (inverse of legs_to_json)."""
    return tuple(
        Leg(OptionContract.from_occ(item["occ_symbol"]), Side(item["side"]), int(item["ratio"]))
        for item in data
    )


def contract_quantities(legs: tuple[Leg, ...], quantity: int) -> dict[str, int]:
    """Signed contracts per OCC symbol held by `quantity` units of a structure (+ long, - short)."""
    return net_contracts([(legs, quantity)])


def net_contracts(holdings: Iterable[tuple[tuple[Leg, ...], int]]) -> dict[str, int]:
    """Signed contracts per OCC symbol over (legs, units) holdings; symbols that net to zero are left out."""
    held: dict[str, int] = {}
    for legs, quantity in holdings:
        for leg in legs:
            symbol = leg.contract.occ_symbol
            held[symbol] = held.get(symbol, 0) + leg.signed_ratio * quantity
    return {symbol: quantity for symbol, quantity in held.items() if quantity}
