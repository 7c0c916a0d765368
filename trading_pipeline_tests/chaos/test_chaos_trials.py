"""Chaos trials: concurrent and SIGKILLed ticks never break the order invariants (SQLite, PostgreSQL)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from trading_pipeline_tests.chaos.scenarios import ChaosSuite, Scenario
from trading_pipeline_tests.chaos.settings import ChaosSettings
from trading_pipeline_tests.chaos.workers import WorkerPool
from trading_pipeline_tests.chaos.worlds import Backend, TrialWorlds

pytestmark = pytest.mark.chaos

BACKENDS = [Backend.SQLITE, pytest.param(Backend.POSTGRES, marks=pytest.mark.postgres)]


@pytest.fixture(scope="module")
def chaos_suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosSuite]:
    runs = len(BACKENDS) * len(Scenario)
    with WorkerPool() as pool:
        yield ChaosSuite(pool, ChaosSettings(), tmp_path_factory.mktemp("chaos"), planned_runs=runs)


@pytest.fixture(scope="module", params=BACKENDS, ids=str)
def trial_worlds(request: pytest.FixtureRequest, chaos_suite: ChaosSuite) -> Iterator[TrialWorlds]:
    """Fresh worlds per trial on each backend; PostgreSQL skips without a server, fails under CI=true."""
    if request.param is Backend.POSTGRES:
        worlds: TrialWorlds = chaos_suite.postgres_worlds(request.getfixturevalue("postgres_admin"))
    else:
        worlds = chaos_suite.sqlite_worlds()
    yield worlds
    worlds.close()


@pytest.mark.parametrize("scenario", list(Scenario), ids=str)
def test_chaos_trials_break_no_invariant(
    chaos_suite: ChaosSuite, trial_worlds: TrialWorlds, scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    report = chaos_suite.run(scenario, trial_worlds)

    with capsys.disabled():
        print("\n" + report.render())
    if report.stopped_by_budget:
        warnings.warn(
            f"chaos {scenario} on {trial_worlds.backend}: only {report.row()['trials']} trials "
            "within CHAOS_BUDGET_SECONDS",
            stacklevel=1,
        )
    assert report.trials, "the time budget allowed no trial"
    assert not report.violations, f"{len(report.violations)} invariant violations (listed above)"
