"""Trading-state events: ACTIVE / REDUCING / HALTED as recorded changes (automatic trips with their cause,
operators' resets), replacing a configuration boolean as the only kill switch.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trading_state_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("session", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trading_state_events"),
        sa.UniqueConstraint("key", name="uq_trading_state_events_key"),
    )


def downgrade() -> None:
    op.drop_table("trading_state_events")
