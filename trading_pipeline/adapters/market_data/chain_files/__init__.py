"""Recorded vendor option chains (Cboe delayed quotes, Cboe DataShop, iVolatility, a 2015 EOD vendor) read
into the project's chain table: canonical OCC symbols, floats, aware UTC quote times, flagged rows counted."""

from trading_pipeline.adapters.market_data.chain_files.loader import (
    detect_layout,
    load_chain_file,
    recorded_chain_index,
)
from trading_pipeline.adapters.market_data.chain_files.recorded import ChainFileError, RecordedChain

__all__ = ["ChainFileError", "RecordedChain", "detect_layout", "load_chain_file", "recorded_chain_index"]
