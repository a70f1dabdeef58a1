"""merchant admin: sessions of the standalone admin, and the dashboard's covering indexes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (index, table, columns, columns carried in the index on PostgreSQL for index-only scans)
INDEXES = (
    ("ix_customers_shop_id_status", "customers", ["shop_id", "status"],
     ["available_points", "pending_points", "credited_points", "spent_points"]),
    ("ix_rewards_shop_id_status_redeem_rule_id", "rewards",
     ["shop_id", "status", "redeem_rule_id"], ["points"]),
    ("ix_point_transactions_shop_id_created_at", "point_transactions",
     ["shop_id", "created_at"], ["kind", "status", "points"]),
)


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_admin_sessions_shop_id_shops"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_admin_sessions_token_hash")),
    )
    op.create_index(op.f("ix_admin_sessions_shop_id_expires_at"), "admin_sessions",
                    ["shop_id", "expires_at"])
    for name, table, columns, included in INDEXES:
        op.create_index(op.f(name), table, columns, postgresql_include=included)


def downgrade() -> None:
    for name, table, _columns, _included in reversed(INDEXES):
        op.drop_index(op.f(name), table_name=table)
    op.drop_index(op.f("ix_admin_sessions_shop_id_expires_at"), table_name="admin_sessions")
    op.drop_table("admin_sessions")
