"""A recorded 30-day implied-vol history from a file (a vendor export or an earlier system's record).

The file is a CSV with the columns `session,underlying,iv_30d`: an ISO session date, a symbol and the
30-day implied vol as a decimal (0.18 for 18%). It feeds the second tier of the IV history
(core/iv_history.py) in replay and backfills, where the ledger has no observations of its own yet.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.text_csv import read_text_csv
from trading_pipeline.core.iv_history import RECORDED_SOURCE_PREFIX

COLUMNS = ("session", "underlying", "iv_30d")
#: A 30-day implied vol above this (500%) is a unit mistake (percent written for a decimal), not a market.
MAX_IV = 5.0


def recorded_source(path: Path) -> str:
    """The source label of observations read from `path`."""
    return f"{RECORDED_SOURCE_PREFIX}{path.name}"


def _row_error(path: Path, row: int, column: str, value: object, why: str) -> MarketDataError:
    # Row numbers count the header as line 1, as an editor shows them.
    return MarketDataError(f"{path} line {row + 2}: {column}={value!r} {why}")


@lru_cache(maxsize=4)
def _read(path: Path, modified_ns: int) -> pd.DataFrame:
    del modified_ns  # part of the cache key: an edited file is read again
    frame = read_text_csv(path, COLUMNS, "recorded IV history ")
    sessions = pd.to_datetime(frame["session"], format="%Y-%m-%d", errors="coerce")
    for row in np.flatnonzero(sessions.isna()):
        raise _row_error(path, int(row), "session", frame["session"].iloc[row], "is not an ISO date")
    ivs = pd.to_numeric(frame["iv_30d"], errors="coerce")
    for row in np.flatnonzero(~(np.isfinite(ivs) & (ivs > 0) & (ivs <= MAX_IV))):
        raise _row_error(
            path, int(row), "iv_30d", frame["iv_30d"].iloc[row], f"is not a decimal in (0, {MAX_IV}]"
        )
    symbols = frame["underlying"].str.strip().str.upper()
    for row in np.flatnonzero(symbols == ""):
        raise _row_error(path, int(row), "underlying", frame["underlying"].iloc[row], "is empty")
    recorded = pd.DataFrame({"session": sessions.dt.date, "underlying": symbols, "iv_30d": ivs.astype(float)})
    duplicated = recorded.duplicated(["session", "underlying"], keep="first")
    for row in np.flatnonzero(duplicated):
        raise _row_error(path, int(row), "session", frame["session"].iloc[row], "repeats an earlier row")
    return recorded


def recorded_iv(path: Path, underlying: str, start: date, end: date) -> dict[date, float]:
    """The recorded 30-day IVs of `underlying` from `start` to `end` included; a bad row is an error
    naming its line, column and value."""
    try:
        modified = path.stat().st_mtime_ns
    except OSError as exc:
        raise MarketDataError(f"cannot read recorded IV history {path}: {exc.strerror}") from None
    recorded = _read(path, modified)
    rows = recorded.loc[
        (recorded["underlying"] == underlying.upper())
        & (recorded["session"] >= start)
        & (recorded["session"] <= end)
    ]
    return dict(zip(rows["session"], rows["iv_30d"], strict=True))
