"""Load any recorded vendor chain file by detecting its layout from its first lines, and index a folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trading_pipeline.adapters.market_data.chain_files import (
    cboe_datashop,
    cboe_quotes,
    ivolatility,
    legacy_eod,
)
from trading_pipeline.adapters.market_data.chain_files.chain_table import recorded_chain
from trading_pipeline.adapters.market_data.chain_files.recorded import Layout, RecordedChain
from trading_pipeline.adapters.market_data.chain_files.vendor_table import head_lines, line_error

LAYOUTS: tuple[Layout, ...] = (
    cboe_quotes.LAYOUT,
    legacy_eod.LAYOUT,
    ivolatility.LAYOUT,
    cboe_datashop.LAYOUT,
)
INDEX_COLUMNS = ("underlying", "session", "path")
CHAIN_FILE_PATTERN = "*.csv"


def detect_layout(path: Path, head: list[str]) -> Layout:
    """The layout whose preamble or header the file's first lines show."""
    for layout in LAYOUTS:
        if layout.matches(head):
            return layout
    known = ", ".join(layout.name for layout in LAYOUTS)
    raise line_error(path, 1, "header", head[0] if head else "", f"the start of a known layout ({known})")


def load_chain_file(path: Path) -> RecordedChain:
    """A vendor chain file as the project's chain, whatever its layout."""
    path = Path(path)
    layout = detect_layout(path, head_lines(path))
    return recorded_chain(path, layout.name, layout.read(path))


def recorded_chain_index(folder: Path) -> pd.DataFrame:
    """Which chain files a folder holds: underlying, session (a date) and path, read from first lines only."""
    rows = []
    for path in sorted(Path(folder).glob(CHAIN_FILE_PATTERN)):
        head = head_lines(path)
        underlying, session = detect_layout(path, head).identify(path, head)
        rows.append((underlying, session, path))
    return pd.DataFrame(rows, columns=list(INDEX_COLUMNS))
