"""Run great-expectations 1.x suites on DataFrames from asset checks (imported lazily: ~3 s import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class ExpectationOutcome:
    """Whether a suite passed, and per failed expectation its unexpected count and sample values."""

    success: bool
    failures: dict[str, dict[str, Any]]


def validate_frame(frame: pd.DataFrame, suite_name: str, expectations: list[Any]) -> ExpectationOutcome:
    """Validate `frame` against GX expectation objects in an ephemeral context."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (
        context.data_sources.add_pandas("pandas")
        .add_dataframe_asset(name=suite_name)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations:
        suite.add_expectation(expectation)
    result = batch.validate(suite)
    failures = {
        f"{item.expectation_config.type}({item.expectation_config.kwargs.get('column') or ''})": {
            "unexpected_count": item.result.get("unexpected_count"),
            "sample": [str(v) for v in (item.result.get("partial_unexpected_list") or [])[:5]],
        }
        for item in result.results
        if not item.success
    }
    return ExpectationOutcome(bool(result.success), failures)


def chain_quote_expectations() -> list[Any]:
    """Tabular rules every option chain must meet: quotes present, non-negative, ask above bid (neither
    crossed nor locked at zero width: such a market cannot be traded at a fair price)."""
    import great_expectations as gx

    return [
        gx.expectations.ExpectColumnValuesToNotBeNull(column="bid"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="ask"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="bid", min_value=0),
        gx.expectations.ExpectColumnValuesToBeBetween(column="strike", min_value=0, strict_min=True),
        gx.expectations.ExpectColumnValuesToBeInSet(column="right", value_set=["C", "P"]),
        gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="ask", column_B="bid", or_equal=False
        ),
        gx.expectations.ExpectColumnValuesToBeUnique(column="occ_symbol"),
    ]
