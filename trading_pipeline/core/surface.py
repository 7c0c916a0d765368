"""The implied-vol surface of listed contracts and the quotes derived from it; shared by sim and replay.

The VIX family are variance-swap rates (VIX9D ~ 9 days, VIX ~ 30, VIX3M ~ 93). Between those points total
variance is interpolated linearly (flat forward variance); beyond the last one the forward variance reverts
to a long-run level. The smile, in standardized moneyness m = ln(K/F) / (atm sqrt(T)), is
atm * (1 + SKEW m + curve m^2). ATM vol is the variance-swap vol times VARIANCE_SWAP_TO_ATM, the skew gap seen
on real chains (ATM 30-day vol 1.5-3.5 vol points below the VIX at VIX 13-30).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from trading_pipeline.core.calendar import ET, UTC, is_session, session_close, session_open, years_to_expiry
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.chain import QUOTE_COLUMNS
from trading_pipeline.core.instruments import format_occ_symbol, is_american
from trading_pipeline.core.listing import ListedExpiration, Listing
from trading_pipeline.core.option_quotes import (
    DEFAULT_QUOTE_RULES,
    QUOTE_RULES,
    QuoteRules,
    bid_ask,
    display_sizes,
    hash_uniform,
    open_interest,
    session_volume,
)
from trading_pipeline.core.pricing import bsm_price

Floats = NDArray[np.float64]
DAYS_PER_YEAR = 365.0
#: Maturities (years) of the VIX9D, VIX and VIX3M variance-swap rates.
VIX9D_YEARS, VIX_YEARS, VIX3M_YEARS = 9 / DAYS_PER_YEAR, 30 / DAYS_PER_YEAR, 93 / DAYS_PER_YEAR
#: Beyond the last index point, forward variance reverts to this variance-swap vol at this speed (per year).
LONG_RUN_VARIANCE_SWAP_VOL = 0.21
TERM_REVERSION_PER_YEAR = 2.0
#: Smallest forward vol between two index points: a steep inversion never implies negative forward variance.
MIN_FORWARD_VOL = 0.04
#: Smile: vol = atm * clip(1 + SKEW m + curve m^2) in standardized moneyness m, curving up on the call side;
#: fitted to the Cboe SPX chain of 2023-09-14 (-10%/-5%/+3% strikes, 22-92 days; docs/market_calibration.md).
SKEW = -0.30
PUT_CURVE = 0.005
CALL_CURVE = 0.15
SMILE_RATIO_BOUNDS = (0.5, 3.0)
VOL_BOUNDS = (0.04, 3.0)
#: 30-day ATM vol over the VIX (a variance-swap rate, which the put skew lifts above ATM vol). Measured on the
#: recorded chains in ../shared/data/market/chains: 0.77 (SPX 2023-06-09), 0.83 (SPX 2023-09-14), 0.85 (SPY
#: 2015-01-05), all at VIX 13-20; the gap narrows in relative terms as the VIX rises, hence a little higher.
VARIANCE_SWAP_TO_ATM = 0.88
#: ATM vol of each underlying relative to the S&P 500's (QQQ and IWM trade at a premium to the VIX).
VOL_MULTIPLIERS = {"SPY": 1.0, "SPX": 1.0, "QQQ": 1.25, "IWM": 1.3}
#: Hash salts for per-contract quantities (open interest, volume, displayed size).
OI_SALT, VOLUME_SALT, BID_SIZE_SALT, ASK_SIZE_SALT = 11, 12, 13, 14
STRIKE_KEY_SCALE = 1000
_occ_symbol = lru_cache(maxsize=1 << 17)(format_occ_symbol)


@dataclass(frozen=True)
class TermStructure:
    """The VIX term structure in vol points; VIX9D (from 2011) and VIX3M (from 2009) may be unknown."""

    vix9d: float | None
    vix: float
    vix3m: float | None


def smile_ratio(m: ArrayLike) -> Floats:
    """Vol relative to ATM at standardized moneyness m: put skew plus curvature, bounded."""
    m = np.asarray(m, dtype=np.float64)
    curve = np.where(m < 0, PUT_CURVE, CALL_CURVE)
    return np.clip(1.0 + SKEW * m + curve * m * m, *SMILE_RATIO_BOUNDS)


def average_variance(
    start_variance: ArrayLike, long_run_variance: ArrayLike, reversion: float, years: ArrayLike
) -> Floats:
    """Mean over `years` of a variance reverting from `start_variance` to `long_run_variance` at `reversion`
    per year: theta + (v0 - theta) (1 - e^{-k T}) / (k T). One formula for the surface and the simulator."""
    kt = reversion * np.maximum(np.asarray(years, dtype=np.float64), 1e-12)
    weight = -np.expm1(-kt) / kt
    return (
        np.asarray(long_run_variance) + (np.asarray(start_variance) - np.asarray(long_run_variance)) * weight
    )


def variance_swap_vol(t: ArrayLike, vol_index_level: float, term: TermStructure) -> Floats:
    """Variance-swap vol (decimal) by maturity from the term structure, scaled so that 30 days gives
    `vol_index_level`: flat before the first point, flat forward variance between points, mean-reverting
    forward variance beyond the last."""
    if not (np.isfinite(term.vix) and term.vix > 0):
        raise ValueError(f"term structure VIX must be a positive number, got {term.vix!r}")
    years = np.asarray(t, dtype=np.float64)
    scale = vol_index_level / term.vix
    points = [(VIX9D_YEARS, term.vix9d), (VIX_YEARS, term.vix), (VIX3M_YEARS, term.vix3m)]
    known = [(tenor, level * scale / 100.0) for tenor, level in points if level is not None and level > 0]
    tenors = np.array([tenor for tenor, _ in known])
    total = np.array([vol * vol * tenor for tenor, vol in known])
    for i in range(1, len(total)):
        total[i] = max(total[i], total[i - 1] + MIN_FORWARD_VOL**2 * (tenors[i] - tenors[i - 1]))
    last_tenor, last_total = tenors[-1], total[-1]
    inside = np.interp(years, tenors, total) * np.where(years < tenors[0], years / tenors[0], 1.0)
    beyond_years = np.maximum(years - last_tenor, 0.0)
    beyond = last_total + beyond_years * average_variance(
        last_total / last_tenor, LONG_RUN_VARIANCE_SWAP_VOL**2, TERM_REVERSION_PER_YEAR, beyond_years
    )
    variance = np.where(years > last_tenor, beyond, inside) / np.maximum(years, 1e-12)
    return np.sqrt(np.where(years > 0, variance, known[0][1] ** 2))


def atm_vol(underlying: str, t: ArrayLike, vol_index_level: float, term: TermStructure) -> Floats:
    """At-the-money implied vol by maturity: the variance-swap vol less the skew gap, times the underlying's
    multiple of S&P 500 vol."""
    multiplier = _vol_multiplier(underlying)
    vol = variance_swap_vol(t, vol_index_level, term) * VARIANCE_SWAP_TO_ATM * multiplier
    return np.clip(vol, *VOL_BOUNDS)


def standardized_moneyness(atm: ArrayLike, t: ArrayLike, log_moneyness: ArrayLike) -> Floats:
    """ln(K/F) in units of the ATM standard deviation to expiry."""
    return np.asarray(log_moneyness) / (np.asarray(atm) * np.sqrt(np.maximum(t, 1e-6)))


def smile_vol(atm: ArrayLike, t: ArrayLike, log_moneyness: ArrayLike) -> Floats:
    """Vol at log-forward-moneyness ln(K/F): put skew plus smile in standardized moneyness."""
    ratio = smile_ratio(standardized_moneyness(atm, t, log_moneyness))
    return np.clip(np.asarray(atm) * ratio, *VOL_BOUNDS)


def session_progress(as_of: datetime) -> float:
    """Share of the NYSE session elapsed at `as_of` (0 before the open or off-session, 1 after the close)."""
    day = as_of.astimezone(ET).date()
    if not is_session(day):
        return 0.0
    opened, closed = session_open(day), session_close(day)
    return float(np.clip((as_of - opened) / (closed - opened), 0.0, 1.0))


def derive_chain(
    underlying: str,
    as_of: datetime,
    spot: float,
    vol_index_level: float,
    term_structure: TermStructure,
    carry: Carry,
    listing: Listing,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Quotes of every contract in `listing` at `as_of`, in core.chain.QUOTE_COLUMNS.

    Theos are model prices (American for ETF roots, core/american.py; European for index roots) at `carry`
    off the surface of `vol_index_level`
    (the S&P 500 30-day vol index) shaped by `term_structure`; bid/ask sit on the tick grid around them and
    sizes, open interest and volume are hashed per contract from `seed` (deterministic).
    """
    symbol = _require_inputs(underlying, as_of, spot, vol_index_level, listing)
    rules = QUOTE_RULES.get(symbol, DEFAULT_QUOTE_RULES)
    all_years = [years_to_expiry(as_of, e.expiration, e.root) for e in listing.expirations]
    live = [
        i
        for i, (e, y) in enumerate(zip(listing.expirations, all_years, strict=True))
        if y > 0 and len(e.strikes)
    ]
    listed = [listing.expirations[i] for i in live]
    years = np.array([all_years[i] for i in live])
    expiry_index, strikes, is_call, symbols = _contracts(listed)
    atm_by_expiry = atm_vol(symbol, years, vol_index_level, term_structure)
    t, atm = years[expiry_index], atm_by_expiry[expiry_index]
    log_moneyness = np.log(strikes / spot) - (carry.rate - carry.dividend_yield) * t
    vol = smile_vol(atm, t, log_moneyness)
    theo = _theo(symbol, listed, expiry_index, spot, strikes, t, carry, vol, is_call)
    std_moneyness = standardized_moneyness(atm, t, log_moneyness)
    bid, ask = bid_ask(theo, std_moneyness, t, rules)
    rights = np.where(is_call, "C", "P")
    expirations = np.array([e.expiration for e in listed], dtype="datetime64[D]")
    quotes = {
        "occ_symbol": symbols,
        "underlying": symbol,
        "expiration": expirations[expiry_index].astype("datetime64[us]"),
        "strike": strikes,
        "right": rights,
        "bid": bid,
        "ask": ask,
        "underlying_price": float(spot),
        "quote_time": pd.Timestamp(as_of).tz_convert(UTC),
    }
    keys = _contract_keys(seed, symbol, listed, expiry_index, strikes, is_call)
    activity = _activity(as_of, keys, std_moneyness, t, strikes, rules)
    activity["bid_size"] = np.where(bid > 0, activity["bid_size"], 0)
    return pd.DataFrame(quotes | activity, columns=list(QUOTE_COLUMNS))


