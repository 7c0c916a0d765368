"""The real market history in ../shared/data/market/, read in place (never copied into the repo)."""

from pathlib import Path

import pandas as pd
import pytest

MARKET_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "market"
needs_market_data = pytest.mark.skipif(
    not MARKET_DATA.is_dir(), reason=f"real market data folder {MARKET_DATA} is absent"
)


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
