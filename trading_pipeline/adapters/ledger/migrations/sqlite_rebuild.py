"""Rebuilding a SQLite table inside a migration while other tables' rows reference it."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations


def rebuild_keeping_rows(table: str, alter: Callable[[BatchOperations], None]) -> None:
    """Apply `alter` to `table` through a full batch rebuild, its rows kept (columns both sides share).

    Batch mode copies rows into a new table and drops the old one, but SQLite cannot drop a parent
    table whose rows other tables reference while foreign keys are enforced (and PRAGMA foreign_keys
    cannot change inside the migration's transaction). So the rows wait in a temporary table, the
    emptied table is recreated, and the rows come back; with the foreign key checks deferred to the
    commit, re-inserting the parents clears the violations that emptying them counted.
    """
    bind = op.get_bind()
    stash = f"_rebuild_{table}"
    before = [column["name"] for column in sa.inspect(bind).get_columns(table)]
    bind.execute(sa.text("PRAGMA defer_foreign_keys = ON"))
    bind.execute(sa.text(f"CREATE TEMP TABLE {stash} AS SELECT {', '.join(before)} FROM {table}"))
    bind.execute(sa.text(f"DELETE FROM {table}"))
    with op.batch_alter_table(table, recreate="always") as batch:
        alter(batch)
    after = {column["name"] for column in sa.inspect(bind).get_columns(table)}
    kept = ", ".join(name for name in before if name in after)
    bind.execute(sa.text(f"INSERT INTO {table} ({kept}) SELECT {kept} FROM {stash}"))
    bind.execute(sa.text(f"DROP TABLE {stash}"))
