"""Alembic environment: runs on the connection handed over by migrate.py, or on sqlalchemy.url."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from trading_pipeline.adapters.ledger.engine import create_ledger_engine
from trading_pipeline.adapters.ledger.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the connection from migrate.py, or (alembic CLI) the URL given as -x url=..."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("pass the ledger database as `alembic -x url=<sqlalchemy url> ...`")
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("the ledger migrations run online only: use trading_pipeline.adapters.ledger.migrate")
run_migrations_online()
