"""Helpers that turn results into Dagster metadata the UI can show and plot."""

from __future__ import annotations

import dagster as dg
import pandas as pd

MAX_PREVIEW_ROWS = 20


def table_preview(frame: pd.DataFrame, max_rows: int = MAX_PREVIEW_ROWS) -> dg.MarkdownMetadataValue:
    """A markdown preview of the first rows of a table."""
    if frame.empty:
        return dg.MetadataValue.md("_(empty)_")
    return dg.MetadataValue.md(frame.head(max_rows).to_markdown(index=False))
