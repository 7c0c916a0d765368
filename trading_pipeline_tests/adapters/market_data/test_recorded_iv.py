"""A recorded IV history file: read per underlying and date range; a bad row names its line and value."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from trading_pipeline.adapters.market_data.base import MarketDataError
from trading_pipeline.adapters.market_data.recorded_iv import recorded_iv, recorded_source

GOOD = "session,underlying,iv_30d\n2025-03-03,SPY,0.18\n2025-03-04,spy,0.19\n2025-03-04,QQQ,0.25\n"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ivs.csv"
    path.write_text(text)
    return path


def test_recorded_iv_returns_one_underlyings_values_within_the_range(tmp_path: Path) -> None:
    # Arrange
    path = _file(tmp_path, GOOD)

    # Act
    spy = recorded_iv(path, "SPY", date(2025, 3, 1), date(2025, 3, 4))
    later = recorded_iv(path, "SPY", date(2025, 3, 4), date(2025, 3, 31))

    # Assert
    assert spy == {date(2025, 3, 3): 0.18, date(2025, 3, 4): 0.19}
    assert later == {date(2025, 3, 4): 0.19}
    assert recorded_source(path) == "recorded:ivs.csv"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2025-13-01,SPY,0.2", r"line 3: session='2025-13-01' is not an ISO date"),
        ("2025-03-05,SPY,18", r"line 3: iv_30d='18' is not a decimal in \(0, 5.0\]"),
        ("2025-03-05,SPY,", r"line 3: iv_30d='' is not a decimal"),
        ("2025-03-05, ,0.2", r"line 3: underlying=' ' is empty"),
        ("2025-03-03,SPY,0.2", r"line 3: session='2025-03-03' repeats an earlier row"),
    ],
)
def test_a_bad_row_is_refused_naming_its_line_column_and_value(
    tmp_path: Path, row: str, message: str
) -> None:
    # Arrange
    path = _file(tmp_path, f"session,underlying,iv_30d\n2025-03-03,SPY,0.18\n{row}\n")

    # Act / Assert
    with pytest.raises(MarketDataError, match=message):
        recorded_iv(path, "SPY", date(2025, 1, 1), date(2025, 12, 31))


def test_wrong_columns_or_a_missing_file_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(MarketDataError, match=r"expected columns \['session', 'underlying', 'iv_30d'\]"):
        recorded_iv(_file(tmp_path, "date,symbol,iv\n"), "SPY", date(2025, 1, 1), date(2025, 12, 31))
    with pytest.raises(MarketDataError, match=r"cannot read recorded IV history .*absent\.csv"):
        recorded_iv(tmp_path / "absent.csv", "SPY", date(2025, 1, 1), date(2025, 12, 31))


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    # Arrange
    path = _file(tmp_path, GOOD)
    recorded_iv(path, "SPY", date(2025, 3, 1), date(2025, 3, 4))

    # Act
    path.write_text("session,underlying,iv_30d\n2025-03-03,SPY,0.30\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    values = recorded_iv(path, "SPY", date(2025, 3, 1), date(2025, 3, 4))

    # Assert
    assert values == {date(2025, 3, 3): 0.30}
