"""The volatility and regime assets on the simulated market: IV history by source, recorded once in the
ledger; the regime from the closes before the session, its inputs as numbers, its size in the candidates."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import dagster as dg
import pytest

from trading_pipeline.core.calendar import previous_session, session_close, sessions_ending
from trading_pipeline.core.iv_history import IvObservation
from trading_pipeline.core.regime import RegimeName
from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.runner import QUIET
from trading_pipeline_tests.pipeline_harness import (
    AFTERNOON,
    ENTRY_SESSION,
    MORNING,
    SESSION_JOB,
    TEST_VOLATILITY,
    PipelineHarness,
    asset_metadata,
    decision_time,
    make_harness,
)

pytestmark = pytest.mark.slow

IV_ASSETS = ("underlying_bars", "option_chains", "implied_vol_history", "iv_rank", "realized_vol")
GEX_ASSETS = ("underlying_bars", "option_chains", "dealer_gamma_exposure")
REGIME_ASSETS = (*IV_ASSETS, "market_regime", "trade_candidates")
#: The 29 sessions before ENTRY_SESSION that its IV lookback reads.
PAST = sessions_ending(previous_session(ENTRY_SESSION), TEST_VOLATILITY["iv_lookback_sessions"] - 1)


def _run(harness: PipelineHarness, assets: tuple[str, ...], at: time = MORNING) -> dg.ExecuteInProcessResult:
    job = harness.definitions().resolve_job_def(SESSION_JOB)
    return job.execute_in_process(
        partition_key=ENTRY_SESSION.isoformat(),
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey(name) for name in assets],
        tags={DECISION_TIME_TAG: decision_time(ENTRY_SESSION, at).isoformat()},
        run_config=QUIET,
    )


def _iv_rows(harness: PipelineHarness) -> dict[date, tuple[str, float, object]]:
    rows = harness.ledger_tables()["iv_observations"]
    return {r.session: (r.source, r.iv_30d, r.recorded_at) for r in rows.itertuples()}


def test_iv_history_takes_own_then_recorded_then_proxy_values_and_records_each_once(tmp_path: Path) -> None:
    # Arrange: the ledger holds 3 own observations; a recorded file holds 5 other sessions (and 1 of those)
    recorded = tmp_path / "ivs.csv"
    lines = [f"{d.isoformat()},SPY,0.31" for d in PAST[2:8]]
    recorded.write_text("session,underlying,iv_30d\n" + "\n".join(lines) + "\n")
    harness = make_harness(tmp_path, volatility={"recorded_history": str(recorded)})
    ledger = harness.with_ledger()
    own = {d: IvObservation(0.27, "chain:model_free:tradier", session_close(d)) for d in PAST[:3]}
    ledger.record_iv_observations("SPY", own)
    ledger.dispose()

    # Act: the same tick twice
    first = _run(harness, IV_ASSETS)
    recorded_once = _iv_rows(harness)
    _run(harness, IV_ASSETS)

    # Assert: each past session labelled by its best source; today's own value recorded; nothing rewritten
    assert asset_metadata(first, "implied_vol_history")["sources"] == {
        "SPY chain:model_free:tradier": 3,
        "SPY recorded:ivs.csv": 5,
        "SPY proxy:VIX": 21,
        "SPY chain:model_free:simulated": 1,
    }
    assert recorded_once[PAST[0]][:2] == ("chain:model_free:tradier", 0.27)
    assert recorded_once[PAST[3]][:2] == ("recorded:ivs.csv", 0.31)
    assert recorded_once[PAST[-1]][0] == "proxy:VIX"
    assert recorded_once[ENTRY_SESSION][0] == "chain:model_free:simulated"
    assert len(recorded_once) == len(PAST) + 1
    assert _iv_rows(harness) == recorded_once
    ranks = asset_metadata(first, "iv_rank")
    assert ranks["iv_observations_SPY"] == len(PAST) and 0.0 <= ranks["iv_rank_SPY"] <= 100.0
    history = asset_metadata(first, "implied_vol_history")  # the deciding measure and the ATM one beside it
    assert history["model_free_iv_30d_SPY"] == history["iv_30d_SPY"] == ranks["iv_30d_SPY"]
    assert (
        0.5 * history["model_free_iv_30d_SPY"] < history["atm_iv_30d_SPY"] < history["model_free_iv_30d_SPY"]
    )


def test_the_sessions_last_tick_keeps_its_own_iv_observation_whatever_the_run_order(tmp_path: Path) -> None:
    # Arrange
    harness = make_harness(tmp_path)

    # Act: the afternoon tick, then a rerun of the morning one
    afternoon = _run(harness, IV_ASSETS, AFTERNOON)
    _run(harness, IV_ASSETS, MORNING)

    # Assert
    rows = harness.ledger_tables()["iv_observations"]
    today = rows.loc[rows["session"] == ENTRY_SESSION].iloc[0]
    assert today["observed_at"] == decision_time(ENTRY_SESSION, AFTERNOON)
    assert today["iv_30d"] == pytest.approx(asset_metadata(afternoon, "implied_vol_history")["iv_30d_SPY"])


def test_market_regime_is_decided_by_the_previous_close_and_records_its_inputs_as_numbers(
    tmp_path: Path,
) -> None:
    # Arrange: every regime doubles the size (contracts: 1 in the packaged strategy)
    doubled = {name.value: 2.0 for name in RegimeName}
    harness = make_harness(tmp_path, regime={"size_multipliers": doubled})

    # Act
    morning = _run(harness, REGIME_ASSETS, MORNING)
    afternoon = _run(harness, REGIME_ASSETS, AFTERNOON)

    # Assert: both ticks see the regime of the 2025-10-03 close (the VIX above 25 for 6 of 8 sessions)
    regime = asset_metadata(morning, "market_regime")
    assert regime["decided_by_close_of"] == previous_session(ENTRY_SESSION).isoformat()
    assert (regime["regime"], regime["raw_regime"]) == ("range_calm", "range_volatile")
    for name in ("regime_code", "trend_code", "vol_level_code", "regime_sessions", "regime_code_SPY"):
        assert isinstance(regime[name], int), name
    for name in (
        "vix",
        "close",
        "sma_fast",
        "sma_slow",
        "adx",
        "sma_slow_slope_pct",
        "vix_to_vix3m",
        "vix_rank",
    ):
        assert isinstance(regime[name], float), name
    assert regime["vol_level_code"] == 2 and 0.0 < regime["adx"] < 100.0
    assert regime["backwardation"] == int(regime["vix_to_vix3m"] >= 1.0) and regime["size_multiplier"] == 2.0
    assert regime["term_shape"] in {"contango", "flat", "backwardation"} and regime["vix9d_to_vix"] > 0
    assert 0.2 < regime["iv_rv_ratio_SPY"] < 5.0
    closes_only = {k: v for k, v in regime.items() if not k.startswith("iv_")}  # IV is the tick's own
    assert {
        k: v for k, v in asset_metadata(afternoon, "market_regime").items() if k in closes_only
    } == closes_only
    candidates = morning.output_for_node("trade_candidates")
    assert [c.quantity for c in candidates] == [2]


def test_dealer_gamma_exposure_records_net_gex_the_zero_gamma_level_and_positioning(tmp_path: Path) -> None:
    # Act
    result = _run(make_harness(tmp_path), GEX_ASSETS)

    # Assert
    gex = asset_metadata(result, "dealer_gamma_exposure")
    frame = result.output_for_node("dealer_gamma_exposure")
    row = frame.iloc[0]
    assert row["net_gex"] == pytest.approx(row["call_gex"] + row["put_gex"])
    assert row["call_gex"] > 0 > row["put_gex"]
    assert gex["net_gex_usd_bn_SPY"] == pytest.approx(row["net_gex"] / 1e9, abs=1e-4)
    assert gex["positioning_code_SPY"] in {-1, 0, 1} and gex["positioning"]["SPY"] == row["positioning"]
    assert 0.8 * row["spot"] < gex["zero_gamma_level_SPY"] < 1.2 * row["spot"]
