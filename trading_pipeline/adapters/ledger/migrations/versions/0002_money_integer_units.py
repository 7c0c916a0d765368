"""Money on SQLite as integer units of 1/10,000 (BIGINT) instead of decimal text; PostgreSQL unchanged.

Text made plain SQL wrong (SUM went through floats, MAX compared strings). The values are converted
exactly, in Python with Decimal, never through SQLite's REAL.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

from trading_pipeline.adapters.ledger.migrations.sqlite_rebuild import rebuild_keeping_rows

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Frozen copy of the schema's money columns at this revision, and of their SQLite types before and after.
MONEY_COLUMNS = {
    "order_intents": ("limit_price",),
    "fills": ("net_value", "commission"),
    "positions": ("entry_value", "fees", "realized_pnl"),
    "position_marks": ("mark_value", "unrealized_pnl"),
}
MONEY_SCALE = 4
TEXT_MONEY = sa.String(40)
UNITS_MONEY = sa.BigInteger()


def _to_units(table: str, column: str, text: str) -> str:
    """'-2.4000' -> '-24000', refusing a value that is not a whole number of units."""
    units = Decimal(text).scaleb(MONEY_SCALE)
    if units != units.to_integral_value():
        raise ValueError(f"{table}.{column} holds {text!r}, which has more than {MONEY_SCALE} decimal places")
    return str(int(units))


def _from_units(_table: str, _column: str, text: str) -> str:
    """'-24000' -> '-2.4000', the exact text revision 0001 stored."""
    return str(Decimal(int(text)).scaleb(-MONEY_SCALE))


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in MONEY_COLUMNS.items():
        _convert_text(table, columns, _to_units)
        _retype(table, columns, TEXT_MONEY, UNITS_MONEY)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in MONEY_COLUMNS.items():
        _retype(table, columns, UNITS_MONEY, TEXT_MONEY)
        _convert_text(table, columns, _from_units)


def _convert_text(table: str, columns: tuple[str, ...], convert: Callable[[str, str, str], str]) -> None:
    """Rewrite every value of `columns` in place while they are text (TEXT affinity keeps them text)."""
    bind = op.get_bind()
    selected = ", ".join(columns)
    rows = bind.execute(sa.text(f"SELECT rowid, {selected} FROM {table}")).all()
    if not rows:
        return
    assignments = ", ".join(f"{column} = :{column}" for column in columns)
    bind.execute(
        sa.text(f"UPDATE {table} SET {assignments} WHERE rowid = :row_id"),
        [
            {"row_id": row[0]}
            | {
                column: convert(table, column, str(value))
                for column, value in zip(columns, row[1:], strict=True)
            }
            for row in rows
        ],
    )


def _retype(table: str, columns: tuple[str, ...], old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    """Recreate `table` with `columns` of type `new`, its rows kept."""

    def alter(batch: BatchOperations) -> None:
        for column in columns:
            batch.alter_column(column, type_=new, existing_type=old, existing_nullable=False)

    rebuild_keeping_rows(table, alter)
