"""Exit rules: profit target, loss stop, DTE exit, time stop before the close (half-days), precedence, and
profit-fraction sign conventions."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal

import pytest

from trading_pipeline.core.calendar import at_et
from trading_pipeline.core.exits import ExitRules, exit_reason, profit_fraction

RULES = ExitRules(profit_target_pct=50.0, loss_stop_multiple=2.0, exit_dte=21)
EXPIRATION = date(2025, 4, 25)
FAR_FROM_EXPIRY = EXPIRATION - timedelta(days=35)


@pytest.mark.parametrize(
    ("entry", "mark", "expected"),
    [
        ("-2.00", "-1.00", 0.5),  # credit: half the premium kept
        ("-2.00", "-3.00", -0.5),  # credit: structure got more expensive to buy back
        ("-2.00", "0", 1.0),  # credit: expired worthless, all the premium kept
        ("2.00", "3.00", 0.5),  # debit: worth more than paid
        ("2.00", "1.00", -0.5),  # debit: worth less than paid
    ],
    ids=["credit-gain", "credit-loss", "credit-max-profit", "debit-gain", "debit-loss"],
)
def test_profit_fraction_is_positive_for_gains_on_credit_and_debit(
    entry: str, mark: str, expected: float
) -> None:
    assert profit_fraction(Decimal(entry), Decimal(mark)) == pytest.approx(expected)


def test_profit_fraction_of_zero_entry_is_an_error() -> None:
    with pytest.raises(ValueError, match="entry value of zero"):
        profit_fraction(Decimal(0), Decimal("-1.00"))


def test_profit_target_reached_exactly_fires() -> None:
    # Act: sold for 2.40, buy back for 1.20.
    reason = exit_reason(Decimal("-2.40"), Decimal("-1.20"), EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason == "profit target: 50% of premium captured (target 50%)"


def test_profit_just_below_target_does_not_fire() -> None:
    # Act
    reason = exit_reason(Decimal("-2.40"), Decimal("-1.21"), EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason is None


def test_loss_stop_fires_at_the_configured_multiple_of_the_credit() -> None:
    # Act: sold for 2.00, now costs 6.00 to buy back: a loss of 2x the credit.
    reason = exit_reason(Decimal("-2.00"), Decimal("-6.00"), EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason == "loss stop: loss is 2.00x the premium (stop 2.00x)"


def test_loss_below_the_stop_does_not_fire() -> None:
    # Act
    reason = exit_reason(Decimal("-2.00"), Decimal("-5.98"), EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason is None


def test_time_exit_fires_at_exit_dte() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=21)

    # Act
    reason = exit_reason(Decimal("-2.00"), Decimal("-1.80"), EXPIRATION, today, RULES)

    # Assert
    assert reason == "time exit: 21 DTE <= 21"


def test_no_rule_fires_one_day_before_exit_dte() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=22)

    # Act
    reason = exit_reason(Decimal("-2.00"), Decimal("-1.80"), EXPIRATION, today, RULES)

    # Assert
    assert reason is None


def test_profit_target_takes_precedence_over_time_exit() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=5)

    # Act
    reason = exit_reason(Decimal("-2.00"), Decimal("-0.40"), EXPIRATION, today, RULES)

    # Assert
    assert reason == "profit target: 80% of premium captured (target 50%)"


def test_loss_stop_takes_precedence_over_time_exit() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=5)

    # Act
    reason = exit_reason(Decimal("-1.00"), Decimal("-3.50"), EXPIRATION, today, RULES)

    # Assert
    assert reason == "loss stop: loss is 2.50x the premium (stop 2.00x)"


# --- time stop before the close (same-day positions) -------------------------------------------------------

SAME_DAY = ExitRules(
    profit_target_pct=50.0,
    loss_stop_multiple=2.0,
    exit_dte=None,
    time_stop_before_close=timedelta(minutes=30),
)
REGULAR_SESSION = date(2025, 10, 6)
HALF_DAY = date(2025, 11, 28)  # the day after Thanksgiving: the NYSE closes at 13:00 ET


def _same_day_reason(expiration: date, at: time) -> str | None:
    """A same-day position marked without profit or loss, asked at `at` ET on its expiration day."""
    return exit_reason(
        Decimal("-0.50"), Decimal("-0.50"), expiration, expiration, SAME_DAY, at_et(expiration, at)
    )


def test_time_stop_fires_at_the_configured_minutes_before_the_close() -> None:
    # Act
    reason = _same_day_reason(REGULAR_SESSION, time(15, 30))

    # Assert
    assert reason == (
        "time stop: 15:30 ET is at or after 15:30 ET, 30 minutes before the 16:00 ET close of expiration day "
        "2025-10-06"
    )


def test_time_stop_does_not_fire_a_minute_before_and_no_dte_exit_fires_at_zero_dte() -> None:
    # Act: at entry (10:00) and at 15:29 the position is 0 DTE, with no DTE exit configured
    at_entry = _same_day_reason(REGULAR_SESSION, time(10, 0))
    just_before = _same_day_reason(REGULAR_SESSION, time(15, 29))

    # Assert
    assert at_entry is None and just_before is None


def test_time_stop_on_a_half_day_counts_from_the_early_close() -> None:
    # Act
    before = _same_day_reason(HALF_DAY, time(12, 29))
    at_stop = _same_day_reason(HALF_DAY, time(12, 30))

    # Assert
    assert before is None
    assert at_stop is not None and at_stop.startswith("time stop: 12:30 ET is at or after 12:30 ET")
    assert "before the 13:00 ET close of expiration day 2025-11-28" in at_stop


def test_time_stop_waits_for_the_expiration_day() -> None:
    # Act: a position expiring tomorrow, asked at 15:45 today
    reason = exit_reason(
        Decimal("-0.50"),
        Decimal("-0.50"),
        date(2025, 10, 7),
        REGULAR_SESSION,
        SAME_DAY,
        at_et(REGULAR_SESSION, time(15, 45)),
    )

    # Assert
    assert reason is None


def test_profit_target_takes_precedence_over_the_time_stop() -> None:
    # Act
    reason = exit_reason(
        Decimal("-0.50"),
        Decimal("-0.20"),
        REGULAR_SESSION,
        REGULAR_SESSION,
        SAME_DAY,
        at_et(REGULAR_SESSION, time(15, 45)),
    )

    # Assert
    assert reason == "profit target: 60% of premium captured (target 50%)"


def test_a_time_stop_without_the_decision_time_is_an_error() -> None:
    with pytest.raises(ValueError, match="time stop before the close needs the decision time"):
        exit_reason(Decimal("-0.50"), Decimal("-0.50"), REGULAR_SESSION, REGULAR_SESSION, SAME_DAY)
