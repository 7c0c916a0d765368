"""Stale marks (a tick that could not mark a position: its last good mark stands) and unknown greeks.

A position mark's greeks may be NULL: unknown, because a leg's implied vol could not be solved. No money
column is added, so SQLite's integer money units (0002) are untouched.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
#: Frozen copy of the mark's greek columns at this revision.
GREEKS = ("delta", "gamma", "vega", "theta")


def upgrade() -> None:
    with op.batch_alter_table("position_marks") as batch:
        for greek in GREEKS:
            batch.alter_column(greek, existing_type=sa.Float(), nullable=True)
    op.create_table(
        "stale_marks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("position_id", sa.String(64), nullable=False),
        sa.Column("marked_at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stale_marks"),
        sa.ForeignKeyConstraint(
            ["position_id"], ["positions.position_id"], name="fk_stale_marks_position_id_positions"
        ),
        sa.UniqueConstraint("position_id", "marked_at", name="uq_stale_marks_position_id_marked_at"),
    )
    op.create_index("ix_stale_marks_position_id", "stale_marks", ["position_id"])


def downgrade() -> None:
    op.drop_index("ix_stale_marks_position_id", table_name="stale_marks")
    op.drop_table("stale_marks")
    # Before this revision a greek could not be unknown: such marks keep their value with greeks of 0.
    for greek in GREEKS:
        op.execute(f"UPDATE position_marks SET {greek} = 0 WHERE {greek} IS NULL")
    with op.batch_alter_table("position_marks") as batch:
        for greek in GREEKS:
            batch.alter_column(greek, existing_type=sa.Float(), nullable=False)
