"""customer_syncs: the Shopify customer sync's due customers and what it last wrote.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-01 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DIRTY = sa.text("due_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "customer_syncs",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_tag", sa.String(length=300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_customer_syncs_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_customer_syncs_shop_id_shops"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_syncs")),
    )
    op.create_index("ix_customer_syncs_due", "customer_syncs", ["due_at"],
                    postgresql_where=DIRTY, sqlite_where=DIRTY)
    op.create_index("ix_customer_syncs_shop_due", "customer_syncs", ["shop_id", "due_at"],
                    postgresql_where=DIRTY, sqlite_where=DIRTY)


def downgrade() -> None:
    op.drop_index("ix_customer_syncs_shop_due", table_name="customer_syncs")
    op.drop_index("ix_customer_syncs_due", table_name="customer_syncs")
    op.drop_table("customer_syncs")
