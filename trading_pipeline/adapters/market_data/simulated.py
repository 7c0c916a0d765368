"""A seeded simulated market: the embedded default `MarketData` provider (bars, spot, option chains).

A Markov chain of volatility regimes drives a mean-reverting VIX; SPY moves with vol tied to the
VIX (leverage effect included), QQQ/IWM follow SPY by beta, SPX is SPY x 10. Every number is a pure
function of the seed and the arguments, so runs are reproducible (invariant 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.signal import lfilter, lfiltic

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.simulated_quotes import (
    OptionSpec,
    atm_vol,
    bid_ask,
    display_sizes,
    hash_uniform,
    open_interest,
    session_volume,
    smile_vol,
    standardized_moneyness,
    strike_grid,
    tick_size,
)
from trading_pipeline.core.calendar import ET, UTC, nyse, sessions_between, years_to_expiry
from trading_pipeline.core.chain import QUOTE_COLUMNS
from trading_pipeline.core.expirations import listed_expirations, option_root
from trading_pipeline.core.instruments import format_occ_symbol
from trading_pipeline.core.pricing import bsm_price

Floats = NDArray[np.float64]
#: OCC symbols repeat across quote times, so the one formatter is memoized here for chain speed.
_occ_symbol = lru_cache(maxsize=1 << 16)(format_occ_symbol)

#: Risk-free rate used to price simulated options (continuous compounding).
RISK_FREE_RATE = 0.04
#: Continuous dividend yields used to price the simulated options; share them, don't copy them.
DIVIDEND_YIELDS: dict[str, float] = {"SPY": 0.013, "SPX": 0.014, "QQQ": 0.006, "IWM": 0.012}

#: Symbols with their own simulated path, in the column order of every path array.
PATH_SYMBOLS: tuple[str, ...] = ("SPY", "QQQ", "IWM", "VIX")
SYMBOLS: tuple[str, ...] = ("SPY", "QQQ", "IWM", "SPX", "VIX")
INDEX_SYMBOLS = frozenset({"SPX", "VIX"})
OPTIONABLE = frozenset(DIVIDEND_YIELDS)
SPX_PER_SPY = 10.0
START_PRICES = {"SPY": 268.0, "QQQ": 157.0, "IWM": 153.0, "VIX": 13.0}
DEFAULT_START = date(2018, 1, 2)
DEFAULT_END = date(2026, 12, 31)

#: Volatility regimes (calm, normal, stressed): VIX level each reverts to, daily transition matrix.
CALM, NORMAL, STRESSED = 0, 1, 2
REGIME_VIX_LEVELS = np.array([12.5, 17.0, 32.0])
REGIME_TRANSITIONS = np.array(
    [
        [0.990, 0.010, 0.000],
        [0.015, 0.973, 0.012],
        [0.000, 0.050, 0.950],
    ]
)
VIX_REVERSION_PER_DAY = 0.06
VOL_OF_VOL_PER_DAY = 0.065
#: Extra log-VIX shock (in standard deviations) on the day a stressed regime starts.
STRESS_JUMP_SD = 5.0
VIX_BOUNDS = (9.0, 85.0)

SESSIONS_PER_YEAR = 252
SPY_DRIFT_PER_YEAR = 0.06
#: Realized SPY vol as a share of the VIX (implied usually exceeds realized).
REALIZED_TO_IMPLIED = 0.8
LEVERAGE_CORRELATION = -0.75
BETAS = {"QQQ": 1.2, "IWM": 1.1}
ALPHAS_PER_YEAR = {"QQQ": 0.01, "IWM": -0.04}
#: Idiosyncratic daily vol as a multiple of SPY's daily vol.
IDIO_VOL_RATIOS = {"QQQ": 0.45, "IWM": 0.6}
OVERNIGHT_VARIANCE_SHARE = 0.25

BASE_VOLUMES = {"SPY": 80e6, "QQQ": 45e6, "IWM": 30e6, "VIX": 0.0}
VOLUME_VIX_ELASTICITY = 0.8
VOLUME_REFERENCE_VIX = 17.0
VOLUME_NOISE = 0.25
#: Extra weight of the first and last minutes in the U-shaped intraday volume profile.
INTRADAY_VOLUME_SMILE = 2.0

MAX_MINUTES = 390
HISTORY_CHUNK_SESSIONS = 256
DAILY_STREAM, MINUTE_STREAM = 1, 2
#: Hash salts for per-contract quantities (open interest, volume, displayed size).
OI_SALT, VOLUME_SALT, BID_SIZE_SALT, ASK_SIZE_SALT = 11, 12, 13, 14
CROSSED_FAULT_BAND = 0.01
PRICE_DECIMALS = 2
STRIKE_KEY_SCALE = 1000

OPTION_SPECS = {
    "SPY": OptionSpec(1.0, 1.0, 5.0, 0.01, 0.01, 0.0, 500, 20_000.0),
    "QQQ": OptionSpec(1.25, 1.0, 5.0, 0.01, 0.01, 0.0, 300, 12_000.0),
    "IWM": OptionSpec(1.3, 1.0, 5.0, 0.01, 0.01, 0.0, 300, 10_000.0),
    "SPX": OptionSpec(1.0, 5.0, 25.0, 0.05, 0.10, 3.0, 100, 8_000.0),
}


@dataclass(frozen=True)
class MarketFaults:
    """Deliberate option-chain defects for data-quality tests; the default injects none.

    `stale_by` lags quote stamps behind `as_of` (negative: stamped in the future); `empty_chain`
    returns no quotes at all, as a provider with an outage or an unknown root might."""

    crossed_quotes: bool = False
    stale_by: timedelta = timedelta(0)
    drop_strikes_near_spot: int = 0
    empty_chain: bool = False


NO_FAULTS = MarketFaults()


@dataclass(frozen=True)
class _History:
    """Daily state of every path symbol; arrays are (session, PATH_SYMBOLS) unless noted."""

    sessions: pd.DatetimeIndex
    opens_utc: pd.DatetimeIndex
    closes_utc: pd.DatetimeIndex
    minutes: NDArray[np.int64]
    log_open: Floats
    log_close: Floats
    intraday_vol: Floats
    high: Floats
    low: Floats
    volume: Floats


class SimulatedMarket:
    """Seeded, regime-switching market with NYSE sessions, minute paths and full option chains."""

    name = "simulated"

    def __init__(
        self,
        seed: int = 7,
        start: date = DEFAULT_START,
        end: date = DEFAULT_END,
        faults: MarketFaults = NO_FAULTS,
    ) -> None:
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        self.seed = seed
        self.start = start
        self.end = end
        self.faults = faults

    @cached_property
    def _history(self) -> _History:
        return _simulate_history(self.seed, self.start, self.end)

    def daily_bars(self, symbol: str, start: date, end: date) -> pd.DataFrame:
        """Daily OHLCV bars for sessions in [start, end]; dates outside the simulation raise."""
        symbol = _known_symbol(symbol)
        self._require_in_range(symbol, start)
        self._require_in_range(symbol, end)
        history = self._history
        rows = (history.sessions >= pd.Timestamp(start)) & (history.sessions <= pd.Timestamp(end))
        column = PATH_SYMBOLS.index(_path_symbol(symbol))
        scale = _price_scale(symbol)
        bars = pd.DataFrame(
            {
                "open": np.exp(history.log_open[rows, column]) * scale,
                "high": history.high[rows, column] * scale,
                "low": history.low[rows, column] * scale,
                "close": np.exp(history.log_close[rows, column]) * scale,
                "volume": history.volume[rows, column] * (symbol not in INDEX_SYMBOLS),
            },
            index=history.sessions[rows],
        )
        bars.index.name = "session"
        return bars

    def spot(self, symbol: str, as_of: datetime) -> float:
        """Last price at `as_of`: the minute path in session, else the latest close."""
        symbol = _known_symbol(symbol)
        index, minute = self._locate(symbol, as_of)
        column = PATH_SYMBOLS.index(_path_symbol(symbol))
        if minute is None:
            log_price = self._history.log_close[index, column]
        else:
            log_price = self._session_paths(index)[column, minute]
        return float(np.exp(log_price) * _price_scale(symbol))

    def minute_bars(self, symbol: str, session: date) -> pd.DataFrame:
        """One-minute OHLCV bars of a session, indexed by bar start (UTC); they aggregate to the day."""
        symbol = _known_symbol(symbol)
        self._require_in_range(symbol, session)
        history = self._history
        index = self._session_index(session)
        if index is None:
            raise MarketDataError(f"no minute bars for {symbol} on {session}: not an NYSE session")
        column = PATH_SYMBOLS.index(_path_symbol(symbol))
        minutes = int(history.minutes[index])
        prices = np.exp(self._session_paths(index)[column, : minutes + 1]) * _price_scale(symbol)
        daily_volume = history.volume[index, column] * (symbol not in INDEX_SYMBOLS)
        starts = history.opens_utc[index] + pd.to_timedelta(np.arange(minutes), unit="min")
        return pd.DataFrame(
            {
                "open": prices[:-1],
                "high": np.maximum(prices[:-1], prices[1:]),
                "low": np.minimum(prices[:-1], prices[1:]),
                "close": prices[1:],
                "volume": _minute_volumes(daily_volume, minutes),
            },
            index=pd.DatetimeIndex(starts, name="minute"),
        )

    def option_chain(
        self, underlying: str, as_of: datetime, min_dte: int = 0, max_dte: int = 400
    ) -> pd.DataFrame:
        """Quotes of every listed contract with min_dte <= DTE <= max_dte, in QUOTE_COLUMNS."""
        symbol = _known_symbol(underlying)
        if symbol not in OPTIONABLE:
            raise MarketDataError(f"{symbol} options are not simulated; optionable: {sorted(OPTIONABLE)}")
        spot = self.spot(symbol, as_of)
        today = as_of.astimezone(ET).date()
        expirations = [
            expiration
            for expiration in listed_expirations(symbol, today, max_dte)
            if (expiration - today).days >= min_dte and years_to_expiry(as_of, expiration) > 0
        ]
        chain = self._quote_chain(symbol, as_of, spot, expirations)
        return _apply_faults(chain, self.faults, spot, OPTION_SPECS[symbol])

    def _quote_chain(
        self, symbol: str, as_of: datetime, spot: float, expirations: list[date]
    ) -> pd.DataFrame:
        """Price every listed contract off the VIX-driven surface and quote it around the theo."""
        spec = OPTION_SPECS[symbol]
        div_yield = DIVIDEND_YIELDS[symbol]
        years = np.array([years_to_expiry(as_of, e) for e in expirations])
        atm_by_expiry = atm_vol(self.spot("VIX", as_of), years, spec.vol_multiplier)
        grids = [strike_grid(spot, a, t, spec) for a, t in zip(atm_by_expiry, years, strict=True)]
        expiry_index, strikes, is_call = _calls_and_puts(grids)
        t, atm = years[expiry_index], atm_by_expiry[expiry_index]
        log_moneyness = np.log(strikes / spot) - (RISK_FREE_RATE - div_yield) * t
        vol = smile_vol(atm, t, log_moneyness)
        theo = bsm_price(spot, strikes, t, RISK_FREE_RATE, div_yield, vol, is_call)
        std_moneyness = standardized_moneyness(atm, t, log_moneyness)
        bid, ask = bid_ask(theo, std_moneyness, t, spec)
        roots = [option_root(symbol, e) for e in expirations]
        rights = np.where(is_call, "C", "P")
        quotes = {
            "occ_symbol": [
                _occ_symbol(roots[i], expirations[i], r, k)
                for i, r, k in zip(expiry_index.tolist(), rights.tolist(), strikes.tolist(), strict=True)
            ],
            "underlying": symbol,
            "expiration": np.array(expirations, dtype="datetime64[D]")[expiry_index].astype("datetime64[us]"),
            "strike": strikes,
            "right": rights,
            "bid": bid,
            "ask": ask,
            "underlying_price": spot,
            "quote_time": pd.Timestamp(as_of).tz_convert(UTC),
        }
        keys = self._contract_keys(symbol, expirations, expiry_index, strikes, is_call)
        activity = self._activity(as_of, keys, std_moneyness, t, strikes, spec)
        activity["bid_size"] = np.where(bid > 0, activity["bid_size"], 0)
        chain = pd.DataFrame(quotes | activity, columns=list(QUOTE_COLUMNS))
        return chain.sort_values(["expiration", "strike", "right"], ignore_index=True)

    def _activity(
        self,
        as_of: datetime,
        keys: tuple[NDArray[np.int64], ...],
        std_moneyness: Floats,
        t: Floats,
        strikes: Floats,
        spec: OptionSpec,
    ) -> dict[str, NDArray[np.int64]]:
        """Sizes (per minute), open interest (per day) and session volume, hashed per contract."""
        trade_date = as_of.astimezone(ET).date().toordinal()
        minute = int(as_of.timestamp() // 60)
        oi = open_interest(std_moneyness, t, strikes, spec, hash_uniform(*keys, trade_date, OI_SALT))
        progress = self._session_progress(as_of)
        return {
            "bid_size": display_sizes(std_moneyness, spec, hash_uniform(*keys, minute, BID_SIZE_SALT)),
            "ask_size": display_sizes(std_moneyness, spec, hash_uniform(*keys, minute, ASK_SIZE_SALT)),
            "volume": session_volume(oi, t, progress, hash_uniform(*keys, trade_date, VOLUME_SALT)),
            "open_interest": oi,
        }

    def _contract_keys(
        self,
        symbol: str,
        expirations: list[date],
        expiry_index: NDArray[np.int64],
        strikes: Floats,
        is_call: NDArray[np.bool_],
    ) -> tuple[NDArray[np.int64], ...]:
        """Integer identity of each contract (seed included) for hashing stable per-contract numbers."""
        ordinals = np.array([e.toordinal() for e in expirations], dtype=np.int64)[expiry_index]
        return (
            np.full(len(strikes), self.seed, dtype=np.int64),
            np.full(len(strikes), SYMBOLS.index(symbol), dtype=np.int64),
            ordinals,
            np.rint(strikes * STRIKE_KEY_SCALE).astype(np.int64),
            is_call.astype(np.int64),
        )

    def _session_paths(self, index: int) -> Floats:
        """Log-price minute paths of one session, (PATH_SYMBOLS, MAX_MINUTES + 1)."""
        history = self._history
        return _bridge(
            history.log_open[index],
            history.log_close[index],
            history.intraday_vol[index],
            _minute_shocks(self.seed, index),
            int(history.minutes[index]),
        )

    def _session_index(self, day: date) -> int | None:
        """Position of `day` among the simulated sessions, None when it is not one."""
        sessions = self._history.sessions
        index = int(sessions.searchsorted(pd.Timestamp(day)))
        return index if index < len(sessions) and sessions[index].date() == day else None

    def _locate(self, symbol: str, as_of: datetime) -> tuple[int, int | None]:
        """The session whose price applies at `as_of` and the minute in it (None: use its close)."""
        if as_of.tzinfo is None:
            raise MarketDataError(f"as_of must be timezone-aware, got {as_of.isoformat()} for {symbol}")
        day = as_of.astimezone(ET).date()
        self._require_in_range(symbol, day)
        history, now = self._history, pd.Timestamp(as_of)
        today = self._session_index(day)
        if today is not None and now >= history.opens_utc[today]:
            if now >= history.closes_utc[today]:
                return today, None
            return today, int((now - history.opens_utc[today]).total_seconds() // 60)
        previous = int(history.sessions.searchsorted(pd.Timestamp(day))) - 1
        if previous < 0:
            raise MarketDataError(
                f"no {symbol} price before the first simulated session at {as_of.isoformat()}"
            )
        return previous, None

    def _session_progress(self, as_of: datetime) -> float:
        """Share of the current session elapsed at `as_of` (0 before the open or off-session)."""
        index = self._session_index(as_of.astimezone(ET).date())
        if index is None:
            return 0.0
        opened, closed = self._history.opens_utc[index], self._history.closes_utc[index]
        return float(np.clip((pd.Timestamp(as_of) - opened) / (closed - opened), 0.0, 1.0))

    def _require_in_range(self, symbol: str, day: date) -> None:
        if not self.start <= day <= self.end:
            raise MarketDataError(
                f"no simulated {symbol} data for {day.isoformat()}: the simulation covers "
                f"{self.start.isoformat()} to {self.end.isoformat()}"
            )


def _known_symbol(symbol: str) -> str:
    normalized = symbol.strip().upper()
    if normalized not in SYMBOLS:
        raise MarketDataError(f"unknown symbol {symbol!r}; the simulated market has {list(SYMBOLS)}")
    return normalized


def _path_symbol(symbol: str) -> str:
    return "SPY" if symbol == "SPX" else symbol


def _price_scale(symbol: str) -> float:
    return SPX_PER_SPY if symbol == "SPX" else 1.0


def _calls_and_puts(grids: list[Floats]) -> tuple[NDArray[np.int64], Floats, NDArray[np.bool_]]:
    """Expiry index, strike and call flag of every contract: each listed strike as a call and a put."""
    counts = np.array([len(grid) for grid in grids], dtype=np.int64)
    expiry_index = np.repeat(np.arange(len(grids)), 2 * counts)
    strikes = np.concatenate([np.empty(0), *(np.tile(grid, 2) for grid in grids)])
    is_call = np.concatenate([np.empty(0, dtype=bool), *(np.repeat([True, False], n) for n in counts)])
    return expiry_index, strikes, is_call


def _apply_faults(chain: pd.DataFrame, faults: MarketFaults, spot: float, spec: OptionSpec) -> pd.DataFrame:
    """Inject the configured chain defects (crossed, stale, missing strikes near spot, no quotes)."""
    if faults.empty_chain:
        return chain.iloc[0:0]
    chain = chain.copy()
    if faults.crossed_quotes:
        near = np.abs(np.log(chain["strike"] / spot)) <= CROSSED_FAULT_BAND
        ask = chain.loc[near, "ask"].to_numpy()
        chain.loc[near, "bid"] = np.round(ask + tick_size(ask, spec), PRICE_DECIMALS)
    if faults.stale_by:
        chain["quote_time"] = chain["quote_time"] - faults.stale_by
    if faults.drop_strikes_near_spot:
        chain = chain.loc[~_strikes_near_spot(chain, spot, faults.drop_strikes_near_spot)]
        chain = chain.reset_index(drop=True)
    return chain


def _strikes_near_spot(chain: pd.DataFrame, spot: float, count: int) -> pd.Series:
    """Rows whose strike is among the `count` nearest strikes on each side of spot, per expiration."""
    below = chain["strike"] <= spot
    by_expiry = chain["expiration"]
    rank_below = chain["strike"].where(below).groupby(by_expiry).rank(method="dense", ascending=False)
    rank_above = chain["strike"].where(~below).groupby(by_expiry).rank(method="dense")
    return (rank_below <= count) | (rank_above <= count)


def _simulate_history(seed: int, start: date, end: date) -> _History:
    """The whole daily history in one vectorized pass, plus intraday highs and lows per session."""
    sessions = pd.DatetimeIndex(sessions_between(start, end))
    if sessions.empty:
        raise ValueError(f"no NYSE sessions between {start} and {end}")
    schedule = nyse().schedule.loc[sessions]
    count = len(sessions)
    rng = np.random.default_rng([seed, DAILY_STREAM])
    vix_noise, spy_noise, qqq_noise, iwm_noise, volume_noise = rng.standard_normal((5, count))
    gap_noise = rng.standard_normal((count, len(PATH_SYMBOLS)))
    regimes = _regime_path(rng.random(count))
    vix_shock = vix_noise + STRESS_JUMP_SD * _regime_starts(regimes, STRESSED)
    log_vix = _log_vix_path(regimes, vix_shock)
    prev_vix = np.exp(np.concatenate([[np.log(START_PRICES["VIX"])], log_vix[:-1]]))
    spy_vol = REALIZED_TO_IMPLIED * prev_vix / 100.0 / np.sqrt(SESSIONS_PER_YEAR)
    spy_shock = LEVERAGE_CORRELATION * vix_shock + np.sqrt(1 - LEVERAGE_CORRELATION**2) * spy_noise
    spy_return = SPY_DRIFT_PER_YEAR / SESSIONS_PER_YEAR - 0.5 * spy_vol**2 + spy_vol * spy_shock
    returns = np.column_stack(
        [
            spy_return,
            _follower_return("QQQ", spy_return, spy_vol, qqq_noise),
            _follower_return("IWM", spy_return, spy_vol, iwm_noise),
        ]
    )
    start_logs = np.log([START_PRICES[s] for s in PATH_SYMBOLS])
    log_close = np.column_stack([start_logs[:3] + np.cumsum(returns, axis=0), log_vix])
    daily_vol = np.column_stack(
        [np.outer(spy_vol, [_total_beta(s) for s in PATH_SYMBOLS[:3]]), np.full(count, VOL_OF_VOL_PER_DAY)]
    )
    log_open = (
        np.vstack([start_logs, log_close[:-1]]) + np.sqrt(OVERNIGHT_VARIANCE_SHARE) * daily_vol * gap_noise
    )
    minutes = ((schedule["close"] - schedule["open"]).dt.total_seconds() // 60).to_numpy(np.int64)
    intraday_vol = np.sqrt(1 - OVERNIGHT_VARIANCE_SHARE) * daily_vol
    high, low = _intraday_extremes(seed, log_open, log_close, intraday_vol, minutes)
    return _History(
        sessions=sessions,
        opens_utc=pd.DatetimeIndex(schedule["open"]),
        closes_utc=pd.DatetimeIndex(schedule["close"]),
        minutes=minutes,
        log_open=log_open,
        log_close=log_close,
        intraday_vol=intraday_vol,
        high=high,
        low=low,
        volume=_daily_volumes(prev_vix, volume_noise),
    )


def _daily_volumes(prev_vix: Floats, noise: Floats) -> Floats:
    """Shares traded per session: busier when the VIX is high, with lognormal day-to-day noise."""
    activity = (prev_vix / VOLUME_REFERENCE_VIX) ** VOLUME_VIX_ELASTICITY
    activity *= np.exp(VOLUME_NOISE * noise - 0.5 * VOLUME_NOISE**2)
    return np.rint(np.outer(activity, [BASE_VOLUMES[s] for s in PATH_SYMBOLS]))


def _follower_return(symbol: str, spy_return: Floats, spy_vol: Floats, shock: Floats) -> Floats:
    """Daily log returns of a fund that follows SPY by beta, plus its own alpha and noise."""
    alpha = ALPHAS_PER_YEAR[symbol] / SESSIONS_PER_YEAR
    return alpha + BETAS[symbol] * spy_return + IDIO_VOL_RATIOS[symbol] * spy_vol * shock


def _total_beta(symbol: str) -> float:
    """Daily vol of a symbol relative to SPY's (beta and idiosyncratic noise combined)."""
    return float(np.hypot(BETAS.get(symbol, 1.0), IDIO_VOL_RATIOS.get(symbol, 0.0)))


