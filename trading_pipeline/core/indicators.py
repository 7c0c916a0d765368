"""Technical indicators on price series (pandas in, pandas out): averages, RSI, MACD, Bollinger, ATR, ADX."""

from __future__ import annotations

import numpy as np
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


def wilder_average(values: pd.Series, window: int) -> pd.Series:
    """Wilder's running average (alpha = 1 / window) seeded with the simple mean of the first `window` values.

    Wilder's and TA-Lib's seeding; NaN before the seed. Leading NaNs are skipped; later gaps are not expected.
    """
    _require_positive("window", window)
    raw = values.to_numpy(dtype=float)
    finite = np.isfinite(raw)
    first = int(np.argmax(finite)) if finite.any() else len(raw)
    seed_at = first + window - 1
    if seed_at >= len(raw):
        return pd.Series(np.nan, index=values.index, dtype=float)
    seeded = raw[seed_at:].copy()
    seeded[0] = raw[first : seed_at + 1].mean()
    smoothed = pd.Series(seeded).ewm(alpha=1.0 / window, adjust=False).mean().to_numpy()
    return pd.Series(np.concatenate([np.full(seed_at, np.nan), smoothed]), index=values.index)


def rsi(close: pd.Series, window: int = 14) -> pd.Series:
    """Relative strength index, 0 to 100, from Wilder averages of gains and losses; first at bar `window`.

    A window with neither gains nor losses reads 50 (neutral); TA-Lib would give 0.
    """
    change = close.diff()
    average_gain = wilder_average(change.clip(lower=0.0).where(change.notna()), window)
    average_loss = wilder_average((-change).clip(lower=0.0).where(change.notna()), window)
    total = average_gain + average_loss
    return (100.0 * average_gain / total.where(total > 0)).where(total != 0, 50.0).rename("rsi")


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD line (fast EMA - slow EMA), its signal EMA and the histogram (line - signal), via `ema`.

    `ema` seeds with the first close where TA-Lib seeds with a mean; they agree once the warm-up has decayed.
    """
    if fast >= slow:
        raise ValueError(f"fast must be shorter than slow, got fast={fast}, slow={slow}")
    line = ema(close, fast) - ema(close, slow)
    signal_line = ema(line, signal)
    return pd.DataFrame({"macd": line, "signal": signal_line, "histogram": line - signal_line})


def bollinger_bands(close: pd.Series, window: int = 20, num_std: float = 2.0) -> pd.DataFrame:
    """SMA middle band ± `num_std` population standard deviations, with %b and bandwidth (width / middle).

    Population (ddof=0) deviation as Bollinger and TA-Lib define it; %b is NaN where the bands have no width.
    """
    if not num_std > 0:
        raise ValueError(f"num_std must be > 0, got {num_std}")
    middle = sma(close, window)
    half_width = num_std * close.rolling(window, min_periods=window).std(ddof=0)
    upper, lower = middle + half_width, middle - half_width
    width = upper - lower
    return pd.DataFrame(
        {
            "middle": middle,
            "upper": upper,
            "lower": lower,
            "percent_b": (close - lower) / width.where(width > 0),
            "bandwidth": width / middle,
        }
    )


def true_range(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    """Largest of high - low and the gaps from the previous close; NaN on the first bar, which has none."""
    previous_close = close.shift(1)
    ranges = np.maximum(high - low, np.maximum((high - previous_close).abs(), (low - previous_close).abs()))
    return ranges.where(previous_close.notna()).rename("true_range")


def atr(high: pd.Series, low: pd.Series, close: pd.Series, window: int = 14) -> pd.Series:
    """Average true range: Wilder average of the true range, first value at bar `window` (as TA-Lib)."""
    return wilder_average(true_range(high, low, close), window).rename("atr")


def adx(high: pd.Series, low: pd.Series, close: pd.Series, window: int = 14) -> pd.DataFrame:
    """+DI, -DI and ADX (Wilder): DIs from bar `window`, ADX, the Wilder average of DX, from bar 2·window - 1.

    Seeding as TA-Lib: the first bar, which has no previous bar, counts as zero movement and zero range.
    """
    _require_positive("window", window)
    up_move, down_move = high.diff(), -low.diff()
    plus_dm = up_move.where((up_move > down_move) & (up_move > 0), 0.0)
    minus_dm = down_move.where((down_move > up_move) & (down_move > 0), 0.0)
    smoothed_range = wilder_average(true_range(high, low, close).fillna(0.0), window)
    smoothed_range = smoothed_range.where(smoothed_range > 0)
    plus_di = 100.0 * wilder_average(plus_dm, window) / smoothed_range
    minus_di = 100.0 * wilder_average(minus_dm, window) / smoothed_range
    plus_di.iloc[:window] = np.nan
    minus_di.iloc[:window] = np.nan
    di_sum = plus_di + minus_di
    dx = (100.0 * (plus_di - minus_di).abs() / di_sum.where(di_sum > 0)).where(di_sum != 0, 0.0)
    return pd.DataFrame({"plus_di": plus_di, "minus_di": minus_di, "adx": wilder_average(dx, window)})
