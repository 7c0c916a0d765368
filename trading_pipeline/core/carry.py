"""Carry of an underlying on a date: the risk-free rate and dividend yield that price its options.

One carry source feeds simulation, replay, implied vol and greeks (ARCHITECTURE: "Carry").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Carry:
    """Continuously compounded annual rate and dividend yield (decimals), and where they came from."""

    rate: float
    dividend_yield: float
    source: str
