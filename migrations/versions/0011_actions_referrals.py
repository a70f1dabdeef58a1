"""Ways to earn and refer-a-friend: the action rules' columns, birthdays, referrals.

earn_rules: ``network`` (social rules), ``referee_value`` / ``referee_kind`` (referral
rules); customers: ``dob_set_at``, ``birth_month_day`` (indexed with the shop for the
birthday job), ``birthday_year``, ``first_paid_order_id``, ``address_keys``; rewards:
``customer_id`` may be null (a referred friend's code) and ``discount_kind``; shops:
``iana_timezone``; the ``referrals`` table.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("earn_rules") as batch_op:
        batch_op.add_column(sa.Column("network", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("referee_value", sa.Numeric(14, 2), nullable=True))
        batch_op.add_column(sa.Column("referee_kind", sa.String(length=32), nullable=True))
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("dob_set_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("birth_month_day", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("birthday_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_paid_order_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("address_keys", JSON, nullable=False,
                                      server_default=sa.text("'[]'")))
    op.create_index(op.f("ix_customers_shop_id_birth_month_day"), "customers",
                    ["shop_id", "birth_month_day"])
    with op.batch_alter_table("rewards") as batch_op:
        batch_op.alter_column("customer_id", existing_type=ID, nullable=True)
        batch_op.add_column(sa.Column("discount_kind", sa.String(length=32), nullable=True))
    with op.batch_alter_table("shops") as batch_op:
        batch_op.add_column(sa.Column("iana_timezone", sa.String(length=64), nullable=True))
    _create_referrals()


def _create_referrals() -> None:
    op.create_table(
        "referrals",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("referrer_id", ID, nullable=False),
        sa.Column("friend_email", sa.String(length=320), nullable=True),
        sa.Column("friend_email_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reward_id", ID, nullable=True),
        sa.Column("friend_customer_id", ID, nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("order_subtotal", sa.Numeric(14, 2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_referrals_shop_id_shops"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["referrer_id"], ["customers.id"],
                                name=op.f("fk_referrals_referrer_id_customers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reward_id"], ["rewards.id"],
                                name=op.f("fk_referrals_reward_id_rewards"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["friend_customer_id"], ["customers.id"],
                                name=op.f("fk_referrals_friend_customer_id_customers"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
    )
    op.create_index(op.f("ix_referrals_shop_id_friend_email_key"), "referrals",
                    ["shop_id", "friend_email_key"], unique=True)
    op.create_index(op.f("ix_referrals_shop_id_id"), "referrals", ["shop_id", "id"])
    op.create_index(op.f("ix_referrals_referrer_id_state_completed_at"), "referrals",
                    ["referrer_id", "state", "completed_at"])
    op.create_index(op.f("ix_referrals_shop_id_order_id"), "referrals", ["shop_id", "order_id"])
    op.create_index(op.f("ix_referrals_reward_id"), "referrals", ["reward_id"])


def downgrade() -> None:
    op.drop_table("referrals")
    with op.batch_alter_table("shops") as batch_op:
        batch_op.drop_column("iana_timezone")
    # Rewards without a customer (friends' codes) cannot survive a NOT NULL customer.
    op.execute(sa.text("DELETE FROM rewards WHERE customer_id IS NULL"))
    with op.batch_alter_table("rewards") as batch_op:
        batch_op.drop_column("discount_kind")
        batch_op.alter_column("customer_id", existing_type=ID, nullable=False)
    op.drop_index(op.f("ix_customers_shop_id_birth_month_day"), table_name="customers")
    with op.batch_alter_table("customers") as batch_op:
        for column in ("address_keys", "first_paid_order_id", "birthday_year",
                       "birth_month_day", "dob_set_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("earn_rules") as batch_op:
        for column in ("referee_kind", "referee_value", "network"):
            batch_op.drop_column(column)
