"""Consistency rules and exit tiers every strategy's parameters share, written once for each parameter
model."""

from __future__ import annotations

from datetime import time, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from trading_pipeline.core.calendar import REGULAR_CLOSE_ET, REGULAR_OPEN_ET
from trading_pipeline.core.exits import ExitRules


def delta_tolerance_problem(delta: tuple[str, float], delta_error: float) -> str | None:
    """Why a delta tolerance is unusable (as wide as the delta itself, `delta` being (field name, value)),
    or None when it is not."""
    name, value = delta
    if delta_error >= value:
        return f"max_delta_error ({delta_error}) must be below {name} ({value})"
    return None


def window_problems(
    dte_min: int, dte_target: int, dte_max: int, exit_dte: int, delta: tuple[str, float], delta_error: float
) -> str | None:
    """Why an entry window is inconsistent (target outside [min, max], a time exit at or after entry, a
    delta tolerance as wide as the delta, `delta` being (field name, value)), or None when it is not."""
    if not dte_min <= dte_target <= dte_max:
        return f"need dte_min <= dte_target <= dte_max, got {dte_min}, {dte_target}, {dte_max}"
    if exit_dte >= dte_min:
        return f"exit_dte ({exit_dte}) must be below dte_min ({dte_min})"
    return delta_tolerance_problem(delta, delta_error)


class EntryTimes(BaseModel):
    """When a strategy's own entry schedule (entry_schedule_<name>) ticks, ET, in whole minutes of a regular
    session; empty: at the sessions' decision times."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision_times_et: tuple[time, ...] = ()

    @field_validator("decision_times_et")
    @classmethod
    def _distinct_minutes_of_a_session(cls, value: tuple[time, ...]) -> tuple[time, ...]:
        shown = [t.strftime("%H:%M:%S") if t.second or t.microsecond else t.strftime("%H:%M") for t in value]
        if len(set(value)) != len(value):
            raise ValueError(f"decision_times_et lists a time twice: {shown}")
        for t, text in zip(value, shown, strict=True):
            if t.second or t.microsecond:
                raise ValueError(f"decision_times_et {text} is not a whole minute: schedules tick on minutes")
            if not REGULAR_OPEN_ET <= t < REGULAR_CLOSE_ET:
                raise ValueError(f"decision_times_et {text} is outside a regular session, 09:30 to 16:00 ET")
        return value


class ExitTiers(BaseModel):
    """The exit tiers a strategy adds to its profit target, loss stop and time exits (None: that rule off).

    Hard stops: a loss of `hard_loss_multiple` x the premium, fewer than `min_dte` days to expiration,
    |position delta| above `max_position_delta` shares. Protection: `max_days_held` calendar days held (the
    strategy's loss_stop_multiple is the protection stop). Greeks: a credit position whose theta per unit
    falls to `min_theta_per_unit` $/day or below. Semantics and order: core/exits.py ExitRules.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    hard_loss_multiple: float | None = Field(2.5, gt=0.0, le=20.0)
    min_dte: int | None = Field(5, ge=0, le=365)
    max_position_delta: float | None = Field(None, gt=0.0, le=100_000.0)
    max_days_held: int | None = Field(None, ge=1, le=3650)
    min_theta_per_unit: float | None = Field(None, ge=-10_000.0, le=10_000.0)

    def problem(self, loss_stop_multiple: float, first_dte: int) -> str | None:
        """Why these tiers contradict the strategy's own exits (a hard stop at or inside the protection stop,
        a DTE floor above the first DTE an entry can have), or None when they do not."""
        hard = self.hard_loss_multiple
        if hard is not None and hard <= loss_stop_multiple:
            return (
                f"exit_tiers.hard_loss_multiple ({hard}) must be above loss_stop_multiple "
                f"({loss_stop_multiple}): the hard stop backs up the protection stop"
            )
        if self.min_dte is not None and self.min_dte > first_dte:
            return (
                f"exit_tiers.min_dte ({self.min_dte}) must be at most {first_dte}, the fewest DTE an entry "
                "has: a new position would close at once"
            )
        return None

    def rules(
        self,
        profit_target_pct: float,
        loss_stop_multiple: float,
        exit_dte: int | None,
        time_stop_before_close: timedelta | None = None,
    ) -> ExitRules:
        """The strategy's whole exit policy: its profit target, loss stop and time exits with these tiers."""
        return ExitRules(
            profit_target_pct=profit_target_pct,
            loss_stop_multiple=loss_stop_multiple,
            exit_dte=exit_dte,
            time_stop_before_close=time_stop_before_close,
            hard_loss_multiple=self.hard_loss_multiple,
            min_dte=self.min_dte,
            max_position_delta=self.max_position_delta,
            max_days_held=self.max_days_held,
            min_theta_per_unit=self.min_theta_per_unit,
        )
