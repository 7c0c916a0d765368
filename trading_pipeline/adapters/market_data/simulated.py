"""A seeded simulated market: the embedded default `MarketData` provider (bars, spot, option chains).

A Markov chain of volatility regimes drives a mean-reverting VIX; SPY moves with vol tied to the
VIX (leverage effect included), QQQ/IWM follow SPY by beta, SPX is SPY x 10. Every number is a pure
function of the seed and the arguments, so runs are reproducible (invariant 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.signal import lfilter, lfiltic

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.derived import VOL_INDEX, derived_chain
from trading_pipeline.core.calendar import ET, nyse, sessions_between
from trading_pipeline.core.carry import Carry
from trading_pipeline.core.listing import listing_history_start
from trading_pipeline.core.option_quotes import DEFAULT_QUOTE_RULES, PRICE_DECIMALS, QUOTE_RULES, tick_size
from trading_pipeline.core.surface import TermStructure, average_variance

Floats = NDArray[np.float64]

#: Risk-free rate the simulated options are priced with by default (continuous compounding).
RISK_FREE_RATE = 0.04
#: Continuous dividend yields the simulated options are priced with by default.
DIVIDEND_YIELDS: dict[str, float] = {"SPY": 0.013, "SPX": 0.014, "QQQ": 0.006, "IWM": 0.012}
CARRY_SOURCE = "simulation"

#: Symbols with their own simulated path, in the column order of every path array.
PATH_SYMBOLS: tuple[str, ...] = ("SPY", "QQQ", "IWM", "VIX")
#: The VIX term-structure indices, derived from the VIX path and the regime (no path of their own).
TERM_INDEX_SYMBOLS: tuple[str, ...] = ("VIX9D", "VIX3M")
SYMBOLS: tuple[str, ...] = ("SPY", "QQQ", "IWM", "SPX", "VIX", *TERM_INDEX_SYMBOLS)
INDEX_SYMBOLS = frozenset({"SPX", "VIX", *TERM_INDEX_SYMBOLS})
OPTIONABLE = frozenset(DIVIDEND_YIELDS)
SPX_PER_SPY = 10.0
START_PRICES = {"SPY": 268.0, "QQQ": 157.0, "IWM": 153.0, "VIX": 13.0}
DEFAULT_START = date(2018, 1, 2)
DEFAULT_END = date(2026, 12, 31)

#: Volatility regimes: the VIX level each reverts to, its daily vol of vol, and the daily transition
#: matrix. Calibrated against real 2018-2025 history (docs/market_calibration.md).
CALM, NORMAL, STRESSED, CRISIS = 0, 1, 2, 3
REGIME_VIX_LEVELS = np.array([13.8, 20.0, 26.5, 45.0])
REGIME_VOL_OF_VOL = np.array([0.06, 0.07, 0.08, 0.09])
REGIME_TRANSITIONS = np.array(
    [
        [0.9900, 0.0100, 0.0000, 0.0000],
        [0.0090, 0.9786, 0.0117, 0.0007],
        [0.0000, 0.0400, 0.9530, 0.0070],
        [0.0000, 0.0000, 0.0600, 0.9400],
    ]
)
VIX_REVERSION_PER_DAY = 0.07
#: Extra log-VIX shock (in standard deviations) on the day a stressed or crisis regime starts.
REGIME_JUMP_SD = np.array([0.0, 0.0, 4.0, 8.0])
VIX_BOUNDS = (9.0, 90.0)
#: Degrees of freedom of the Student-t scale mixture shared by the VIX and SPY daily shocks (fat tails).
SHOCK_TAIL_DOF = 4.0
#: Cap of that mixture's scale: fat tails, but no single-day move beyond what markets have seen.
MAX_TAIL_SCALE = 2.5

#: Term structure: the long-run VIX level each regime's expectations revert to, the speed (per year), and
#: the day-to-day noise of VIX9D around its model level (log sd).
TERM_ANCHOR_VIX = np.array([21.0, 25.5, 36.0, 47.0])
TERM_REVERSION_PER_YEAR = 5.0
VIX9D_NOISE = 0.085
#: Floor of the instantaneous vol behind the term structure, as a share of the VIX (deep contango).
MIN_SPOT_VOL_SHARE = 0.5
VIX_DAYS, TERM_INDEX_DAYS = 30.0, {"VIX9D": 9.0, "VIX3M": 93.0}

SESSIONS_PER_YEAR = 252
SPY_DRIFT_PER_YEAR = 0.06
#: Realized SPY vol as a share of the VIX (implied usually exceeds realized).
REALIZED_TO_IMPLIED = 0.87
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
#: One random stream per daily variable: a longer simulation extends each stream, so a seed's path up to a
#: date does not depend on where the simulation ends.
DAILY_VARIABLES = ("vix", "spy", "qqq", "iwm", "volume", "vix9d", "gap", "regime", "tail")
CROSSED_FAULT_BAND = 0.01


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
    regimes: NDArray[np.int64]
    vix9d_noise: Floats


class SimulatedMarket:
    """Seeded, regime-switching market with NYSE sessions, minute paths and full option chains."""

    name = "simulated"

    def __init__(
        self,
        seed: int = 7,
        start: date = DEFAULT_START,
        end: date = DEFAULT_END,
        faults: MarketFaults = NO_FAULTS,
        *,
        risk_free_rate: float = RISK_FREE_RATE,
        dividend_yields: Mapping[str, float] = DIVIDEND_YIELDS,
    ) -> None:
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        self.seed = seed
        self.start = start
        self.end = end
        self.faults = faults
        self.risk_free_rate = risk_free_rate
        #: Yields given override the defaults per underlying; an underlying left out keeps its default.
        self.dividend_yields = {
            **DIVIDEND_YIELDS,
            **{k.strip().upper(): v for k, v in dividend_yields.items()},
        }

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
        prices = {
            "open": np.exp(history.log_open[rows, column]),
            "high": history.high[rows, column],
            "low": history.low[rows, column],
            "close": np.exp(history.log_close[rows, column]),
        }
        indices = np.flatnonzero(rows)
        bars = pd.DataFrame(
            {name: self._derived_price(symbol, values, indices) for name, values in prices.items()}
            | {"volume": history.volume[rows, column] * (symbol not in INDEX_SYMBOLS)},
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
        return float(self._derived_price(symbol, np.exp(np.atleast_1d(log_price)), np.array([index]))[0])

    def carry(self, underlying: str, as_of: datetime) -> Carry:
        """The configured rate and dividend yield the simulated options of `underlying` are priced with."""
        del as_of  # the simulated carry does not change over time
        symbol = self._optionable(underlying)
        return Carry(self.risk_free_rate, self.dividend_yields[symbol], CARRY_SOURCE)

    def term_structure(self, as_of: datetime) -> TermStructure:
        """VIX9D, VIX and VIX3M at `as_of`, from the VIX and its regime's expectations."""
        return TermStructure(
            vix9d=self.spot("VIX9D", as_of), vix=self.spot(VOL_INDEX, as_of), vix3m=self.spot("VIX3M", as_of)
        )

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
        path = np.exp(self._session_paths(index)[column, : minutes + 1])
        prices = self._derived_price(symbol, path, np.full(minutes + 1, index))
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
        """Quotes of every listed contract with min_dte <= DTE <= max_dte, in QUOTE_COLUMNS: the shared
        listing and surface model (core/listing.py, core/surface.py) fed with this market's own state."""
        symbol = self._optionable(underlying)
        spot = self.spot(symbol, as_of)
        chain = derived_chain(self, symbol, as_of, max_dte, self.seed)
        dte = (chain["expiration"] - pd.Timestamp(as_of.astimezone(ET).date())).dt.days
        chain = chain.loc[dte >= min_dte].reset_index(drop=True)
        return _apply_faults(chain, self.faults, spot, symbol)

    def listing_history(self, symbol: str, as_of: datetime, max_dte: int) -> pd.DataFrame:
        """This market's opens and closes from the listing history start up to before `as_of`'s day, then
        that session's open once it has opened and the spot now as its close."""
        history = self._history
        day = pd.Timestamp(as_of.astimezone(ET).date())
        first = pd.Timestamp(listing_history_start(symbol, as_of, max_dte))
        rows = np.flatnonzero((history.sessions >= first) & (history.sessions < day))
        today = self._session_index(day.date())
        opened = today is not None and pd.Timestamp(as_of) >= history.opens_utc[today]
        column = PATH_SYMBOLS.index(_path_symbol(symbol))
        opens_at = np.append(rows, today) if opened else rows
        opens = self._derived_price(symbol, np.exp(history.log_open[opens_at, column]), opens_at)
        closes = self._derived_price(symbol, np.exp(history.log_close[rows, column]), rows)
        return pd.DataFrame(
            {
                "open": opens if opened else np.append(opens, np.nan),
                "close": np.append(closes, self.spot(symbol, as_of)),
            },
            index=history.sessions[rows].append(pd.DatetimeIndex([day])),
        )

    def _derived_price(self, symbol: str, path_prices: Floats, indices: NDArray[np.int64]) -> Floats:
        """Prices of `symbol` from its path symbol's prices on the given sessions: SPX is ten SPY, the term
        indices follow the VIX through the session's regime; the others are their path."""
        if symbol == "SPX":
            return path_prices * SPX_PER_SPY
        if symbol in TERM_INDEX_SYMBOLS:
            history = self._history
            noise = history.vix9d_noise[indices] if symbol == "VIX9D" else 0.0
            return term_index_level(symbol, path_prices, history.regimes[indices]) * np.exp(noise)
        return path_prices

    def _optionable(self, underlying: str) -> str:
        symbol = _known_symbol(underlying)
        if symbol not in OPTIONABLE:
            raise MarketDataError(f"{symbol} options are not simulated; optionable: {sorted(OPTIONABLE)}")
        return symbol

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

    def coverage(self, symbol: str) -> tuple[date, date]:
        """The simulated range, the same for every symbol."""
        _known_symbol(symbol)
        return self.start, self.end

    def _require_in_range(self, symbol: str, day: date) -> None:
        if not self.start <= day <= self.end:
            raise MarketDataError(
                f"no simulated {symbol} data for {day.isoformat()}: the simulation covers "
                f"{self.start.isoformat()} to {self.end.isoformat()}"
            )


