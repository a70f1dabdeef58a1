"""merchant admin: the dashboard's covering indexes.

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-01 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
    for name, table, columns, included in INDEXES:
        op.create_index(op.f(name), table, columns, postgresql_include=included)


def downgrade() -> None:
    for name, table, _columns, _included in reversed(INDEXES):
        op.drop_index(op.f(name), table_name=table)
