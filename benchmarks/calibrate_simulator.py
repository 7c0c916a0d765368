"""Simulated market against real 2018-2025 history: the distribution statistics the simulator is tuned to.

Reads the real closes in place from ../shared/data/market (SPY, VIX, VIX9D, VIX3M), simulates the same
sessions with several seeds, and prints one markdown table (real, the seeds' mean and range, seed 7).

    .venv/bin/python benchmarks/calibrate_simulator.py [--seeds 1 2 ... 16] [--data-dir PATH]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from trading_pipeline.adapters.market_data.simulated import SimulatedMarket
from trading_pipeline.core.calendar import at_et, years_to_expiry
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.listing import listing_as_of
from trading_pipeline.core.pricing import implied_vol
from trading_pipeline.core.surface import TermStructure, derive_chain

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "market"
START, END = date(2018, 1, 2), date(2025, 11, 12)
DEFAULT_SEEDS = tuple(range(1, 17))
SESSIONS_PER_YEAR = 252
REALIZED_WINDOW = 21
VIX_THRESHOLDS = (20, 25, 30, 40)
VIX_QUANTILES = (10, 50, 90, 99)
#: The recorded chain the surface's shape is checked against: Cboe SPX quotes after the 2023-09-14 close.
RECORDED_CHAIN = Path("chains") / "SPX_2023-09-14_cboe.csv"
RECORDED_DAY, RECORDED_SPOT = date(2023, 9, 14), 4505.10
#: Approximate carry that day: the 3-month T-bill (5.3%) and the S&P 500 dividend yield (1.5%).
RECORDED_CARRY = Carry(0.053, 0.015, "approximate, 2023-09-14")
SURFACE_DAYS = (22, 36, 64, 92)
SURFACE_MONEYNESS = (-0.10, -0.05, 0.0, 0.03)


def _cboe(path: Path, column: str) -> pd.Series:
    """A Cboe close series (BOM, M/D/YYYY dates with mixed padding) indexed by date."""
    frame = pd.read_csv(path, encoding="utf-8-sig")
    frame.columns = [c.strip().upper() for c in frame.columns]
    dates = pd.to_datetime(frame["DATE"].str.strip(), format="%m/%d/%Y")
    return pd.Series(frame[column.upper()].astype(float).to_numpy(), index=dates).sort_index()


def real_closes(data_dir: Path) -> pd.DataFrame:
    """SPY (Yahoo daily/ where it exists, then Cboe's close file), VIX, VIX9D and VIX3M closes by date."""
    yahoo = pd.read_csv(data_dir / "daily" / "SPY.csv", parse_dates=["Date"], index_col="Date")["Close"]
    cboe_spy = _cboe(data_dir / "cboe" / "SPY_close.csv", "Close")
    spy = pd.concat([yahoo, cboe_spy[cboe_spy.index > yahoo.index[-1]]])
    frame = pd.DataFrame(
        {
            "SPY": spy,
            "VIX": _cboe(data_dir / "cboe" / "VIX_close.csv", "Close"),
            "VIX9D": _cboe(data_dir / "cboe" / "VIX9D_History.csv", "Close"),
            "VIX3M": _cboe(data_dir / "cboe" / "VIX3M_History.csv", "Close"),
        }
    )
    return frame.loc[pd.Timestamp(START) : pd.Timestamp(END)].dropna()


def simulated_closes(seed: int) -> pd.DataFrame:
    """The same four series over the same span from the simulator with `seed` and its default dates (a
    seed's path depends on the simulated span, so this is the world `make run` sees)."""
    market = SimulatedMarket(seed=seed)
    return pd.DataFrame(
        {s: market.daily_bars(s, START, END)["close"] for s in ("SPY", "VIX", "VIX9D", "VIX3M")}
    )


def statistics(closes: pd.DataFrame) -> dict[str, float]:
    """The calibration targets of one history: VIX levels and tails, SPY return tails, implied vs realized,
    and the term structure's shape."""
    vix = closes["VIX"]
    returns = np.log(closes["SPY"]).diff().dropna()
    forward_realized = (returns.rolling(REALIZED_WINDOW).std() * np.sqrt(SESSIONS_PER_YEAR) * 100).shift(
        -REALIZED_WINDOW
    )
    paired = pd.concat([vix, forward_realized], axis=1, keys=["vix", "rv"]).dropna()
    log_vix = np.log(vix)
    stats = {f"VIX q{q}": float(np.percentile(vix, q)) for q in VIX_QUANTILES}
    stats |= {f"% days VIX >= {t}": float((vix >= t).mean() * 100) for t in VIX_THRESHOLDS}
    stats |= {
        "worst day SPY %": float(returns.min() * 100),
        "best day SPY %": float(returns.max() * 100),
        "daily return sd %": float(returns.std() * 100),
        "excess kurtosis": float(returns.kurt()),
        "mean VIX / mean realized": float(paired["vix"].mean() / paired["rv"].mean()),
        "median VIX / realized": float((paired["vix"] / paired["rv"]).median()),
        "% days VIX > VIX3M": float((closes["VIX"] > closes["VIX3M"]).mean() * 100),
        "median VIX / VIX3M": float((closes["VIX"] / closes["VIX3M"]).median()),
        "median VIX9D / VIX": float((closes["VIX9D"] / closes["VIX"]).median()),
        "% days VIX9D > VIX": float((closes["VIX9D"] > closes["VIX"]).mean() * 100),
        "daily sd of log VIX": float(log_vix.diff().std()),
        "corr(dlog VIX, SPY return)": float(log_vix.diff().corr(returns)),
    }
    return stats


def comparison(real: dict[str, float], simulated: dict[int, dict[str, float]]) -> pd.DataFrame:
    """One row per statistic: real, the mean and range over seeds, and seed 7 (the default world)."""
    rows = []
    for name, value in real.items():
        values = np.array([stats[name] for stats in simulated.values()])
        rows.append(
            {
                "statistic": name,
                "real 2018-2025": value,
                "sim mean": values.mean(),
                "sim min": values.min(),
                "sim max": values.max(),
                "sim seed 7": simulated.get(7, {}).get(name, np.nan),
            }
        )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, fmt: Callable[[float], str] = "{:.2f}".format) -> str:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" if i == 0 else "---:" for i in range(len(table.columns))) + "|"
    body = [
        "| " + " | ".join([row.iloc[0], *(fmt(v) for v in row.iloc[1:])]) + " |"
        for _, row in table.iterrows()
    ]
    return "\n".join([header, rule, *body])