def _regime_path(uniforms: Floats) -> NDArray[np.int64]:
    """A Markov chain of volatility regimes driven by the given uniforms, starting calm."""
    cumulative = np.cumsum(REGIME_TRANSITIONS, axis=1).tolist()
    regimes = np.empty(len(uniforms), dtype=np.int64)
    state = CALM
    for i, u in enumerate(uniforms.tolist()):
        row = cumulative[state]
        state = next((s for s, edge in enumerate(row) if u < edge), len(row) - 1)
        regimes[i] = state
    return regimes


def _regime_starts(regimes: NDArray[np.int64], regime: int) -> Floats:
    """1.0 on sessions where `regime` begins, else 0.0."""
    previous = np.concatenate([[CALM], regimes[:-1]])
    return ((regimes == regime) & (previous != regime)).astype(np.float64)


def _log_vix_path(regimes: NDArray[np.int64], shocks: Floats) -> Floats:
    """Log-VIX reverting toward its regime's level: x_t = (1-k) x_{t-1} + k ln L_t + vov e_t."""
    keep = 1.0 - VIX_REVERSION_PER_DAY
    drive = VIX_REVERSION_PER_DAY * np.log(REGIME_VIX_LEVELS[regimes]) + VOL_OF_VOL_PER_DAY * shocks
    initial = lfiltic([1.0], [1.0, -keep], [np.log(START_PRICES["VIX"])])
    path, _ = lfilter([1.0], [1.0, -keep], drive, zi=initial)
    return np.clip(path, *np.log(VIX_BOUNDS))


