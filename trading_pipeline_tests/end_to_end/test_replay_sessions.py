"""The whole session graph on real history (TRADING_ENV=replay): October 2008 is a crisis."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from trading_pipeline.defs.partitions import DECISION_TIME_TAG
from trading_pipeline.defs.resources import ReplayMarketResource
from trading_pipeline.runner import QUIET
from trading_pipeline_tests.pipeline_harness import (
    MORNING,
    SESSION_JOB,
    TEST_VOLATILITY,
    asset_metadata,
    check_evaluations,
    decision_time,
    make_harness,
    materialized,
)
from trading_pipeline_tests.real_market_data import MARKET_DATA, needs_market_data

pytestmark = [needs_market_data, pytest.mark.slow]

CHAIN_CHECKS = (
    "chain_quotes_not_crossed",
    "chain_quotes_fresh",
    "chain_complete_around_spot",
    "chain_iv_solvable",
)


def test_a_replayed_october_2008_session_passes_the_chain_gates_and_is_a_crisis(tmp_path: Path) -> None:
    # Arrange
    harness = make_harness(tmp_path, market=ReplayMarketResource(data_dir=str(MARKET_DATA)), env="replay")

    # Act
    result = harness.run_session(date(2008, 10, 15), MORNING)

    # Assert: real inputs reached every stage; the VIX close before it makes it a crisis with no entries
    checks = check_evaluations(result)
    assert all(checks[name].passed for name in CHAIN_CHECKS), {n: checks[n].passed for n in CHAIN_CHECKS}
    regime = asset_metadata(result, "market_regime")
    assert regime["regime"] == "crisis"
    assert regime["vix"] == pytest.approx(55.13, abs=0.01)  # VIX close of 2008-10-14, not the open's 55.69
    assert regime["decided_by_close_of"] == "2008-10-14"
    assert math.isnan(regime["vix_to_vix3m"])  # the VIX3M history begins in 2009: no term structure yet
    assert "VIX3M" in asset_metadata(result, "underlying_bars")["unavailable"]
    chains = asset_metadata(result, "option_chains")
    assert chains["spot_SPY"] == pytest.approx(97.46, abs=0.01)  # the open of 2008-10-15: its close is future
    assert 0.0 < chains["rate_SPY"] < 0.01  # T-bills near zero in the panic
    assert "order_submissions" in materialized(result)
    assert asset_metadata(result, "risk_approved_orders").get("approved", 0) == 0
    rv = asset_metadata(result, "realized_vol")  # every estimator sees the crash, within a factor 2
    for estimator in ("parkinson", "garman_klass", "yang_zhang"):
        assert 0.5 < rv[f"rv_{estimator}_SPY"] / rv["rv_SPY"] < 2.0
    assert rv["rv_SPY"] > 0.5  # 20-day close-to-close vol of SPY into 2008-10-14
    sources = asset_metadata(result, "implied_vol_history")["sources"]  # no provider answers past chains
    assert sources == {"SPY proxy:VIX": 29, "SPY chain:model_free:replay": 1}
    ranks = asset_metadata(result, "iv_rank")  # high in its lookback, below the peak of 2008-10-10
    assert ranks["iv_observations_SPY"] == TEST_VOLATILITY["iv_lookback_sessions"] - 1
    assert 50.0 < ranks["iv_rank_SPY"] < 100.0 and 80.0 < ranks["iv_percentile_SPY"] < 100.0


def test_a_term_index_that_begins_inside_the_lookback_is_read_from_its_first_session(tmp_path: Path) -> None:
    # Arrange: 2010-06-01's bar lookback starts in 2009, before the VIX3M file does (2009-09-18)
    harness = make_harness(tmp_path, market=ReplayMarketResource(data_dir=str(MARKET_DATA)), env="replay")
    job = harness.definitions().resolve_job_def(SESSION_JOB)

    # Act
    result = job.execute_in_process(
        partition_key="2010-06-01",
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[dg.AssetKey("underlying_bars")],
        tags={DECISION_TIME_TAG: decision_time(date(2010, 6, 1), MORNING).isoformat()},
        run_config=QUIET,
    )

    # Assert: VIX3M from its first session on, VIX9D (from 2011) unavailable, named in the metadata
    bars = result.output_for_node("underlying_bars")
    vix3m = bars.loc[bars["symbol"] == "VIX3M", "session"]
    assert pd.Timestamp(vix3m.min()) == pd.Timestamp("2009-09-18") and len(vix3m) > 150
    assert list(asset_metadata(result, "underlying_bars")["unavailable"]) == ["VIX9D"]
