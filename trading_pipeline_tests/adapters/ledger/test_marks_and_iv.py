"""Position marks and implied-vol observations are upserted: one row per key, latest values win; unknown
greeks stay unknown; stale marks are recorded once per position and tick beside the last good mark."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.core.iv_history import IvObservation
from trading_pipeline.core.positions import PositionMark, StaleMark
from trading_pipeline_tests.adapters.ledger.builders import FILL_TIME, SESSION, fill_of, opening_intent


def _mark(position_id: str, value: str, pnl: str, delta: float) -> PositionMark:
    return PositionMark(position_id, FILL_TIME, Decimal(value), Decimal(pnl), delta, -0.01, -0.35, 0.21)


def test_record_marks_of_the_same_tick_twice_keeps_one_mark_with_latest_values(ledger: SqlLedger) -> None:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))
    ledger.record_marks(SESSION, [_mark(intent.client_order_id, "-1.80", "120.00", 0.05)])

    ledger.record_marks(SESSION, [_mark(intent.client_order_id, "-1.50", "180.00", -0.02)])

    marks = ledger.snapshot()["position_marks"]
    assert marks[["mark_value", "unrealized_pnl", "delta"]].values.tolist() == [
        [Decimal("-1.50"), Decimal("180.00"), -0.02]
    ]


def test_marks_of_later_ticks_are_kept_as_history_and_read_as_of_a_time(ledger: SqlLedger) -> None:
    # Arrange: the 10:00 mark, then a mark one hour later in the same session
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))
    ledger.record_marks(SESSION, [_mark(intent.client_order_id, "-1.80", "120.00", 0.05)])
    later = replace(
        _mark(intent.client_order_id, "-1.40", "200", 0.0), marked_at=FILL_TIME + timedelta(hours=1)
    )

    # Act
    ledger.record_marks(SESSION, [later])

    # Assert: both kept; each time sees the mark it had
    assert len(ledger.snapshot()["position_marks"]) == 2
    assert [m.mark_value for m in ledger.latest_marks(as_of=FILL_TIME)] == [Decimal("-1.80")]
    assert [m.mark_value for m in ledger.latest_marks(as_of=FILL_TIME + timedelta(hours=2))] == [
        Decimal("-1.40")
    ]
    assert [m.mark_value for m in ledger.latest_marks()] == [Decimal("-1.40")]


def _opened(ledger: SqlLedger) -> str:
    intent = opening_intent()
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, "F-1", quantity=2, net_value="-2.40"))
    return intent.client_order_id


def test_a_mark_with_unknown_greeks_is_recorded_and_reads_back_nan_not_zero(ledger: SqlLedger) -> None:
    # Arrange: a leg's IV could not be solved, so delta and vega are unknown; the mid still values it.
    position_id = _opened(ledger)
    mark = replace(_mark(position_id, "-1.80", "120.00", math.nan), vega=math.nan)

    # Act
    ledger.record_marks(SESSION, [mark])

    # Assert
    [stored] = ledger.latest_marks()
    assert (stored.mark_value, stored.gamma, stored.theta) == (Decimal("-1.80"), -0.01, 0.21)
    assert math.isnan(stored.delta) and math.isnan(stored.vega)
    assert ledger.snapshot()["position_marks"][["delta", "vega"]].isna().all(axis=None)


def test_a_stale_tick_keeps_the_last_good_mark_and_records_why(ledger: SqlLedger) -> None:
    # Arrange: marked at FILL_TIME; an hour later a leg has no quote.
    position_id = _opened(ledger)
    ledger.record_marks(SESSION, [_mark(position_id, "-1.80", "120.00", 0.05)])
    later = FILL_TIME + timedelta(hours=1)
    stale = StaleMark(position_id, later, "no quote for SPY   250417C00600500")

    # Act
    new = ledger.record_stale_marks(SESSION, [stale])

    # Assert
    assert new == [stale]
    assert ledger.stale_marks(marked_at=later) == [stale]
    assert ledger.stale_marks(marked_at=FILL_TIME) == []
    assert [(m.marked_at, m.mark_value) for m in ledger.latest_marks(as_of=later)] == [
        (FILL_TIME, Decimal("-1.80"))
    ]


def test_recording_the_same_stale_tick_again_records_nothing_new(ledger: SqlLedger) -> None:
    # Arrange
    position_id = _opened(ledger)
    stale = StaleMark(position_id, FILL_TIME, "no quote for SPY   250417C00600500")
    ledger.record_stale_marks(SESSION, [stale])

    # Act
    again = ledger.record_stale_marks(SESSION, [stale])

    # Assert
    assert again == []
    assert ledger.stale_marks() == [stale]


def _observed(iv: float, source: str, hour: int, day: date = SESSION) -> IvObservation:
    return IvObservation(iv, source, datetime(day.year, day.month, day.day, hour, tzinfo=UTC))


def test_iv_observations_keep_their_source_and_time_per_underlying_and_session(ledger: SqlLedger) -> None:
    # Arrange
    later = SESSION + timedelta(days=1)
    spy = {
        SESSION: _observed(0.20, "proxy:VIX", 21),
        later: _observed(0.22, "chain:model_free:sim", 15, later),
    }

    # Act
    ledger.record_iv_observations("SPY", spy)
    ledger.record_iv_observations("QQQ", {SESSION: _observed(0.5, "proxy:VIX", 21)})

    # Assert
    assert ledger.iv_observations("SPY", SESSION, later) == spy
    assert ledger.iv_observations("SPY", later, later + timedelta(days=3)) == {later: spy[later]}


def test_a_derived_iv_is_replaced_by_anything_but_an_own_one_only_by_a_later_own_one(
    ledger: SqlLedger,
) -> None:
    # Arrange: a proxy, then a recorded value, then the session's 15:00 and 14:00 own observations
    ledger.record_iv_observations("SPY", {SESSION: _observed(0.20, "proxy:VIX", 21)})
    ledger.record_iv_observations("SPY", {SESSION: _observed(0.21, "recorded:ivs.csv", 21)})
    recorded = ledger.iv_observations("SPY", SESSION, SESSION)[SESSION]
    ledger.record_iv_observations("SPY", {SESSION: _observed(0.23, "chain:model_free:sim", 15)})

    # Act: an earlier tick's rerun and a derived value arrive after the 15:00 observation
    ledger.record_iv_observations("SPY", {SESSION: _observed(0.22, "chain:model_free:sim", 14)})
    ledger.record_iv_observations("SPY", {SESSION: _observed(0.20, "proxy:VIX", 21)})

    # Assert: the session keeps its last tick's own observation
    assert recorded.source == "recorded:ivs.csv"
    assert ledger.iv_observations("SPY", SESSION, SESSION)[SESSION] == _observed(
        0.23, "chain:model_free:sim", 15
    )
    assert len(ledger.snapshot()["iv_observations"]) == 1


def test_an_own_iv_of_another_measure_is_replaced_when_only_one_measure_is_trusted(ledger: SqlLedger) -> None:
    # Arrange: an ATM observation recorded when ATM was the measure
    ledger.record_iv_observations("SPY", {SESSION: _observed(0.15, "chain:atm:sim", 15)})

    # Act: model-free is the measure now; its history takes the proxy for that session
    ledger.record_iv_observations(
        "SPY", {SESSION: _observed(0.20, "proxy:VIX", 21)}, trusted="chain:model_free:"
    )

    # Assert
    assert ledger.iv_observations("SPY", SESSION, SESSION)[SESSION].source == "proxy:VIX"
