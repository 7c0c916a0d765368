"""IV observations of any 30-day measure, each with its source and the time it was observed.

`atm_iv_30d` becomes `iv_30d`: the column now holds the configured measure (model-free by default), and
the source says which (`chain:<measure>:<provider>` for the pipeline's own, `recorded:...`, `proxy:...`).
Rows written before this revision were ATM observations from chains: their source gains `chain:atm:`;
their observation time, unknown, becomes the start of their session, so a new observation replaces them.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
#: Frozen copy of the prefix core/iv_history.py gives the pipeline's own ATM observations.
LEGACY_PREFIX = "chain:atm:"


def upgrade() -> None:
    with op.batch_alter_table("iv_observations") as batch:
        batch.alter_column("atm_iv_30d", new_column_name="iv_30d", existing_type=sa.Float(), nullable=False)
        batch.add_column(sa.Column("observed_at", TIMESTAMP, nullable=True))
    # When an old row was observed is unknown (it may have been written long after its session): the
    # session's start stands for it, so any later observation of that session replaces it.
    if op.get_bind().dialect.name == "sqlite":
        session_start = "session || ' 00:00:00.000000'"
    else:
        session_start = "CAST(session AS timestamp) AT TIME ZONE 'UTC'"
    op.execute(
        f"UPDATE iv_observations SET observed_at = {session_start}, source = '{LEGACY_PREFIX}' || source"
    )
    with op.batch_alter_table("iv_observations") as batch:
        batch.alter_column("observed_at", existing_type=TIMESTAMP, nullable=False)


def downgrade() -> None:
    # Only the pipeline's own ATM observations meant what the old column says; the rest is dropped.
    op.execute(f"DELETE FROM iv_observations WHERE source NOT LIKE '{LEGACY_PREFIX}%'")
    op.execute(f"UPDATE iv_observations SET source = substr(source, {len(LEGACY_PREFIX) + 1})")
    with op.batch_alter_table("iv_observations") as batch:
        batch.drop_column("observed_at")
        batch.alter_column("iv_30d", new_column_name="atm_iv_30d", existing_type=sa.Float(), nullable=False)
