"""Consistency rules every strategy's parameters share, written once for each parameter model's validator."""

from __future__ import annotations


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
