"""Realized-volatility estimators from daily OHLC bars, the IV/RV ratio and the VIX term structure's shape.

Each estimator averages a per-bar variance over the last `window` bars and annualizes it by
`periods_per_year` (252 trading days by default); inputs are pandas Series aligned by date.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from trading_pipeline.core.volatility import VolatilityError, realized_vol

DEFAULT_WINDOW = 20
PERIODS_PER_YEAR = 252
#: A near/far VIX ratio within 2% of 1 reads flat: closer than that, the sign is day-to-day noise.
FLAT_BAND = 0.02
_PARKINSON_SCALE = 1.0 / (4.0 * np.log(2.0))
_GARMAN_KLASS_CLOSE_WEIGHT = 2.0 * np.log(2.0) - 1.0


class TermStructureShape(StrEnum):
    CONTANGO = "contango"
    FLAT = "flat"
    BACKWARDATION = "backwardation"


def _require_window(window: int, minimum: int) -> None:
    if window < minimum:
        raise VolatilityError(f"window must be >= {minimum}, got {window}")


def _log_ratio(numerator: pd.Series, denominator: pd.Series, names: tuple[str, str]) -> pd.Series:
    for name, prices in zip(names, (numerator, denominator), strict=True):
        non_positive = prices.loc[prices <= 0]
        if not non_positive.empty:
            raise VolatilityError(
                f"{name} must be positive, got {float(non_positive.iloc[0])} at {non_positive.index[0]}"
            )
    return np.log(numerator / denominator)


def _annualized(per_bar_variance: pd.Series, window: int, periods_per_year: int) -> pd.Series:
    mean_variance = per_bar_variance.rolling(window, min_periods=window).mean()
    return np.sqrt(mean_variance * periods_per_year)


def close_to_close_vol(
    close: pd.Series, window: int = DEFAULT_WINDOW, periods_per_year: int = PERIODS_PER_YEAR
) -> pd.Series:
    """Close-to-close vol: sample std of log returns; the formula lives in `volatility.realized_vol`."""
    return realized_vol(close, window, periods_per_year)


def parkinson_vol(
    high: pd.Series,
    low: pd.Series,
    window: int = DEFAULT_WINDOW,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> pd.Series:
    """Parkinson (1980) range vol: mean of ln(H/L)² / (4 ln 2); ignores overnight gaps, so reads low."""
    _require_window(window, 1)
    log_range = _log_ratio(high, low, ("high", "low"))
    return _annualized(_PARKINSON_SCALE * log_range**2, window, periods_per_year)


def garman_klass_vol(
    open_: pd.Series,
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    window: int = DEFAULT_WINDOW,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> pd.Series:
    """Garman-Klass (1980) vol: mean of ½ ln(H/L)² - (2 ln 2 - 1) ln(C/O)²; open-to-close only, no gaps."""
    _require_window(window, 1)
    log_range = _log_ratio(high, low, ("high", "low"))
    log_body = _log_ratio(close, open_, ("close", "open"))
    per_bar = 0.5 * log_range**2 - _GARMAN_KLASS_CLOSE_WEIGHT * log_body**2
    return _annualized(per_bar, window, periods_per_year)


def yang_zhang_vol(
    open_: pd.Series,
    high: pd.Series,
    low: pd.Series,
    close: pd.Series,
    window: int = DEFAULT_WINDOW,
    periods_per_year: int = PERIODS_PER_YEAR,
) -> pd.Series:
    """Yang-Zhang (2000) vol: overnight var + k·open-to-close var + (1 - k)·Rogers-Satchell, drift-free.

    k = 0.34 / (1.34 + (n + 1) / (n - 1)); the two variances are sample (ddof=1) variances over n bars.
    """
    _require_window(window, 2)
    overnight = _log_ratio(open_, close.shift(1), ("open", "close"))
    open_to_close = _log_ratio(close, open_, ("close", "open"))
    high_open = _log_ratio(high, open_, ("high", "open"))
    low_open = _log_ratio(low, open_, ("low", "open"))
    rogers_satchell = high_open * (high_open - open_to_close) + low_open * (low_open - open_to_close)
    k = 0.34 / (1.34 + (window + 1) / (window - 1))
    variance = (
        overnight.rolling(window, min_periods=window).var(ddof=1)
        + k * open_to_close.where(overnight.notna()).rolling(window, min_periods=window).var(ddof=1)
        + (1.0 - k) * rogers_satchell.where(overnight.notna()).rolling(window, min_periods=window).mean()
    )
    return np.sqrt(variance * periods_per_year)


def iv_rv_ratio(iv: pd.Series, rv: pd.Series) -> pd.Series:
    """Implied over realized vol, aligned by date, both in the same units; NaN where RV is not positive."""
    return (iv / rv.where(rv > 0)).rename("iv_rv_ratio")


def term_structure_shape(near: pd.Series, far: pd.Series, band: float = FLAT_BAND) -> pd.Series:
    """Contango where near/far < 1 - band, backwardation where > 1 + band, flat between; NaN if unknown."""
    if not 0 <= band < 1:
        raise ValueError(f"band must be in [0, 1), got {band}")
    ratio = near.where(near > 0) / far.where(far > 0)
    labels = np.select(
        [ratio < 1 - band, ratio > 1 + band, ratio.notna()],
        [
            TermStructureShape.CONTANGO.value,
            TermStructureShape.BACKWARDATION.value,
            TermStructureShape.FLAT.value,
        ],
        default=None,
    )
    categories = [shape.value for shape in TermStructureShape]
    return pd.Series(pd.Categorical(labels, categories=categories), index=ratio.index, name="shape")


def vix_term_structure(
    vix9d: pd.Series, vix: pd.Series, vix3m: pd.Series, band: float = FLAT_BAND
) -> pd.DataFrame:
    """VIX9D/VIX and VIX/VIX3M by date and the curve's shape from VIX/VIX3M; non-positive levels are unknown.

    Above 1 the near end is priced over the far end (backwardation, stress); below 1 is the calm contango.
    """
    vix9d, vix, vix3m = (levels.where(levels > 0) for levels in (vix9d, vix, vix3m))
    frame = pd.DataFrame({"vix9d_vix": vix9d / vix, "vix_vix3m": vix / vix3m})
    frame["shape"] = term_structure_shape(vix, vix3m, band).reindex(frame.index)
    return frame
