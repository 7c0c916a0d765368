"""Technical indicators on price series (pandas in, pandas out), starting with what regimes need."""

from __future__ import annotations

import pandas as pd


def _require_positive(name: str, value: int) -> None:
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")


def sma(series: pd.Series, window: int) -> pd.Series:
    """Simple moving average; NaN until `window` observations are available."""
    _require_positive("window", window)
    return series.rolling(window, min_periods=window).mean()


def ema(series: pd.Series, span: int) -> pd.Series:
    """Exponential moving average, alpha = 2 / (span + 1), in the recursive form charts use.

    NaN until `span` observations are available, so the warm-up does not pass for a signal.
    """
    _require_positive("span", span)
    return series.ewm(span=span, adjust=False, min_periods=span).mean()