def _theo(
    symbol: str,
    listed: list[ListedExpiration],
    expiry_index: NDArray[np.int64],
    spot: float,
    strikes: Floats,
    t: Floats,
    carry: Carry,
    vol: Floats,
    is_call: NDArray[np.bool_],
) -> Floats:
    """Model prices: American for equity and ETF roots, European (BSM) for index roots."""
    american = np.array([is_american(e.root) for e in listed])[expiry_index]
    theo = bsm_price(spot, strikes, t, carry.rate, carry.dividend_yield, vol, is_call)
    if american.any():
        from trading_pipeline.core.american import american_chain_prices  # numba: only where ETFs are priced

        theo[american] = american_chain_prices(
            spot,
            strikes[american],
            t[american],
            carry.rate,
            carry.dividend_yield,
            vol[american],
            is_call[american],
        )
    return theo


def _contracts(
    listed: list[ListedExpiration],
) -> tuple[NDArray[np.int64], Floats, NDArray[np.bool_], NDArray[np.object_]]:
    """Expiry index, strike, call flag and OCC symbol of every contract (each strike as a call and a put),
    ordered by expiration, strike, right and root."""
    counts = np.array([len(e.strikes) for e in listed], dtype=np.int64)
    expiry_index = np.repeat(np.arange(len(listed)), 2 * counts)
    strikes = np.concatenate([np.empty(0), *(np.repeat(e.strikes, 2) for e in listed)])
    is_call = np.tile([True, False], int(counts.sum()))
    symbols = np.concatenate(
        [np.empty(0, dtype=object), *(_symbols(e.root, e.expiration, e.strikes.tobytes()) for e in listed)]
    )
    ordinals = np.array([e.expiration.toordinal() for e in listed], dtype=np.int64)[expiry_index]
    order = np.lexsort((expiry_index, ~is_call, strikes, ordinals))
    return expiry_index[order], strikes[order], is_call[order], symbols[order]


