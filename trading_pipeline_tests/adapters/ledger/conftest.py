"""A migrated ledger on each backend, disposed after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from trading_pipeline.adapters.ledger.repository import SqlLedger


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[SqlLedger]:
    opened = SqlLedger.open(ledger_url)
    yield opened
    opened.dispose()
