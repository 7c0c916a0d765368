"""Intent claims, marks as history (one per position and tick time), reconciliation breaks.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from trading_pipeline.adapters.ledger.migrations.sqlite_rebuild import rebuild_keeping_rows

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("order_intents") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("claimed_at", TIMESTAMP, nullable=True))
    with op.batch_alter_table("position_marks") as batch:
        batch.drop_constraint("uq_position_marks_session_position_id", type_="unique")
        batch.create_unique_constraint(
            "uq_position_marks_position_id_marked_at", ["position_id", "marked_at"]
        )
    op.create_table(
        "reconciliation_breaks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("found_at", TIMESTAMP, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reconciliation_breaks"),
        sa.UniqueConstraint(
            "found_at", "kind", "subject", name="uq_reconciliation_breaks_found_at_kind_subject"
        ),
    )
    op.create_index("ix_reconciliation_breaks_found_at", "reconciliation_breaks", ["found_at"])


def downgrade() -> None:
    op.drop_index("ix_reconciliation_breaks_found_at", table_name="reconciliation_breaks")
    op.drop_table("reconciliation_breaks")
    # Several marks of one session per position cannot survive the old constraint: keep the latest.
    op.execute(
        "DELETE FROM position_marks WHERE id NOT IN ("
        " SELECT MAX(id) FROM position_marks GROUP BY session, position_id)"
    )
    with op.batch_alter_table("position_marks") as batch:
        batch.drop_constraint("uq_position_marks_position_id_marked_at", type_="unique")
        batch.create_unique_constraint("uq_position_marks_session_position_id", ["session", "position_id"])
    # Abandoned claims did not exist before this revision: what was abandoned counts as rejected.
    op.execute("UPDATE order_intents SET status = 'REJECTED' WHERE status = 'ABANDONED'")
    if op.get_bind().dialect.name == "sqlite":
        rebuild_keeping_rows("order_intents", _drop_claim_columns)
    else:
        with op.batch_alter_table("order_intents") as batch:
            _drop_claim_columns(batch)


def _drop_claim_columns(batch: BatchOperations) -> None:
    batch.drop_column("claimed_at")
    batch.drop_column("claimed_by")