def surface_vs_recorded(data_dir: Path) -> pd.DataFrame:
    """Implied vols of the derived SPX chain (real VIX9D/VIX/VIX3M that day) against the vendor's IVs of the
    recorded chain, for OTM puts (-10%, -5%), ATM and a +3% call of the SPXW expirations near SURFACE_DAYS."""
    day = pd.Timestamp(RECORDED_DAY)
    levels = {
        n: float(_cboe(data_dir / "cboe" / f"{n}_{s}.csv", "Close")[day])
        for n, s in (("VIX9D", "History"), ("VIX", "close"), ("VIX3M", "History"))
    }
    at = at_et(RECORDED_DAY, pd.Timestamp("15:59").time())
    history = pd.Series(RECORDED_SPOT, index=pd.DatetimeIndex([day - pd.Timedelta(days=400), day]))
    listing = listing_as_of("SPX", at, history, max(SURFACE_DAYS) + 10)
    term = TermStructure(levels["VIX9D"], levels["VIX"], levels["VIX3M"])
    chain = derive_chain("SPX", at, RECORDED_SPOT, levels["VIX"], term, RECORDED_CARRY, listing)
    recorded = pd.read_csv(data_dir / RECORDED_CHAIN, skiprows=3)
    recorded["expiration"] = pd.to_datetime(recorded["Expiration Date"], format="%a %b %d %Y")
    recorded = recorded[recorded["Calls"].str.startswith("SPXW")]
    rows = []
    for days in SURFACE_DAYS:
        dte = (recorded["expiration"] - day).dt.days
        expiration = recorded["expiration"].iloc[int((dte - days).abs().argmin())]
        vendor = recorded[recorded["expiration"] == expiration]
        model = chain[chain["expiration"] == expiration]
        t = years_to_expiry(at, expiration.date(), "SPXW")
        for moneyness in SURFACE_MONEYNESS:
            strike = round(RECORDED_SPOT * (1 + moneyness) / 5) * 5
            right = "P" if moneyness < 0 else "C"
            quote = model[(model["strike"] == strike) & (model["right"] == right)].iloc[0]
            mid = (quote["bid"] + quote["ask"]) / 2
            rate, yield_ = RECORDED_CARRY.rate, RECORDED_CARRY.dividend_yield
            iv = implied_vol(mid, RECORDED_SPOT, strike, t, rate, yield_, right == "C")
            vendor_row = vendor.loc[(vendor["Strike"] - strike).abs().idxmin()]
            rows.append(
                {
                    "days": int((expiration - day).days),
                    "strike": f"{moneyness:+.0%} {right}",
                    "model IV %": 100 * float(np.asarray(iv).ravel()[0]),
                    "vendor IV %": 100 * float(vendor_row["IV.1" if right == "P" else "IV"]),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    real = statistics(real_closes(args.data_dir))
    simulated = {seed: statistics(simulated_closes(seed)) for seed in args.seeds}
    print(f"Simulator vs real, {START} .. {END}, seeds {args.seeds}\n")
    print(markdown(comparison(real, simulated)))
    print(f"\nDerived SPX surface vs the recorded Cboe chain of {RECORDED_DAY} (spot {RECORDED_SPOT})\n")
    print(surface_vs_recorded(args.data_dir).to_markdown(index=False, floatfmt=".1f"))


if __name__ == "__main__":
    main()
