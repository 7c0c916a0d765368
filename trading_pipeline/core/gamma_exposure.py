"""Dealer gamma exposure (GEX) of an enriched option chain: by strike, totals, zero-gamma level and a label.

Convention (SqueezeMetrics / SpotGamma style): dealers are long the calls and short the puts of the open
interest, so call GEX counts positive and put GEX negative. Units: dollars of delta change per 1% move,
GEX = gamma x open_interest x CONTRACT_MULTIPLIER x spot^2 x 0.01. docs/gamma_exposure.md has the caveats.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trading_pipeline.core.instruments import CONTRACT_MULTIPLIER
from trading_pipeline.core.pricing import bsm_greeks

Floats = NDArray[np.float64]

#: Spot move GEX is quoted per: 1% (so GEX is the dealers' dollar delta change for a 1% move).
MOVE = 0.01
#: Hypothetical spots of the zero-gamma scan: spot x (1 +- SCAN_RANGE) in SCAN_POINTS even steps (0.1%).
SCAN_RANGE = 0.20
SCAN_POINTS = 401
#: Spot within this share of the zero-gamma level labels the dealers "near flip".
NEAR_FLIP_BAND = 0.01
#: Hypothetical spots re-priced per bsm_greeks call: bounds memory to ~chunk x contracts floats per array.
_SCAN_CHUNK = 16

REQUIRED_COLUMNS: tuple[str, ...] = (
    "underlying",
    "strike",
    "right",
    "open_interest",
    "underlying_price",
    "t_years",
    "rate",
    "div_yield",
    "iv",
    "gamma",
)


class DealerPositioning(StrEnum):
    """Whether dealers' hedging damps moves (long gamma), amplifies them (short gamma) or is about to flip."""

    LONG_GAMMA = "long gamma"
    SHORT_GAMMA = "short gamma"
    NEAR_FLIP = "near flip"


@dataclass(frozen=True)
class GammaExposure:
    """GEX of one underlying's chain in dollars per 1% move; put figures are negative (dealers short puts)."""

    underlying: str
    spot: float
    by_strike: pd.DataFrame  # strike, call_gex, put_gex, net_gex; sorted by strike
    call_gex: float
    put_gex: float
    net_gex: float
    profile: pd.DataFrame  # spot, net_gex: dealer GEX re-priced at each hypothetical spot of the scan
    zero_gamma_level: float | None
    positioning: DealerPositioning
    contracts_used: int
    contracts_skipped: int  # no IV (or no gamma): left out of every figure
    open_interest_skipped: float


def contract_gex(
    gamma: Floats, open_interest: Floats, spot: Floats | float, is_call: NDArray[np.bool_]
) -> Floats:
    """Dealer GEX per contract line: +gamma OI 100 S^2 0.01 for calls, the negative of that for puts."""
    sign = np.where(is_call, 1.0, -1.0)
    return sign * gamma * open_interest * CONTRACT_MULTIPLIER * np.square(spot) * MOVE


def gex_profile(chain: pd.DataFrame, spots: Floats) -> Floats:
    """Net dealer GEX at each hypothetical spot, re-pricing BSM gamma with each contract's IV held fixed."""
    held = chain[chain["open_interest"] > 0]
    columns = ("strike", "t_years", "rate", "div_yield", "iv", "open_interest")
    strike, t, rate, div, iv, oi = (held[c].to_numpy(dtype=float)[None, :] for c in columns)
    is_call = (held["right"] == "C").to_numpy()[None, :]
    net = np.empty(len(spots))
    for start in range(0, len(spots), _SCAN_CHUNK):
        s = np.asarray(spots[start : start + _SCAN_CHUNK], dtype=float)[:, None]
        gamma = bsm_greeks(s, strike, t, rate, div, iv, is_call).gamma
        net[start : start + len(s)] = contract_gex(gamma, oi, s, is_call).sum(axis=1)
    return net


def zero_crossing(spots: Floats, net: Floats, spot: float) -> float | None:
    """The spot where `net` changes sign (linear between grid points) nearest `spot`; None without one."""
    nonzero = np.flatnonzero(net != 0)
    signs = np.sign(net[nonzero])
    flips = np.flatnonzero(signs[:-1] * signs[1:] < 0)
    if flips.size == 0:
        return None
    lo, hi = nonzero[flips], nonzero[flips + 1]
    crossings = spots[lo] - net[lo] * (spots[hi] - spots[lo]) / (net[hi] - net[lo])
    return float(crossings[np.argmin(np.abs(crossings - spot))])


def positioning(
    net_gex: float, spot: float, zero_gamma_level: float | None, band: float
) -> DealerPositioning:
    """Near flip within `band` of the zero-gamma level (or at zero net GEX), else by the sign of net GEX."""
    if net_gex == 0 or (zero_gamma_level is not None and abs(spot / zero_gamma_level - 1) <= band):
        return DealerPositioning.NEAR_FLIP
    return DealerPositioning.LONG_GAMMA if net_gex > 0 else DealerPositioning.SHORT_GAMMA


def gamma_exposure(
    chain: pd.DataFrame,
    scan_range: float = SCAN_RANGE,
    scan_points: int = SCAN_POINTS,
    near_flip_band: float = NEAR_FLIP_BAND,
) -> GammaExposure:
    """GEX of an enriched chain (chain.enrich_chain) of one underlying at its spot (median underlying_price).

    GEX at spot uses the chain's own gamma column; the zero-gamma scan re-prices European (BSM) gamma.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in chain.columns]
    if missing:
        raise ValueError(f"gamma exposure needs enriched chain columns {missing}")
    underlyings = chain["underlying"].unique()
    if len(underlyings) != 1:
        raise ValueError(
            f"gamma exposure needs a chain of one underlying, got {sorted(map(str, underlyings))}"
        )
    spot = float(chain["underlying_price"].median())
    valid = np.isfinite(chain["iv"].to_numpy(dtype=float)) & np.isfinite(chain["gamma"].to_numpy(dtype=float))
    used = chain[valid]
    is_call = (used["right"] == "C").to_numpy()
    gex = contract_gex(
        used["gamma"].to_numpy(dtype=float), used["open_interest"].to_numpy(dtype=float), spot, is_call
    )
    lines = pd.DataFrame(
        {"strike": used["strike"].to_numpy(dtype=float), "call_gex": np.where(is_call, gex, 0.0)}
    ).assign(put_gex=np.where(is_call, 0.0, gex))
    by_strike = lines.groupby("strike", as_index=False, sort=True)[["call_gex", "put_gex"]].sum()
    by_strike["net_gex"] = by_strike["call_gex"] + by_strike["put_gex"]
    spots = spot * np.linspace(1 - scan_range, 1 + scan_range, scan_points)
    profile = pd.DataFrame({"spot": spots, "net_gex": gex_profile(used, spots)})
    level = zero_crossing(spots, profile["net_gex"].to_numpy(), spot)
    net = float(by_strike["net_gex"].sum())
    return GammaExposure(
        underlying=str(underlyings[0]),
        spot=spot,
        by_strike=by_strike,
        call_gex=float(by_strike["call_gex"].sum()),
        put_gex=float(by_strike["put_gex"].sum()),
        net_gex=net,
        profile=profile,
        zero_gamma_level=level,
        positioning=positioning(net, spot, level, near_flip_band),
        contracts_used=int(valid.sum()),
        contracts_skipped=int((~valid).sum()),
        open_interest_skipped=float(chain.loc[~valid, "open_interest"].sum()),
    )