def _intraday_extremes(
    seed: int, log_open: Floats, log_close: Floats, intraday_vol: Floats, minutes: NDArray[np.int64]
) -> tuple[Floats, Floats]:
    """Daily highs and lows as the extremes of each session's minute path (bars and minutes agree)."""
    high, low = np.empty_like(log_open), np.empty_like(log_open)
    for first in range(0, len(minutes), HISTORY_CHUNK_SESSIONS):
        chunk = slice(first, first + HISTORY_CHUNK_SESSIONS)
        indices = range(first, min(first + HISTORY_CHUNK_SESSIONS, len(minutes)))
        shocks = np.stack([_minute_shocks(seed, i) for i in indices])
        paths = _bridge(log_open[chunk], log_close[chunk], intraday_vol[chunk], shocks, minutes[chunk, None])
        high[chunk], low[chunk] = np.exp(paths.max(axis=-1)), np.exp(paths.min(axis=-1))
    return high, low


def _minute_shocks(seed: int, index: int) -> Floats:
    """Correlated standard normal minute shocks of one session, (PATH_SYMBOLS, MAX_MINUTES)."""
    independent = np.random.default_rng([seed, MINUTE_STREAM, index]).standard_normal((4, MAX_MINUTES))
    return _MINUTE_MIXING @ independent


