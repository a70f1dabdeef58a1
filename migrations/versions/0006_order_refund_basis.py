"""order_points.refund_basis: the order's own subtotal, what refunds are measured against.

Refund line items' subtotals are in the terms of the order's ``subtotal_price`` (both hold
the tax when prices include it), not of ``eligible_amount`` (which may leave the tax out or
add shipping, per the earn rule). Rows from before this revision keep NULL: their subtotal
was not stored, and reversals fall back to ``eligible_amount`` for them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_points") as batch_op:
        batch_op.add_column(sa.Column("refund_basis", sa.Numeric(precision=14, scale=2)))


def downgrade() -> None:
    with op.batch_alter_table("order_points") as batch_op:
        batch_op.drop_column("refund_basis")
