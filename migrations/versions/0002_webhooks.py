"""Webhooks: what each order earned and took back; customers' data exports.

``order_points`` lets the events of one order (paid, refunded, cancelled, in any arrival
order) take turns on one locked row and remember the amount the points were computed on.
``data_exports`` keeps the answer to a ``customers/data_request`` for the merchant.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "order_points",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("eligible_amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("earned_points", sa.BigInteger(), nullable=False),
        sa.Column("reversed_points", sa.BigInteger(), nullable=False),
        sa.Column("earn_decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunds", JSON, nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_order_points_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_order_points_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_points")),
        sa.UniqueConstraint("shop_id", "order_id", name=op.f("uq_order_points_shop_id_order_id")),
    )
    op.create_table(
        "data_exports",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("shopify_customer_id", sa.BigInteger(), nullable=False),
        sa.Column("data_request_id", sa.BigInteger(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_data_exports_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index(
        op.f("ix_data_exports_shop_id_shopify_customer_id_id"),
        "data_exports",
        ["shop_id", "shopify_customer_id", "id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_data_exports_shop_id_shopify_customer_id_id"), "data_exports")
    op.drop_table("data_exports")
    op.drop_table("order_points")
