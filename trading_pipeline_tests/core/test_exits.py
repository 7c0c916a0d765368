"""Exit rules: profit target, loss stop, DTE exit, precedence, and profit-fraction sign conventions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

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
