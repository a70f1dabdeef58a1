"""vip tiers: thresholds in the shop's metric, entry points, perks, active; tier progress.

``vip_tiers.min_spent_amount`` becomes ``threshold`` (in the shop's ``tier_metric``, SPENT by
default, so existing tiers keep their meaning). Customers get their lifetime progress beside
``spent_amount`` (points earned, orders) and ``tier_progress_days`` their progress by day.
Both are filled from the orders and sign-ups already recorded: an order counts on the day it
earned (``earn_decided_at``; the order's own ``processed_at`` was not kept before), less its
refunds, and is not counted as an order if it was cancelled.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REVIEW_WHERE = "vip_tier_id IS NOT NULL"


def upgrade() -> None:
    op.execute("UPDATE vip_tiers SET earn_multiplier = 1 WHERE earn_multiplier < 1")
    with op.batch_alter_table("vip_tiers") as batch_op:
        batch_op.alter_column("min_spent_amount", new_column_name="threshold",
                              existing_type=sa.Numeric(precision=14, scale=2),
                              existing_nullable=False)
        batch_op.add_column(sa.Column("entry_points", sa.BigInteger(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("perks", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("active", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.create_check_constraint(op.f("ck_vip_tiers_threshold_not_negative"),
                                         "threshold >= 0")
        batch_op.create_check_constraint(op.f("ck_vip_tiers_earn_multiplier_at_least_one"),
                                         "earn_multiplier >= 1")
        batch_op.create_check_constraint(op.f("ck_vip_tiers_entry_points_not_negative"),
                                         "entry_points >= 0")

    op.add_column("customers", sa.Column("lifetime_earned_points", sa.BigInteger(),
                                         nullable=False, server_default="0"))
    op.add_column("customers", sa.Column("lifetime_orders", sa.Integer(), nullable=False,
                                         server_default="0"))
    op.create_index(op.f("ix_customers_vip_tier_id"), "customers", ["vip_tier_id"])
    op.create_index("ix_customers_tier_review", "customers", ["vip_tier_expires_at", "shop_id"],
                    postgresql_where=sa.text(REVIEW_WHERE), sqlite_where=sa.text(REVIEW_WHERE))

    op.create_table(
        "tier_progress_days",
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("spent", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_tier_progress_days_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "day", name=op.f("pk_tier_progress_days")),
    )
    _fill_progress()


def _fill_progress() -> None:
    dialect = op.get_bind().dialect.name
    day = ("CAST(timezone('UTC', {}) AS DATE)" if dialect == "postgresql" else "date({})").format
    # What each order still counts (its subtotal less refunds, never below 0; its points
    # less reversals; one order unless cancelled), and each sign-up's points.
    op.execute(f"""
        INSERT INTO tier_progress_days (customer_id, day, shop_id, spent, points, orders)
        SELECT customer_id, day, shop_id, SUM(spent), SUM(points), SUM(orders) FROM (
            SELECT customer_id, {day("earn_decided_at")} AS day, shop_id,
                   CASE WHEN COALESCE(refund_basis, eligible_amount, 0) > refunded_amount
                        THEN COALESCE(refund_basis, eligible_amount, 0) - refunded_amount
                        ELSE 0 END AS spent,
                   earned_points - reversed_points AS points,
                   CASE WHEN cancelled_at IS NULL THEN 1 ELSE 0 END AS orders
            FROM order_points
            WHERE customer_id IS NOT NULL AND earn_decided_at IS NOT NULL
            UNION ALL
            SELECT customer_id, {day("created_at")} AS day, shop_id, 0, points, 0
            FROM point_transactions
            WHERE kind = 'EARNED' AND source_type = 'signup'
        ) AS earned
        GROUP BY customer_id, day, shop_id
    """)
    op.execute("""
        UPDATE customers SET
            lifetime_earned_points = (SELECT COALESCE(SUM(d.points), 0) FROM tier_progress_days d
                                      WHERE d.customer_id = customers.id),
            lifetime_orders = (SELECT COALESCE(SUM(d.orders), 0) FROM tier_progress_days d
                               WHERE d.customer_id = customers.id)
        WHERE id IN (SELECT customer_id FROM tier_progress_days)
    """)


def downgrade() -> None:
    op.drop_table("tier_progress_days")
    op.drop_index("ix_customers_tier_review", table_name="customers")
    op.drop_index(op.f("ix_customers_vip_tier_id"), table_name="customers")
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("lifetime_orders")
        batch_op.drop_column("lifetime_earned_points")
    with op.batch_alter_table("vip_tiers") as batch_op:
        batch_op.drop_constraint(op.f("ck_vip_tiers_entry_points_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_vip_tiers_earn_multiplier_at_least_one"),
                                 type_="check")
        batch_op.drop_constraint(op.f("ck_vip_tiers_threshold_not_negative"), type_="check")
        batch_op.drop_column("active")
        batch_op.drop_column("perks")
        batch_op.drop_column("entry_points")
        batch_op.alter_column("threshold", new_column_name="min_spent_amount",
                              existing_type=sa.Numeric(precision=14, scale=2),
                              existing_nullable=False)
