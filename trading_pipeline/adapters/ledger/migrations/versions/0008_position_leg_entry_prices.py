"""Positions keep each leg's average fill price, so a roll can book the P&L of the legs it closes.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trading_pipeline.adapters.ledger.migrations.sqlite_rebuild import rebuild_keeping_rows

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("positions") as batch:
        batch.add_column(sa.Column("leg_entry_prices", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the column; SQLite rebuilds the table, whose rows the marks reference, keeping its rows."""
    if op.get_bind().dialect.name == "sqlite":
        rebuild_keeping_rows("positions", lambda batch: batch.drop_column("leg_entry_prices"))
    else:
        op.drop_column("positions", "leg_entry_prices")