@lru_cache(maxsize=4096)
def _symbols(root: str, expiration: date, strikes: bytes) -> NDArray[np.object_]:
    """OCC symbols of a call and a put at each strike (call first). Symbols repeat across quotes, so both
    contracts and whole expirations (whose strikes change only when the listing grows) are memoized."""
    return np.array(
        [_occ_symbol(root, expiration, right, k) for k in np.frombuffer(strikes).tolist() for right in "CP"],
        dtype=object,
    )


def _require_inputs(
    underlying: str, as_of: datetime, spot: float, vol_index_level: float, listing: Listing
) -> str:
    symbol = underlying.strip().upper()
    if as_of.tzinfo is None:
        raise ValueError(f"as_of must be timezone-aware, got {as_of.isoformat()} for {symbol} chain")
    if not (np.isfinite(spot) and spot > 0):
        raise ValueError(f"spot of {symbol} must be a positive number, got {spot!r}")
    if not (np.isfinite(vol_index_level) and vol_index_level > 0):
        raise ValueError(f"vol_index_level for {symbol} must be a positive number, got {vol_index_level!r}")
    if listing.underlying != symbol:
        raise ValueError(f"listing is for {listing.underlying!r}, not {symbol!r}")
    return symbol


def _vol_multiplier(underlying: str) -> float:
    symbol = underlying.strip().upper()
    if symbol not in VOL_MULTIPLIERS:
        raise ValueError(f"no surface for {symbol!r}; surfaces exist for {sorted(VOL_MULTIPLIERS)}")
    return VOL_MULTIPLIERS[symbol]


