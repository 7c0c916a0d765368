"""Secrets reach Dagster only as environment-variable references, never as values in run snapshots."""

from __future__ import annotations

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from trading_pipeline.adapters.ledger.migrate import upgrade
from trading_pipeline.definitions import build_definitions

PASSWORD = "s3cret"


@pytest.mark.postgres
def test_ledger_password_is_not_in_the_job_snapshot_or_the_resource_config(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: an existing ledger reached through a URL that carries a password
    url = make_url(postgres_url).set(password=PASSWORD).render_as_string(hide_password=False)
    upgrade(url)
    monkeypatch.setenv("TRADING_LEDGER_URL", url)

    # Act
    defs = build_definitions()
    snapshot = dg.serialize_value(defs.resolve_job_def("trading_session_job").get_job_snapshot())

    # Assert
    assert PASSWORD not in snapshot
    assert "TRADING_LEDGER_URL" in snapshot
    assert PASSWORD not in repr(defs.resources)
