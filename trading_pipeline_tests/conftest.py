"""Shared fixtures: ledger database URLs for SQLite (a temporary file) and PostgreSQL (a fresh database)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from trading_pipeline.adapters.ledger.repository import SqlLedger

#: Local test server (trust auth); override with TEST_POSTGRES_URL.
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_unavailable(reason: str) -> NoReturn:
    """Skip locally, but fail under CI=true: a skipped PostgreSQL test there is a CI failure."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """Autocommit engine on the maintenance database of TEST_POSTGRES_URL (reachability checked once)."""
    url = make_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        where = url.render_as_string(hide_password=True)
        _postgres_unavailable(f"PostgreSQL not reachable at {where}: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Engine) -> Iterator[str]:
    """URL of a fresh, uniquely named PostgreSQL database, dropped after the test."""
    name = f"ledger_test_{uuid4().hex[:16]}"
    with postgres_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file in a not-yet-existing directory under tmp_path."""
    return f"sqlite:///{tmp_path / 'ledger' / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """The same test on both ledger backends."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[SqlLedger]:
    """A migrated ledger on each backend, disposed after the test."""
    opened = SqlLedger.open(ledger_url)
    yield opened
    opened.dispose()