def _contract_keys(
    seed: int,
    symbol: str,
    listed: list[ListedExpiration],
    expiry_index: NDArray[np.int64],
    strikes: Floats,
    is_call: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], ...]:
    """Integer identity of each contract (seed and root included) for hashing stable per-contract numbers."""
    ordinals = np.array([e.expiration.toordinal() for e in listed], dtype=np.int64)[expiry_index]
    roots = np.array([zlib.crc32(e.root.encode()) for e in listed], dtype=np.int64)[expiry_index]
    return (
        np.full(len(strikes), seed, dtype=np.int64),
        np.full(len(strikes), zlib.crc32(symbol.encode()), dtype=np.int64),
        roots,
        ordinals,
        np.rint(strikes * STRIKE_KEY_SCALE).astype(np.int64),
        is_call.astype(np.int64),
    )


def _activity(
    as_of: datetime,
    keys: tuple[NDArray[np.int64], ...],
    std_moneyness: Floats,
    t: Floats,
    strikes: Floats,
    rules: QuoteRules,
) -> dict[str, NDArray[np.int64]]:
    """Sizes (per minute), open interest (per day) and session volume, hashed per contract."""
    trade_date = as_of.astimezone(ET).date().toordinal()
    minute = int(as_of.timestamp() // 60)
    oi = open_interest(std_moneyness, t, strikes, rules, hash_uniform(*keys, trade_date, OI_SALT))
    progress = session_progress(as_of)
    return {
        "bid_size": display_sizes(std_moneyness, rules, hash_uniform(*keys, minute, BID_SIZE_SALT)),
        "ask_size": display_sizes(std_moneyness, rules, hash_uniform(*keys, minute, ASK_SIZE_SALT)),
        "volume": session_volume(oi, t, progress, hash_uniform(*keys, trade_date, VOLUME_SALT)),
        "open_interest": oi,
    }
