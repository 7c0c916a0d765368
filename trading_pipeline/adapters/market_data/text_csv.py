"""Reading a small data file as text columns, so each value can be validated and named when bad."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trading_pipeline.adapters.market_data.base import MarketDataError


def read_text_csv(path: Path, columns: tuple[str, ...], what: str = "") -> pd.DataFrame:
    """The CSV at `path` as strings (empty cells stay ""), refused unless its header is exactly `columns`;
    `what` names the file's role in the error ("recorded IV history ")."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except OSError as exc:
        raise MarketDataError(f"cannot read {what}{path}: {exc.strerror}") from None
    if tuple(frame.columns) != columns:
        raise MarketDataError(f"{path}: expected columns {list(columns)}, found {list(frame.columns)}")
    return frame
