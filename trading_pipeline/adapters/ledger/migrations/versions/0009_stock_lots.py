"""Stock lots: shares delivered by exercise or assignment at expiration, at the strike (their cost basis),
tied to the expiration fill that closed the option position.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Money as the ledger stores it (schema.Money): integer units on SQLite, NUMERIC(18,4) elsewhere.
    money = sa.BigInteger() if op.get_bind().dialect.name == "sqlite" else sa.Numeric(18, 4)
    op.create_table(
        "stock_lots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("fill_id", sa.String(128), nullable=False),
        sa.Column("occ_symbol", sa.String(32), nullable=False),
        sa.Column("position_id", sa.String(64), nullable=False),
        sa.Column("underlying", sa.String(16), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("price", money, nullable=False),
        sa.Column("acquired_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stock_lots"),
        sa.ForeignKeyConstraint(["fill_id"], ["fills.fill_id"], name="fk_stock_lots_fill_id_fills"),
        sa.UniqueConstraint("fill_id", "occ_symbol", name="uq_stock_lots_fill_id_occ_symbol"),
    )
    op.create_index("ix_stock_lots_fill_id", "stock_lots", ["fill_id"])


def downgrade() -> None:
    op.drop_index("ix_stock_lots_fill_id", table_name="stock_lots")
    op.drop_table("stock_lots")
