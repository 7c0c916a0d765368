"""The blocking option-chain checks called directly: what fails them and which contracts they name."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from trading_pipeline.defs.market_data.checks import (
    chain_complete_around_spot,
    chain_iv_solvable,
    chain_quotes_fresh,
    chain_quotes_not_crossed,
)
from trading_pipeline.defs.partitions import DECISION_TIME_TAG, session_partitions
from trading_pipeline.defs.resources import TradingConfigResource
from trading_pipeline_tests.core.chain_builders import NOW, enriched_chain
from trading_pipeline_tests.pipeline_harness import write_test_config

CONFIG = TradingConfigResource()


def _chain() -> pd.DataFrame:
    """A complete enriched SPY chain around spot 500 that passes every check."""
    return enriched_chain(dtes=(30, 42), strikes=range(440, 565, 5))


def test_a_complete_chain_passes_every_check() -> None:
    # Arrange
    chain = _chain()

    # Act
    results = [
        chain_quotes_not_crossed(option_chains=chain),
        chain_complete_around_spot(option_chains=chain, trading_config=CONFIG),
        chain_iv_solvable(option_chains=chain, trading_config=CONFIG),
    ]

    # Assert
    assert [result.passed for result in results] == [True, True, True]


def test_a_locked_zero_width_quote_fails_the_not_crossed_check_and_is_named() -> None:
    # Arrange
    chain = _chain()
    chain.loc[7, ["bid", "ask"]] = [1.50, 1.50]

    # Act
    result = chain_quotes_not_crossed(option_chains=chain)

    # Assert
    assert not result.passed
    assert (result.metadata["crossed_quotes"].value, result.metadata["locked_quotes"].value) == (0, 1)
    listed = result.metadata["crossed_or_locked"].value
    assert listed == {
        "total": 1,
        "shown": [{"occ_symbol": chain.at[7, "occ_symbol"], "bid": 1.5, "ask": 1.5}],
    }


def test_completeness_check_names_the_incomplete_expirations() -> None:
    # Arrange: the 42-day expiration loses every strike above spot.
    chain = _chain()
    thin = chain["expiration"] == chain["expiration"].max()
    chain = chain[~(thin & (chain["strike"] > 500))]

    # Act
    result = chain_complete_around_spot(option_chains=chain, trading_config=CONFIG)

    # Assert
    assert not result.passed
    listed = result.metadata["incomplete"].value
    assert listed["total"] == 1
    assert pd.Timestamp(listed["shown"][0]["expiration"]) == chain["expiration"].max()
    assert listed["shown"][0]["above"] == 0


def test_completeness_check_fails_when_a_universe_underlying_has_no_quotes(tmp_path: Path) -> None:
    # Arrange: the universe trades SPY and QQQ; the provider quoted SPY only.
    path = write_test_config(tmp_path, universe={"underlyings": ["SPY", "QQQ"]})
    config = TradingConfigResource(config_path=str(path))

    # Act
    result = chain_complete_around_spot(option_chains=_chain(), trading_config=config)

    # Assert
    assert not result.passed
    assert result.metadata["underlyings_without_quotes"].value == ["QQQ"]


def test_iv_check_names_the_near_money_contracts_without_iv() -> None:
    # Arrange
    chain = _chain()
    unsolved = chain["strike"].isin([495.0, 500.0])
    chain.loc[unsolved, "iv"] = np.nan

    # Act
    result = chain_iv_solvable(option_chains=chain, trading_config=CONFIG)

    # Assert
    assert not result.passed
    listed = result.metadata["unsolvable_contracts"].value
    assert listed["total"] == int(unsolved.sum())
    assert {row["occ_symbol"] for row in listed["shown"]} == set(chain.loc[unsolved, "occ_symbol"])


@pytest.mark.parametrize("check", [chain_complete_around_spot, chain_iv_solvable])
def test_an_empty_chain_fails_the_check_saying_it_is_empty(check: dg.AssetChecksDefinition) -> None:
    # Arrange
    empty = _chain().iloc[0:0]

    # Act
    result = check(option_chains=empty, trading_config=CONFIG)

    # Assert
    assert not result.passed
    assert result.metadata["contracts"].value == 0
    assert "empty" in result.metadata["reason"].value


def test_an_empty_chain_fails_the_not_crossed_check_saying_it_is_empty() -> None:
    # Act
    result = chain_quotes_not_crossed(option_chains=_chain().iloc[0:0])

    # Assert
    assert not result.passed
    assert "empty" in result.metadata["reason"].value


def _freshness(chain: pd.DataFrame) -> dg.AssetCheckEvaluation:
    """Evaluate chain_quotes_fresh on `chain` in a run of NOW's session whose decision time is NOW."""

    @dg.asset(name="option_chains", partitions_def=session_partitions)
    def stub_chain() -> pd.DataFrame:
        return chain

    result = dg.materialize(
        [stub_chain, chain_quotes_fresh],
        partition_key=NOW.date().isoformat(),
        tags={DECISION_TIME_TAG: NOW.isoformat()},
        resources={"trading_config": CONFIG},
        raise_on_error=False,
    )
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_freshness_check_fails_on_a_quote_stamped_after_the_decision_time_and_names_it() -> None:
    # Arrange: one quote stamped 5 s after the decision time (beyond the 1 s of tolerated clock skew)
    chain = _chain()
    chain.loc[3, "quote_time"] = pd.Timestamp(NOW) + pd.Timedelta(seconds=5)

    # Act
    evaluation = _freshness(chain)

    # Assert
    assert not evaluation.passed
    assert evaluation.metadata["future_quotes"].value == 1
    [shown] = evaluation.metadata["future_stamped"].value["shown"]
    assert shown["occ_symbol"] == chain.at[3, "occ_symbol"]


def test_freshness_check_passes_quotes_within_the_clock_skew_of_the_decision_time() -> None:
    # Arrange
    chain = _chain()
    chain.loc[3, "quote_time"] = pd.Timestamp(NOW) + pd.Timedelta(seconds=1)

    # Act
    evaluation = _freshness(chain)

    # Assert
    assert evaluation.passed
    assert evaluation.metadata["future_quotes"].value == 0
