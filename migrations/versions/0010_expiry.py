"""expiry: point batches (FIFO), last activity, reminders, and the policy's change time.

- ``point_batches``: what is left of each approved credit of points. Filled here from the
  ledger: every approved positive row is a batch, and the customer's debits so far are taken
  from the oldest batches first (the same result spending oldest-first all along would have
  given, since a debit never exceeds the balance of its time), so that the sum of a
  customer's batches is their available balance.
- ``customers.last_activity_at``: the customer's last earning, redemption, positive
  adjustment or refund, filled from the ledger.
- ``shops.points_expiry_since``; ``rewards.expiry_reminder_days`` and
  ``last_expiry_reminder_sent_at``; ``points_reminders``; ``reminder_runs``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LIVE = sa.text("remaining > 0")
UNUSED = sa.text("status = 'UNUSED'")
HAS_POINTS = sa.text("available_points > 0")

# Each approved positive row's share of what is left: its batch keeps
# min(points, max(0, running credits up to it - all debits)), oldest first.
FILL_BATCHES = """
INSERT INTO point_batches (shop_id, customer_id, transaction_id, points, remaining, earned_at)
SELECT shop_id, customer_id, id, points,
       CASE WHEN running - debits >= points THEN points
            WHEN running - debits <= 0 THEN 0
            ELSE running - debits END,
       earned_at
FROM (
    SELECT t.shop_id, t.customer_id, t.id, t.points,
           COALESCE(t.approve_after, t.created_at) AS earned_at,
           SUM(t.points) OVER (PARTITION BY t.customer_id
                               ORDER BY COALESCE(t.approve_after, t.created_at), t.id) AS running,
           COALESCE((SELECT -SUM(d.points) FROM point_transactions d
                     WHERE d.customer_id = t.customer_id AND d.status = 'APPROVED'
                       AND d.points < 0), 0) AS debits
    FROM point_transactions t
    WHERE t.status = 'APPROVED' AND t.points > 0
) AS credits
"""
LAST_ACTIVITY = """
UPDATE customers SET last_activity_at = (
    SELECT MAX(COALESCE(t.approve_after, t.created_at)) FROM point_transactions t
    WHERE t.customer_id = customers.id AND t.status = 'APPROVED'
      AND (t.points > 0 OR t.kind = 'REDEEMED'))
"""


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.add_column(sa.Column("points_expiry_since", sa.DateTime(timezone=True)))
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("last_activity_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("rewards") as batch:
        batch.add_column(sa.Column("expiry_reminder_days", sa.Integer()))
        batch.add_column(sa.Column("last_expiry_reminder_sent_at", sa.DateTime(timezone=True)))
    _create_tables()
    op.execute(FILL_BATCHES)
    # Batches the debits used up are not kept: they would only be walked past.
    op.execute("DELETE FROM point_batches WHERE remaining = 0")
    op.execute(LAST_ACTIVITY)
    op.create_index("ix_customers_active_balance", "customers", ["shop_id", "last_activity_at"],
                    postgresql_where=HAS_POINTS, sqlite_where=HAS_POINTS)
    op.create_index("ix_rewards_unused_expiry", "rewards", ["shop_id", "expires_at"],
                    postgresql_where=UNUSED, sqlite_where=UNUSED)
    op.create_index("ix_rewards_unused_due", "rewards", ["expires_at"],
                    postgresql_where=UNUSED, sqlite_where=UNUSED)


def _create_tables() -> None:
    op.create_table(
        "point_batches",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("transaction_id", ID, nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_point_batches_shop_id_shops"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_point_batches_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transaction_id"], ["point_transactions.id"],
                                name=op.f("fk_point_batches_transaction_id_point_transactions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_batches")),
        sa.UniqueConstraint("transaction_id", name=op.f("uq_point_batches_transaction_id")),
    )
    op.create_index("ix_point_batches_live_customer", "point_batches",
                    ["customer_id", "earned_at", "id"],
                    postgresql_where=LIVE, sqlite_where=LIVE)
    op.create_index("ix_point_batches_live_shop", "point_batches", ["shop_id", "earned_at"],
                    postgresql_where=LIVE, sqlite_where=LIVE)
    op.create_table(
        "points_reminders",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_points_reminders_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_points_reminders_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_reminders")),
        sa.UniqueConstraint("customer_id", "days_before", "expires_at",
                            name=op.f("uq_points_reminders_customer_id_days_before_expires_at")),
    )
    op.create_table(
        "reminder_runs",
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("phase", sa.String(length=16), nullable=False),
        sa.Column("after_id", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("as_of", name=op.f("pk_reminder_runs")),
    )


def downgrade() -> None:
    op.drop_index("ix_rewards_unused_due", table_name="rewards")
    op.drop_index("ix_rewards_unused_expiry", table_name="rewards")
    op.drop_index("ix_customers_active_balance", table_name="customers")
    op.drop_table("reminder_runs")
    op.drop_table("points_reminders")
    op.drop_index("ix_point_batches_live_shop", table_name="point_batches")
    op.drop_index("ix_point_batches_live_customer", table_name="point_batches")
    op.drop_table("point_batches")
    with op.batch_alter_table("rewards") as batch:
        batch.drop_column("last_expiry_reminder_sent_at")
        batch.drop_column("expiry_reminder_days")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("last_activity_at")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("points_expiry_since")
