"""The real market history in ../shared/data/market/, read in place (never copied into the repo)."""

from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from trading_pipeline.adapters.market_data.carry_files import FileCarry
from trading_pipeline.adapters.market_data.chain_files import load_chain_file
from trading_pipeline.core.chain import enrich_chain, normalize_chain

MARKET_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "market"
needs_market_data = pytest.mark.skipif(
    not MARKET_DATA.is_dir(), reason=f"real market data folder {MARKET_DATA} is absent"
)


def enriched_real_chain(file: str) -> tuple[pd.DataFrame, str, datetime]:
    """The recorded chain of chains/`file` enriched with its date's carry: (chain, underlying, quote time).

    A file without the underlying's price (SPY 2015) takes that day's close from the daily bars.
    """
    recorded = load_chain_file(MARKET_DATA / "chains" / file)
    quotes = recorded.quotes.copy()
    if recorded.spot is None:
        session = pd.Timestamp(recorded.quote_time.date())
        quotes["underlying_price"] = daily_closes(recorded.underlying)[session]
    spot = float(quotes["underlying_price"].iloc[0])
    carry = FileCarry(MARKET_DATA).carry(recorded.underlying, recorded.quote_time, spot)
    chain = enrich_chain(normalize_chain(quotes), recorded.quote_time, {recorded.underlying: carry})
    return chain, recorded.underlying, recorded.quote_time


def daily_bars(symbol: str) -> pd.DataFrame:
    """Yahoo daily bars (Open, High, Low, Close, ...) of `symbol`, indexed by date."""
    return pd.read_csv(MARKET_DATA / "daily" / f"{symbol}.csv", parse_dates=["Date"], index_col="Date")


def daily_closes(symbol: str) -> pd.Series:
    """Yahoo daily closes (split-adjusted, not dividend-adjusted) of `symbol`, indexed by date."""
    frame = pd.read_csv(MARKET_DATA / "daily" / f"{symbol}.csv", parse_dates=["Date"], index_col="Date")
    return frame["Close"]


def cboe_closes(symbol: str) -> pd.Series:
    """Daily closes of a Cboe index history (cboe/<symbol>_History.csv: VIX3M, VIX9D, VVIX), by date."""
    frame = pd.read_csv(MARKET_DATA / "cboe" / f"{symbol}_History.csv")
    return pd.Series(
        frame["CLOSE"].astype(float).to_numpy(), index=pd.to_datetime(frame["DATE"], format="%m/%d/%Y")
    )
