"""Trial counts, seed and time budget of the chaos suite, from CHAOS_* environment variables.

Under CI=true the defaults are the acceptance counts; elsewhere a quick run. TRADING_* is not used:
the application refuses TRADING_* variables it does not know.
"""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Acceptance: per backend, at least this many concurrent-pair and kill trials with zero violations.
ACCEPTANCE_CONCURRENT_TRIALS = 50
ACCEPTANCE_KILL_TRIALS = 30


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _count(ci: int, local: int) -> int:
    return ci if running_in_ci() else local


class ChaosSettings(BaseSettings):
    """How much chaos to run; every field is CHAOS_<FIELD NAME> in the environment."""

    model_config = SettingsConfigDict(env_prefix="CHAOS_", extra="ignore", frozen=True)

    concurrent_trials: int = Field(default_factory=lambda: _count(ACCEPTANCE_CONCURRENT_TRIALS, 4), ge=0)
    decision_time_trials: int = Field(default_factory=lambda: _count(8, 2), ge=0)
    kill_trials: int = Field(default_factory=lambda: _count(ACCEPTANCE_KILL_TRIALS, 4), ge=0)
    concurrent_exit_trials: int = Field(default_factory=lambda: _count(12, 4), ge=0)
    exit_kill_trials: int = Field(default_factory=lambda: _count(12, 4), ge=0)
    ladder_trials: int = Field(default_factory=lambda: _count(12, 2), ge=0)
    ladder_kill_trials: int = Field(default_factory=lambda: _count(12, 4), ge=0)
    seed: int = 20251201
    #: The whole suite's time: no trial starts after its share of it (running ones finish). CI's counts took
    #: about 17 min with three strategies in the worlds (issue 8); the budget keeps `.ci/run` under 30 min.
    budget_seconds: float = Field(default_factory=lambda: float(_count(1080, 900)), gt=0)

    def requested(self) -> dict[str, int]:
        """Trials asked of each scenario (by its name) on each backend."""
        return {
            "concurrent-pair": self.concurrent_trials,
            "two-decision-times": self.decision_time_trials,
            "kill-then-next-tick": self.kill_trials,
            "concurrent-exit-pair": self.concurrent_exit_trials,
            "kill-exit-then-next-tick": self.exit_kill_trials,
            "concurrent-ladder-pair": self.ladder_trials,
            "kill-ladder-then-next-tick": self.ladder_kill_trials,
        }

    #: The second tick of a pair starts up to this many seconds after the first (0: the same instant).
    max_skew_seconds: float = Field(default=0.2, ge=0)
