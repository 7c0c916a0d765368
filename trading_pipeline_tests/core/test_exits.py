"""Exit rules in tiers: hard stops, protection, profit target, greeks degradation, time stop before the close
(half-days, AM-settled index options), DTE exit, precedence between tiers, and profit-fraction signs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from trading_pipeline.core.calendar import at_et
from trading_pipeline.core.exits import ExitRules, exit_reason, profit_fraction
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.positions import Position, PositionMark

RULES = ExitRules(profit_target_pct=50.0, loss_stop_multiple=2.0, exit_dte=21)
EXPIRATION = date(2025, 4, 25)
FAR_FROM_EXPIRY = EXPIRATION - timedelta(days=35)


def _position(
    entry: str,
    expiration: date = EXPIRATION,
    quantity: int = 1,
    opened: date = FAR_FROM_EXPIRY,
    root: str = "SPY",
) -> Position:
    """A short strangle sold for `entry` a unit, expiring on `expiration`, opened 10:00 ET on `opened`."""
    legs = (
        Leg(OptionContract(root, expiration, Decimal("450"), Right.PUT), Side.SELL),
        Leg(OptionContract(root, expiration, Decimal("550"), Right.CALL), Side.SELL),
    )
    return Position("P-1", "short_strangle", root, legs, quantity, Decimal(entry), at_et(opened, time(10, 0)))


def _reason(
    entry: str,
    mark: str,
    expiration: date,
    today: date,
    rules: ExitRules,
    now: datetime | None = None,
    *,
    quantity: int = 1,
    opened: date = FAR_FROM_EXPIRY,
    root: str = "SPY",
    delta: float = 0.0,
    theta: float = 1.0,
) -> str | None:
    """The exit reason of a position marked at `mark` (with these position greeks), asked at `now`
    (10:00 ET on `today` unless given)."""
    position = _position(entry, expiration, quantity, opened, root)
    at = now or at_et(today, time(10, 0))
    marked = PositionMark("P-1", at, Decimal(mark), Decimal(0), delta, 0.0, 0.0, theta)
    return exit_reason(position, marked, rules, today, at)


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
    reason = _reason("-2.40", "-1.20", EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason == "profit target: 50% of premium captured (target 50%)"


def test_profit_just_below_target_does_not_fire() -> None:
    # Act
    reason = _reason("-2.40", "-1.21", EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason is None


def test_loss_stop_fires_at_the_configured_multiple_of_the_credit() -> None:
    # Act: sold for 2.00, now costs 6.00 to buy back: a loss of 2x the credit.
    reason = _reason("-2.00", "-6.00", EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason == "loss stop: loss 2.00x the credit >= 2.00x"


def test_loss_below_the_stop_does_not_fire() -> None:
    # Act
    reason = _reason("-2.00", "-5.98", EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason is None


def test_time_exit_fires_at_exit_dte() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=21)

    # Act
    reason = _reason("-2.00", "-1.80", EXPIRATION, today, RULES)

    # Assert
    assert reason == "time exit: 21 DTE <= 21"


def test_no_rule_fires_one_day_before_exit_dte() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=22)

    # Act
    reason = _reason("-2.00", "-1.80", EXPIRATION, today, RULES)

    # Assert
    assert reason is None


def test_profit_target_takes_precedence_over_time_exit() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=5)

    # Act
    reason = _reason("-2.00", "-0.40", EXPIRATION, today, RULES)

    # Assert
    assert reason == "profit target: 80% of premium captured (target 50%)"


def test_loss_stop_takes_precedence_over_time_exit() -> None:
    # Arrange
    today = EXPIRATION - timedelta(days=5)

    # Act
    reason = _reason("-1.00", "-3.50", EXPIRATION, today, RULES)

    # Assert
    assert reason == "loss stop: loss 2.50x the credit >= 2.00x"


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
    return _reason(
        "-0.50", "-0.50", expiration, expiration, SAME_DAY, at_et(expiration, at), opened=expiration
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
    reason = _reason(
        "-0.50", "-0.50", date(2025, 10, 7), REGULAR_SESSION, SAME_DAY, at_et(REGULAR_SESSION, time(15, 45))
    )

    # Assert
    assert reason is None


def test_profit_target_takes_precedence_over_the_time_stop() -> None:
    # Act
    reason = _reason(
        "-0.50", "-0.20", REGULAR_SESSION, REGULAR_SESSION, SAME_DAY, at_et(REGULAR_SESSION, time(15, 45))
    )

    # Assert
    assert reason == "profit target: 60% of premium captured (target 50%)"


def test_time_stop_of_an_am_settled_index_option_counts_from_the_previous_half_days_1315_close() -> None:
    # Arrange: an AM-settled SPX series expiring Monday 2025-12-01 trades last on Friday 2025-11-28, a
    # half-day whose index options close at 13:15 ET (15 minutes after the 13:00 stock close)
    expiration = date(2025, 12, 1)

    # Act
    before = _reason(
        "-0.50", "-0.50", expiration, HALF_DAY, SAME_DAY, at_et(HALF_DAY, time(12, 44)), root="SPX"
    )
    at_stop = _reason(
        "-0.50", "-0.50", expiration, HALF_DAY, SAME_DAY, at_et(HALF_DAY, time(12, 45)), root="SPX"
    )

    # Assert
    assert before is None
    assert at_stop == (
        "time stop: 12:45 ET is at or after 12:45 ET, 30 minutes before the 13:15 ET close of last trading "
        "day 2025-11-28 of the AM-settled 2025-12-01 expiration"
    )


# --- tiers: hard stops, protection, profit target, greeks degradation, time exits -------------------------

TIERED = ExitRules(
    profit_target_pct=50.0,
    loss_stop_multiple=2.0,
    exit_dte=21,
    hard_loss_multiple=2.5,
    min_dte=5,
    max_position_delta=100.0,
    max_days_held=14,
    min_theta_per_unit=0.0,
)
#: A session 10 days after FAR_FROM_EXPIRY: 25 DTE, before the DTE exit and the hold limit.
MID_LIFE = FAR_FROM_EXPIRY + timedelta(days=10)


def test_nothing_fires_for_a_healthy_position_under_every_tier() -> None:
    # Act: 20% of the credit lost, 25 DTE, 40 shares of delta, held 10 days, theta +3/day
    reason = _reason("-2.00", "-2.40", EXPIRATION, MID_LIFE, TIERED, delta=40.0, theta=3.0)

    # Assert
    assert reason is None


def test_hard_loss_stop_names_the_loss_and_wins_over_the_protection_stop() -> None:
    # Act: sold for 2.00, costs 7.22 to buy back: a loss of 2.61x the credit (the 2.0x stop fires too)
    reason = _reason("-2.00", "-7.22", EXPIRATION, MID_LIFE, TIERED)

    # Assert
    assert reason == "hard stop: loss 2.61x the credit >= 2.50x"


def test_hard_dte_floor_fires_below_the_floor_and_wins_over_the_dte_exit() -> None:
    # Act: 4 and 5 DTE; the DTE exit (21) fires on both
    opened = EXPIRATION - timedelta(days=8)
    at_four = _reason("-2.00", "-1.90", EXPIRATION, EXPIRATION - timedelta(days=4), TIERED, opened=opened)
    at_five = _reason("-2.00", "-1.90", EXPIRATION, EXPIRATION - timedelta(days=5), TIERED, opened=opened)

    # Assert
    assert at_four == "hard stop: 4 DTE < 5"
    assert at_five == "time exit: 5 DTE <= 21"


def test_hard_delta_bound_fires_on_the_positions_shares_and_wins_over_the_profit_target() -> None:
    # Act: 60% of the credit kept (profit target fires) but the position carries -120 shares of delta
    reason = _reason("-2.00", "-0.80", EXPIRATION, MID_LIFE, TIERED, delta=-120.0)

    # Assert
    assert reason == "hard stop: |delta| 120.0 shares > 100"


def test_an_unknown_delta_never_fires_the_delta_bound() -> None:
    assert _reason("-2.00", "-2.40", EXPIRATION, MID_LIFE, TIERED, delta=float("nan")) is None


def test_protection_loss_stop_fires_below_the_hard_stop() -> None:
    # Act: a loss of 2.20x the credit: past the protection stop, short of the hard stop
    reason = _reason("-2.00", "-6.40", EXPIRATION, MID_LIFE, TIERED)

    # Assert
    assert reason == "loss stop: loss 2.20x the credit >= 2.00x"


def test_max_hold_fires_after_the_days_held_and_wins_over_the_profit_target() -> None:
    # Act: held 15 calendar days, 60% of the credit kept
    reason = _reason("-2.00", "-0.80", EXPIRATION, FAR_FROM_EXPIRY + timedelta(days=15), TIERED)

    # Assert
    assert reason == "max hold: held 15 days >= 14"


def test_profit_target_wins_over_greeks_degradation() -> None:
    # Act: 60% kept while theta has turned negative
    reason = _reason("-2.00", "-0.80", EXPIRATION, MID_LIFE, TIERED, theta=-2.0)

    # Assert
    assert reason == "profit target: 60% of premium captured (target 50%)"


def test_greeks_degradation_closes_a_credit_position_whose_theta_is_gone_before_the_dte_exit() -> None:
    # Act: two units with -3.00/day of theta in all, at 21 DTE (the DTE exit fires too)
    today = EXPIRATION - timedelta(days=21)
    reason = _reason("-2.00", "-2.40", EXPIRATION, today, TIERED, quantity=2, opened=MID_LIFE, theta=-3.0)

    # Assert
    assert reason == "greeks: theta -1.50/day per unit <= 0.00 on a credit position"


def test_greeks_degradation_leaves_a_debit_position_alone() -> None:
    # Act: a debit structure pays theta by design
    reason = _reason("2.00", "1.80", EXPIRATION, MID_LIFE, TIERED, theta=-5.0)

    # Assert
    assert reason is None


def test_loss_of_a_debit_position_is_stated_against_the_debit() -> None:
    # Act: paid 2.00, now worth 0.00: the whole debit lost
    reason = _reason("2.00", "0.00", EXPIRATION, FAR_FROM_EXPIRY, RULES)

    # Assert
    assert reason is None  # a debit cannot lose 2x; the stop cannot fire
    assert _reason("2.00", "0.00", EXPIRATION, FAR_FROM_EXPIRY, ExitRules(50.0, 0.9, None)) == (
        "loss stop: loss 1.00x the debit >= 0.90x"
    )
