"""0DTE: same-day expirations only, entry windows, cut-off, half-days, the time stop, params, real chains."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError

from trading_pipeline.core.calendar import ET, at_et, decision_times
from trading_pipeline.core.candidates import StrategyOutcome, TradeCandidate, candidate_problems
from trading_pipeline.core.chain import enrich_chain
from trading_pipeline.core.fills import LegQuote
from trading_pipeline.core.instruments import Right, Side
from trading_pipeline.core.intents import plan_exit
from trading_pipeline.core.positions import Position, PositionMark
from trading_pipeline.core.regime import MarketRegime, RegimeName, RegimeParams
from trading_pipeline.core.regime_history import classify_regime
from trading_pipeline.core.strategies.base import StrategyContext
from trading_pipeline.core.strategies.names import DEFAULT_PERMISSIONS
from trading_pipeline.core.strategies.zero_dte import ZeroDte, ZeroDteParams
from trading_pipeline.settings import ConfigError, default_config_path, parse_config
from trading_pipeline_tests.core.chain_builders import CARRY, enriched_chain, quote_chain
from trading_pipeline_tests.real_market_data import enriched_real_chain, needs_market_data

SESSION = date(2025, 10, 6)  # a Monday, regular hours (close 16:00 ET)
HALF_DAY = date(2025, 11, 28)  # the day after Thanksgiving (close 13:00 ET)
PACKAGED_TICKS = [time(10, 0), time(15, 30)]  # sessions.decision_times_et of the packaged config


def _regime(name: RegimeName = RegimeName.RANGE_CALM, **changes: object) -> MarketRegime:
    closes = pd.Series(np.full(200, 100.0), index=pd.bdate_range("2023-01-02", periods=200))
    regime = classify_regime(closes, vix=18.0, iv_rank=None, params=RegimeParams())
    return replace(regime, name=name, permissions=DEFAULT_PERMISSIONS[name], **changes)  # type: ignore[arg-type]


def _chain(now: datetime, dtes: tuple[int, ...] = (0, 1, 2, 7)) -> pd.DataFrame:
    """SPY at 500 with $1 strikes and one-cent half-spreads, expiring `dtes` calendar days after `now`."""
    return enriched_chain(now, dtes=dtes, strikes=range(480, 521), spread_cents=2)


def _context(
    now: datetime,
    chain: pd.DataFrame | None = None,
    ticks: list[time] | None = None,
    regime: MarketRegime | None = None,
) -> StrategyContext:
    """A tick at `now` on its session, whose decision times are `ticks` (the packaged ones by default)."""
    session = now.astimezone(ET).date()
    return StrategyContext(
        now=now,
        chains=_chain(now) if chain is None else chain,
        iv_ranks={"SPY": 50.0, "SPX": 50.0},
        regime=regime or _regime(),
        limit_fraction=Decimal("0.5"),
        decision_times=tuple(decision_times(session, PACKAGED_TICKS if ticks is None else ticks)),
    )


def _only(outcome: StrategyOutcome) -> TradeCandidate:
    assert outcome.skipped == (), outcome.skipped
    (candidate,) = outcome.candidates
    return candidate


def _skipped(outcome: StrategyOutcome) -> str:
    assert outcome.candidates == ()
    (reason,) = outcome.skipped
    return reason


# --- same-day only ------------------------------------------------------------------------------------------


def test_a_same_day_condor_trades_only_the_sessions_own_expiration() -> None:
    # Arrange: expirations today, tomorrow, in two days and in a week
    now = at_et(SESSION, time(10, 0))

    # Act
    candidate = _only(ZeroDte(ZeroDteParams(structure="iron_condor")).propose(_context(now)))

    # Assert: four legs on today's expiration, sold inside, 2-point wings bought outside
    assert candidate.expiration == SESSION
    assert {leg.contract.expiration for leg in candidate.legs} == {SESSION}
    assert [(leg.side, leg.contract.right) for leg in candidate.legs] == [
        (Side.SELL, Right.PUT),
        (Side.BUY, Right.PUT),
        (Side.SELL, Right.CALL),
        (Side.BUY, Right.CALL),
    ]
    put_wing, short_put, short_call, call_wing = sorted(float(leg.contract.strike) for leg in candidate.legs)
    assert short_put - put_wing == call_wing - short_call == 2
    assert put_wing < short_put < 500 < short_call < call_wing
    assert candidate.details["dte"] == 0
    assert candidate.max_loss == candidate.buying_power == (Decimal(2) + candidate.limit_price) * 100
    assert candidate_problems(candidate) == []
    assert "time stop 15:30 ET" in candidate.rationale


def test_without_a_same_day_expiration_it_stands_aside_naming_what_is_listed() -> None:
    # Arrange: the nearest expiration is tomorrow's
    now = at_et(SESSION, time(10, 0))
    chain = _chain(now, dtes=(1, 2, 7))

    # Act
    reason = _skipped(ZeroDte(ZeroDteParams()).propose(_context(now, chain)))

    # Assert
    assert reason == (
        "no same-day (PM-settled 2025-10-06) expiration in the chain; listed: "
        "['2025-10-07', '2025-10-08', '2025-10-13']"
    )


def test_an_am_settled_series_expiring_today_is_not_a_same_day_trade() -> None:
    # Arrange: only the AM-settled SPX monthly expires today (it stopped trading yesterday)
    now = at_et(SESSION, time(10, 0))
    quotes = quote_chain(now, dtes=(0,), strikes=range(4900, 5105, 5), underlying="SPX", spot=5000.0)
    chain = enrich_chain(quotes, now, {"SPX": CARRY["SPY"]})
    params = ZeroDteParams(underlying="SPX", width=Decimal("10"))

    # Act
    reason = _skipped(ZeroDte(params).propose(_context(now, chain)))

    # Assert
    assert reason == "no same-day (PM-settled 2025-10-06) expiration in the chain; listed: []"


# --- entry windows and cut-off ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (time(9, 59), "no 0DTE entry: 09:59 ET is outside the entry windows (10:00 ET-10:30 ET)"),
        (time(10, 30), "no 0DTE entry: 10:30 ET is outside the entry windows (10:00 ET-10:30 ET)"),
        (time(15, 30), "no 0DTE entry: 15:30 ET is outside the entry windows (10:00 ET-10:30 ET)"),
    ],
)
def test_outside_every_entry_window_it_stands_aside(at: time, reason: str) -> None:
    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(_context(at_et(SESSION, at)))

    # Assert
    assert _skipped(outcome) == reason


def test_the_last_minute_of_an_entry_window_still_enters() -> None:
    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(_context(at_et(SESSION, time(10, 29))))

    # Assert
    assert _only(outcome).expiration == SESSION


def test_each_configured_entry_time_opens_its_own_window() -> None:
    # Arrange: a second entry time at 13:00, with a 13:00 decision time
    params = ZeroDteParams(entry_times_et=(time(10, 0), time(13, 0)))
    ticks = [time(10, 0), time(13, 0), time(15, 30)]

    # Act
    entered = ZeroDte(params).propose(_context(at_et(SESSION, time(13, 10)), ticks=ticks))
    between = ZeroDte(params).propose(_context(at_et(SESSION, time(11, 0)), ticks=ticks))

    # Assert
    assert _only(entered).expiration == SESSION
    assert _skipped(between) == (
        "no 0DTE entry: 11:00 ET is outside the entry windows (10:00 ET-10:30 ET, 13:00 ET-13:30 ET)"
    )


def test_no_entry_at_or_after_the_cutoff_even_inside_a_window() -> None:
    # Arrange: a 13:00 window of an hour, entries cut off 150 minutes before the 16:00 close (13:30)
    params = ZeroDteParams(
        entry_times_et=(time(13, 0),), entry_window_minutes=60, entry_cutoff_minutes_before_close=150
    )

    # Act
    outcome = ZeroDte(params).propose(_context(at_et(SESSION, time(13, 30))))

    # Assert
    assert _skipped(outcome) == (
        "no 0DTE entry: 13:30 ET is at or after the cut-off 13:30 ET, before the 16:00 ET close of 2025-10-06"
    )


def test_a_half_days_cutoff_counts_from_its_early_close() -> None:
    # Arrange: 10:00 entries for 90 minutes; the 120-minute cut-off is 11:00 on a 13:00 half-day
    params = ZeroDteParams(entry_window_minutes=90)

    # Act
    outcome = ZeroDte(params).propose(
        _context(at_et(HALF_DAY, time(11, 0)), ticks=[time(10, 0), time(12, 45)])
    )

    # Assert
    assert _skipped(outcome) == (
        "no 0DTE entry: 11:00 ET is at or after the cut-off 11:00 ET, before the 13:00 ET close of "
        "2025-11-28 (a half-day)"
    )


def test_on_a_half_day_without_a_decision_time_after_the_time_stop_it_never_enters() -> None:
    # Arrange: the packaged decision times; the half-day drops its 15:30 tick (after the 13:00 close)
    now = at_et(HALF_DAY, time(10, 0))

    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(_context(now))

    # Assert: nothing would close the position before the close: no entry
    assert _skipped(outcome) == (
        "no 0DTE entry: no decision time from the time stop 12:30 ET to the 13:00 ET close of 2025-11-28 "
        "(a half-day) would close a same-day position (decision times: 10:00 ET)"
    )


def test_on_a_half_day_with_a_decision_time_after_the_time_stop_it_enters_and_stops_at_1230() -> None:
    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(
        _context(at_et(HALF_DAY, time(10, 0)), ticks=[time(10, 0), time(12, 45)])
    )

    # Assert
    candidate = _only(outcome)
    assert candidate.expiration == HALF_DAY
    assert "time stop 12:30 ET" in candidate.rationale


def test_without_any_known_decision_time_it_stands_aside() -> None:
    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(_context(at_et(SESSION, time(10, 0)), ticks=[]))

    # Assert
    assert _skipped(outcome).endswith("would close a same-day position (decision times: none)")


def test_timing_and_regime_reasons_are_given_together() -> None:
    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(
        _context(at_et(SESSION, time(11, 0)), regime=_regime(RegimeName.BEAR_VOLATILE))
    )

    # Assert
    assert outcome.skipped == (
        "regime bear_volatile does not permit zero_dte",
        "no 0DTE entry: 11:00 ET is outside the entry windows (10:00 ET-10:30 ET)",
    )


# --- structure by regime ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("own_regime", "rights"),
    [
        (RegimeName.BULL_CALM, [Right.PUT]),
        (RegimeName.BEAR_CALM, [Right.CALL]),
        (RegimeName.RANGE_CALM, [Right.PUT, Right.CALL]),
    ],
)
def test_by_regime_sells_the_side_the_underlyings_trend_calls_for(
    own_regime: RegimeName, rights: list[Right]
) -> None:
    # Arrange: the market's regime permits 0DTE; SPY's own closes set the trend
    regime = _regime(RegimeName.RANGE_CALM, by_underlying={"SPY": own_regime})

    # Act
    candidate = _only(ZeroDte(ZeroDteParams()).propose(_context(at_et(SESSION, time(10, 0)), regime=regime)))

    # Assert
    assert [leg.contract.right for leg in candidate.legs if leg.side is Side.SELL] == rights
    assert candidate.expiration == SESSION


def test_by_regime_in_a_crisis_of_its_own_sells_nothing() -> None:
    # Arrange
    regime = _regime(RegimeName.RANGE_CALM, by_underlying={"SPY": RegimeName.CRISIS})

    # Act
    outcome = ZeroDte(ZeroDteParams()).propose(_context(at_et(SESSION, time(10, 0)), regime=regime))

    # Assert
    assert _skipped(outcome) == "regime crisis calls for no 0DTE structure"


# --- exit policy --------------------------------------------------------------------------------------------


def _opened(candidate: TradeCandidate, at: datetime) -> tuple[Position, PositionMark, tuple[LegQuote, ...]]:
    """The candidate as an open position at its mid, marked unchanged, with one-cent quotes around it."""
    position = Position(
        "Z-1", candidate.strategy, candidate.underlying, candidate.legs, 1, candidate.mid_value, at
    )
    mark = PositionMark("Z-1", at, candidate.mid_value, Decimal(0), 0.0, 0.0, 0.0, 0.0)
    quotes = tuple(LegQuote(Decimal("0.10"), Decimal("0.12")) for _ in candidate.legs)
    return position, mark, quotes


def test_a_same_day_position_gets_no_dte_exit_at_entry_and_closes_at_its_time_stop() -> None:
    # Arrange
    strategy = ZeroDte(ZeroDteParams())
    entry = at_et(SESSION, time(10, 0))
    position, mark, quotes = _opened(_only(strategy.propose(_context(entry))), entry)
    rules = strategy.exit_rules()

    # Act: the entry tick, a minute before the stop, and the 15:30 tick
    at_entry = plan_exit(position, mark, quotes, rules, Decimal("0.5"), SESSION, entry)
    before = plan_exit(position, mark, quotes, rules, Decimal("0.5"), SESSION, at_et(SESSION, time(15, 29)))
    at_stop = plan_exit(position, mark, quotes, rules, Decimal("0.5"), SESSION, at_et(SESSION, time(15, 30)))

    # Assert
    assert rules.exit_dte is None
    assert at_entry is None and before is None
    assert at_stop is not None
    assert at_stop.decision.reasons == (
        "time stop: 15:30 ET is at or after 15:30 ET, 30 minutes before the 16:00 ET close of expiration day "
        "2025-10-06",
    )
    assert [leg.side for leg in at_stop.intent.legs] == [Side.BUY, Side.SELL, Side.BUY, Side.SELL]


# --- parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"time_stop_minutes_before_close": 120},
            r"time_stop_minutes_before_close \(120\) must be below entry_cutoff_minutes_before_close \(120\)",
        ),
        (
            {"entry_times_et": (time(14, 0),)},
            r"entry_times_et 14:00 is outside the entry hours of a regular session, 09:30 to the cut-off "
            r"14:00 ET \(entry_cutoff_minutes_before_close 120 before the 16:00 close\)",
        ),
        ({"entry_times_et": (time(9, 15),)}, r"entry_times_et 09:15 is outside the entry hours"),
        (
            {"entry_times_et": (time(10, 0), time(10, 0))},
            r"entry_times_et lists a time twice: \['10:00', '10:00'\]",
        ),
        ({"entry_times_et": ()}, r"entry_times_et"),
        ({"structure": "straddle"}, r"structure"),
        ({"max_delta_error": 0.3}, r"max_delta_error \(0.3\) must be below short_delta \(0.25\)"),
        ({"entry_window_minutes": 0}, r"entry_window_minutes"),
        ({"exit_dte": 21}, r"exit_dte"),  # a same-day trade has no DTE exit to set
    ],
)
def test_invalid_params_are_refused_naming_the_field_and_value(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        ZeroDteParams(**overrides)


def _packaged_config() -> dict[str, Any]:
    return dict(yaml.safe_load(default_config_path().read_text()))


def test_the_packaged_zero_dte_enters_at_a_decision_time_and_is_closed_by_the_1530_tick() -> None:
    # Arrange
    config = parse_config(_packaged_config())
    params = config.strategies.zero_dte
    ticks = decision_times(SESSION, list(config.sessions.decision_times_et))

    # Act
    stop = ZeroDte(params).exit_rules().time_stop_before_close

    # Assert
    assert params.enabled and params.entry_times_et == (time(10, 0),)
    assert stop is not None and at_et(SESSION, time(16, 0)) - stop == ticks[-1] == at_et(
        SESSION, time(15, 30)
    )


def test_an_entry_window_holding_no_decision_time_is_a_configuration_error() -> None:
    # Arrange
    data = _packaged_config()
    data["strategies"]["zero_dte"]["entry_times_et"] = ["11:00"]

    # Act / Assert
    with pytest.raises(
        ConfigError, match=r"strategies.zero_dte.entry_times_et 11:00 \(entry_window_minutes 30\) "
    ):
        parse_config(data)
    data["strategies"]["zero_dte"]["enabled"] = False
    assert not parse_config(data).strategies.zero_dte.enabled  # a disabled one may keep any window


# --- real chains --------------------------------------------------------------------------------------------


@needs_market_data
def test_on_a_real_spx_chain_with_a_same_day_spxw_expiry_the_condor_is_same_day_and_pm_settled() -> None:
    # Arrange: Cboe SPX quotes of Friday 2023-06-09 13:40 ET, 49 expirations from that day on
    chain, underlying, now = enriched_real_chain("SPX_2023-06-09_cboe.csv")
    params = ZeroDteParams(
        underlying=underlying,
        structure="iron_condor",
        width=Decimal("10"),
        entry_times_et=(time(13, 30),),
        entry_cutoff_minutes_before_close=60,
        time_stop_minutes_before_close=15,
    )
    session = now.astimezone(ET).date()
    context = replace(
        _context(now, chain),
        decision_times=tuple(decision_times(session, [time(13, 30), time(15, 45)])),
    )

    # Act
    candidate = _only(ZeroDte(params).propose(context))

    # Assert: every leg on the 0DTE SPXW series (later expirations were listed), 10 wide, a defined max loss
    assert chain["expiration"].nunique() > 1
    assert {leg.contract.expiration for leg in candidate.legs} == {date(2023, 6, 9)}
    assert {leg.contract.root for leg in candidate.legs} == {"SPXW"}
    put_wing, short_put, short_call, call_wing = sorted(float(leg.contract.strike) for leg in candidate.legs)
    assert short_put - put_wing == call_wing - short_call == 10
    assert candidate.max_loss == (Decimal(10) + candidate.limit_price) * 100
    assert candidate_problems(candidate) == []
    sold = [chain.loc[chain["occ_symbol"] == leg.contract.occ_symbol].iloc[0] for leg in candidate.legs[::2]]
    assert all(abs(abs(row["delta"]) - 0.25) <= 0.10 for row in sold)


@needs_market_data
def test_on_a_real_chain_quoted_after_the_close_it_stands_aside() -> None:
    # Arrange: Cboe SPX quotes of 2023-09-14 16:31 ET; that day's SPXW expiry has already expired
    chain, underlying, now = enriched_real_chain("SPX_2023-09-14_cboe.csv")

    # Act
    outcome = ZeroDte(ZeroDteParams(underlying=underlying)).propose(_context(now, chain))

    # Assert
    assert _skipped(outcome) == "no 0DTE entry: market closed at 16:31 ET on 2023-09-14"
