"""Initial ledger: decisions, order intents, orders and their events, fills, positions, marks, IV.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the schema's column types: money is NUMERIC(18,4), an exact string on SQLite.
MONEY = sa.Numeric(18, 4).with_variant(sa.String(40), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "decisions",
        _id(),
        sa.Column("decision_id", sa.String(64), nullable=False),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("underlying", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint("decision_id", name="uq_decisions_decision_id"),
    )
    op.create_index("ix_decisions_session", "decisions", ["session"])

    op.create_table(
        "order_intents",
        _id(),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("decision_time", TIMESTAMP, nullable=False),
        sa.Column("underlying", sa.String(16), nullable=False),
        sa.Column("legs", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("limit_price", MONEY, nullable=False),
        sa.Column("effect", sa.String(8), nullable=False),
        sa.Column("position_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_intents"),
        sa.UniqueConstraint("client_order_id", name="uq_order_intents_client_order_id"),
    )
    op.create_index("ix_order_intents_session", "order_intents", ["session"])

    op.create_table(
        "orders",
        _id(),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("broker_order_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("filled_quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        sa.UniqueConstraint("client_order_id", name="uq_orders_client_order_id"),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["order_intents.client_order_id"],
            name="fk_orders_client_order_id_order_intents",
        ),
    )
    op.create_index("ix_orders_broker_order_id", "orders", ["broker_order_id"])

    op.create_table(
        "order_events",
        _id(),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("broker_order_id", sa.String(128), nullable=False),
        sa.Column("previous_status", sa.String(24), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["order_intents.client_order_id"],
            name="fk_order_events_client_order_id_order_intents",
        ),
    )
    op.create_index("ix_order_events_client_order_id", "order_events", ["client_order_id"])

    op.create_table(
        "fills",
        _id(),
        sa.Column("fill_id", sa.String(128), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("broker_order_id", sa.String(128), nullable=False),
        sa.Column("filled_at", TIMESTAMP, nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("net_value", MONEY, nullable=False),
        sa.Column("leg_prices", sa.JSON(), nullable=False),
        sa.Column("commission", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("fill_id", name="uq_fills_fill_id"),
        sa.ForeignKeyConstraint(
            ["client_order_id"],
            ["order_intents.client_order_id"],
            name="fk_fills_client_order_id_order_intents",
        ),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])

    op.create_table(
        "positions",
        sa.Column("position_id", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("underlying", sa.String(16), nullable=False),
        sa.Column("legs", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("entry_value", MONEY, nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("fees", MONEY, nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("position_id", name="pk_positions"),
    )
    op.create_index("ix_positions_status", "positions", ["status"])

    op.create_table(
        "position_marks",
        _id(),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("position_id", sa.String(64), nullable=False),
        sa.Column("marked_at", TIMESTAMP, nullable=False),
        sa.Column("mark_value", MONEY, nullable=False),
        sa.Column("unrealized_pnl", MONEY, nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("gamma", sa.Float(), nullable=False),
        sa.Column("vega", sa.Float(), nullable=False),
        sa.Column("theta", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_position_marks"),
        sa.UniqueConstraint("session", "position_id", name="uq_position_marks_session_position_id"),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.position_id"],
            name="fk_position_marks_position_id_positions",
        ),
    )
    op.create_index("ix_position_marks_position_id", "position_marks", ["position_id"])

    op.create_table(
        "iv_observations",
        _id(),
        sa.Column("underlying", sa.String(16), nullable=False),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("atm_iv_30d", sa.Float(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_iv_observations"),
        sa.UniqueConstraint("underlying", "session", name="uq_iv_observations_underlying_session"),
    )


def downgrade() -> None:
    for table in (
        "iv_observations",
        "position_marks",
        "positions",
        "fills",
        "order_events",
        "orders",
        "order_intents",
        "decisions",
    ):
        op.drop_table(table)
