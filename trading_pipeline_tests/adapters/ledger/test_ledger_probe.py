"""Probing a ledger database without creating one, and showing its URL without the password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from trading_pipeline.adapters.ledger import migrate
from trading_pipeline.adapters.ledger.migrate import LedgerUnavailableError, display_url, ledger_exists


def test_missing_sqlite_file_is_no_ledger_and_is_not_created(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "absent" / "ledger.sqlite"

    # Act
    exists = ledger_exists(f"sqlite:///{path}")

    # Assert
    assert exists is False
    assert not path.parent.exists()


def test_empty_database_is_no_ledger(ledger_url: str) -> None:
    # Arrange: the PostgreSQL database is fresh; an empty file is an empty SQLite database
    url = make_url(ledger_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        path.parent.mkdir(parents=True)
        path.touch()

    # Act / Assert
    assert ledger_exists(ledger_url) is False


def test_migrated_database_is_a_ledger(ledger_url: str) -> None:
    # Arrange
    migrate.upgrade(ledger_url)

    # Act / Assert
    assert ledger_exists(ledger_url) is True


def test_database_downgraded_to_base_is_no_ledger(ledger_url: str) -> None:
    # Arrange: alembic_version is left behind, empty
    migrate.upgrade(ledger_url)
    migrate.downgrade(ledger_url, "base")

    # Act / Assert
    assert ledger_exists(ledger_url) is False


def test_unreachable_server_raises_one_line_without_the_password() -> None:
    # Arrange: nothing listens on port 1
    url = "postgresql+psycopg://trader:s3cret@127.0.0.1:1/ledger"

    # Act
    with pytest.raises(LedgerUnavailableError, match="cannot reach the ledger database") as error:
        ledger_exists(url)

    # Assert
    assert "s3cret" not in str(error.value)
    assert "\n" not in str(error.value)


def test_text_that_is_no_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(LedgerUnavailableError, match="not a database URL") as error:
        ledger_exists("trader:s3cret@db/ledger")

    assert "s3cret" not in str(error.value)


def test_display_url_masks_the_password() -> None:
    shown = display_url("postgresql+psycopg://trader:s3cret@db:5432/ledger")

    assert shown == "postgresql+psycopg://trader:***@db:5432/ledger"


def test_display_url_of_unparseable_text_shows_none_of_it() -> None:
    assert display_url("trader:s3cret@db/ledger") == "<unparseable URL>"
