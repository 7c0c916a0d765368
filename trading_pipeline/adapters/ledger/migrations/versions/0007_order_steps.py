"""Order steps: the limit-price ladder of working orders (each new limit, and the final cancel), claimed
once per (order, step) before the broker is asked, then answered.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Money as the ledger stores it (schema.Money): integer units on SQLite, NUMERIC(18,4) elsewhere.
    money = sa.BigInteger() if op.get_bind().dialect.name == "sqlite" else sa.Numeric(18, 4)
    op.create_table(
        "order_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("limit_price", money, nullable=True),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("claimed_at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_steps"),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["order_intents.client_order_id"],
            name="fk_order_steps_client_order_id_order_intents",
        ),
        sa.UniqueConstraint("client_order_id", "step", name="uq_order_steps_client_order_id_step"),
    )
    op.create_index("ix_order_steps_client_order_id", "order_steps", ["client_order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_steps_client_order_id", table_name="order_steps")
    op.drop_table("order_steps")