def _minute_mixing() -> Floats:
    """Loadings that give minute shocks SPY's betas and the VIX's leverage correlation."""
    mixing = np.zeros((4, 4))
    mixing[0, 0] = 1.0
    for row, symbol in ((1, "QQQ"), (2, "IWM")):
        loading = BETAS[symbol] / _total_beta(symbol)
        mixing[row, 0], mixing[row, row] = loading, np.sqrt(1 - loading**2)
    mixing[3, 0], mixing[3, 3] = LEVERAGE_CORRELATION, np.sqrt(1 - LEVERAGE_CORRELATION**2)
    return mixing


_MINUTE_MIXING = _minute_mixing()


def _bridge(
    log_open: Floats, log_close: Floats, vol: Floats, shocks: Floats, minutes: NDArray[np.int64] | int
) -> Floats:
    """Brownian-bridge log paths at minute marks 0..MAX_MINUTES, flat at the close after `minutes`."""
    minutes = np.asarray(minutes)
    marks = np.arange(MAX_MINUTES + 1)
    zero = np.zeros((*shocks.shape[:-1], 1))
    walk = np.concatenate([zero, np.cumsum(shocks, axis=-1)], axis=-1) / np.sqrt(minutes)[..., None]
    last = np.broadcast_to(minutes, walk.shape[:-1])[..., None]
    frac = np.minimum(marks / last, 1.0)
    end = np.take_along_axis(walk, last, axis=-1)
    bridge = np.where(marks <= last, walk - frac * end, 0.0)
    return log_open[..., None] + frac * (log_close - log_open)[..., None] + vol[..., None] * bridge


def _minute_volumes(daily_volume: float, minutes: int) -> Floats:
    """Split a day's volume over its minutes with a U-shaped profile; the parts sum to the day."""
    position = (np.arange(minutes) + 0.5) / minutes
    weights = 1.0 + INTRADAY_VOLUME_SMILE * (2.0 * position - 1.0) ** 2
    volumes = np.floor(daily_volume * weights / weights.sum())
    volumes[-1] += daily_volume - volumes.sum()
    return volumes