def term_index_level(symbol: str, vix: Floats, regimes: NDArray[np.int64]) -> Floats:
    """VIX9D or VIX3M implied by the VIX under the regime's expectations: variance reverting at
    TERM_REVERSION_PER_YEAR toward the regime's anchor, averaged over each index's horizon."""
    anchor = TERM_ANCHOR_VIX[regimes] ** 2
    k = TERM_REVERSION_PER_YEAR / 365.0
    start = anchor + (vix**2 - anchor) / average_variance(1.0, 0.0, k, VIX_DAYS)
    start = np.maximum(start, (MIN_SPOT_VOL_SHARE * vix) ** 2)
    return np.sqrt(average_variance(start, anchor, k, TERM_INDEX_DAYS[symbol]))


def _known_symbol(symbol: str) -> str:
    normalized = symbol.strip().upper()
    if normalized not in SYMBOLS:
        raise MarketDataError(f"unknown symbol {symbol!r}; the simulated market has {list(SYMBOLS)}")
    return normalized


def _path_symbol(symbol: str) -> str:
    if symbol == "SPX":
        return "SPY"
    return VOL_INDEX if symbol in TERM_INDEX_SYMBOLS else symbol


def _apply_faults(chain: pd.DataFrame, faults: MarketFaults, spot: float, symbol: str) -> pd.DataFrame:
    """Inject the configured chain defects (crossed, stale, missing strikes near spot, no quotes)."""
    if faults.empty_chain:
        return chain.iloc[0:0]
    chain = chain.copy()
    if faults.crossed_quotes:
        near = np.abs(np.log(chain["strike"] / spot)) <= CROSSED_FAULT_BAND
        ask = chain.loc[near, "ask"].to_numpy()
        rules = QUOTE_RULES.get(symbol, DEFAULT_QUOTE_RULES)
        chain.loc[near, "bid"] = np.round(ask + tick_size(ask, rules), PRICE_DECIMALS)
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
    streams = [np.random.default_rng([seed, DAILY_STREAM, k]) for k in range(len(DAILY_VARIABLES))]
    draws = dict(zip(DAILY_VARIABLES, streams, strict=True))
    vix_noise, spy_noise, qqq_noise, iwm_noise, volume_noise, vix9d_noise = (
        draws[name].standard_normal(count) for name in DAILY_VARIABLES[:6]
    )
    gap_noise = draws["gap"].standard_normal((count, len(PATH_SYMBOLS)))
    regimes = _regime_path(draws["regime"].random(count))
    chi_square = draws["tail"].chisquare(SHOCK_TAIL_DOF, count)
    tail_scale = np.minimum(np.sqrt((SHOCK_TAIL_DOF - 2.0) / chi_square), MAX_TAIL_SCALE)
    vix_shock = tail_scale * vix_noise + _regime_jumps(regimes)
    log_vix = _log_vix_path(regimes, vix_shock)
    prev_vix = np.exp(np.concatenate([[np.log(START_PRICES["VIX"])], log_vix[:-1]]))
    spy_vol = REALIZED_TO_IMPLIED * prev_vix / 100.0 / np.sqrt(SESSIONS_PER_YEAR)
    spy_shock = (
        LEVERAGE_CORRELATION * vix_shock + np.sqrt(1 - LEVERAGE_CORRELATION**2) * tail_scale * spy_noise
    )
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
        [np.outer(spy_vol, [_total_beta(s) for s in PATH_SYMBOLS[:3]]), REGIME_VOL_OF_VOL[regimes]]
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
        regimes=regimes,
        vix9d_noise=VIX9D_NOISE * vix9d_noise,
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


def _regime_jumps(regimes: NDArray[np.int64]) -> Floats:
    """Extra log-VIX shock (standard deviations) on the day the market moves into a worse regime."""
    previous = np.concatenate([[CALM], regimes[:-1]])
    return np.where(regimes > previous, REGIME_JUMP_SD[regimes], 0.0)


def _log_vix_path(regimes: NDArray[np.int64], shocks: Floats) -> Floats:
    """Log-VIX reverting toward its regime's level: x_t = (1-k) x_{t-1} + k ln L_t + vov_t e_t."""
    keep = 1.0 - VIX_REVERSION_PER_DAY
    drive = VIX_REVERSION_PER_DAY * np.log(REGIME_VIX_LEVELS[regimes]) + REGIME_VOL_OF_VOL[regimes] * shocks
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
