"""Account equity: starting equity plus realized P&L net of every commission plus open marks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from trading_pipeline.core.account import AccountPnl, account_pnl
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.positions import Position, PositionMark, PositionStatus

OPENED = datetime(2025, 3, 14, 14, 30, tzinfo=UTC)
MARKED = datetime(2025, 3, 20, 20, 0, tzinfo=UTC)
START = Decimal("100000.00")
LEGS = (
    Leg(OptionContract("SPY", date(2025, 4, 25), Decimal("470"), Right.PUT), Side.SELL),
    Leg(OptionContract("SPY", date(2025, 4, 25), Decimal("540"), Right.CALL), Side.SELL),
)


def position(
    position_id: str, realized: str = "0", fees: str = "0", status: PositionStatus = PositionStatus.OPEN
) -> Position:
    return Position(
        position_id=position_id,
        strategy="short_strangle",
        underlying="SPY",
        legs=LEGS,
        quantity=1,
        entry_value=Decimal("-5.00"),
        opened_at=OPENED,
        status=status,
        fees=Decimal(fees),
        realized_pnl=Decimal(realized),
    )


def mark(position_id: str, unrealized: str) -> PositionMark:
    return PositionMark(
        position_id=position_id,
        marked_at=MARKED,
        mark_value=Decimal("-4.00"),
        unrealized_pnl=Decimal(unrealized),
        delta=0.01,
        gamma=-0.002,
        vega=-80.0,
        theta=60.0,
    )


def test_no_positions_leave_equity_at_the_starting_value() -> None:
    assert account_pnl([], [], START) == AccountPnl(Decimal(0), Decimal(0), START)


def test_equity_adds_realized_net_of_fees_and_unrealized_marks() -> None:
    # Arrange: a closed winner (+250 gross, 2.60 fees), a closed loser (-400 gross, 2.60 fees) and
    # an open position (1.30 entry commission so far) marked +100.
    positions = [
        position("won", realized="250.00", fees="2.60", status=PositionStatus.CLOSED),
        position("lost", realized="-400.00", fees="2.60", status=PositionStatus.CLOSED),
        position("open", fees="1.30"),
    ]
    marks = [mark("open", "100.00")]

    # Act
    pnl = account_pnl(positions, marks, START)

    # Assert: realized = 250 - 2.60 - 400 - 2.60 - 1.30 = -156.50
    assert pnl.realized == Decimal("-156.50")
    assert pnl.unrealized == Decimal("100.00")
    assert pnl.equity == Decimal("99943.50")


def test_commissions_of_open_positions_are_already_realized_costs() -> None:
    # Arrange
    positions = [position("open", fees="1.30")]

    # Act
    pnl = account_pnl(positions, [], START)

    # Assert
    assert pnl.realized == Decimal("-1.30")
    assert pnl.equity == Decimal("99998.70")


def test_unrealized_sums_every_open_mark_including_losses() -> None:
    # Act
    pnl = account_pnl([], [mark("a", "120.00"), mark("b", "-340.25")], START)

    # Assert
    assert pnl.unrealized == Decimal("-220.25")
    assert pnl.equity == Decimal("99779.75")


def test_positions_may_be_any_iterable_such_as_a_generator() -> None:
    # Act
    pnl = account_pnl((p for p in [position("a", realized="10.00")]), (m for m in [mark("a", "5.00")]), START)

    # Assert
    assert pnl.equity == Decimal("100015.00")
