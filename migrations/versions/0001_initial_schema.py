"""Initial schema: shops, customers, the points ledger, rules, rewards, webhooks, outbox.

On PostgreSQL a trigger makes the ledger append-only: the amount, kind, owner and source of a
row can never change (a correction is a new row). Deleting rows stays possible, for
``shop/redact``.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:24:56.291070
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LEDGER_GUARD = """
CREATE FUNCTION point_transactions_append_only() RETURNS trigger AS $$
BEGIN
    IF NEW.points IS DISTINCT FROM OLD.points
       OR NEW.kind IS DISTINCT FROM OLD.kind
       OR NEW.customer_id IS DISTINCT FROM OLD.customer_id
       OR NEW.shop_id IS DISTINCT FROM OLD.shop_id
       OR NEW.source_type IS DISTINCT FROM OLD.source_type
       OR NEW.source_id IS DISTINCT FROM OLD.source_id
       OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'point_transactions is append-only: post a correcting row instead';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER point_transactions_append_only
    BEFORE UPDATE ON point_transactions
    FOR EACH ROW EXECUTE FUNCTION point_transactions_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "shops",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("access_token_enc", sa.Text(), nullable=True),
        sa.Column("refresh_token_enc", sa.Text(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("needs_reauth", sa.Boolean(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
        sa.UniqueConstraint("domain", name=op.f("uq_shops_domain")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_hint", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_api_keys_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "earn_rules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("PURCHASE", "SIGNUP", name="earnrulekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=True),
        sa.Column("points_per_unit", sa.BigInteger(), nullable=True),
        sa.Column("min_order", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("include_shipping", sa.Boolean(), nullable=False),
        sa.Column("include_tax", sa.Boolean(), nullable=False),
        sa.Column("pending_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_earn_rules_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earn_rules")),
    )
    with op.batch_alter_table("earn_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_earn_rules_shop_id_kind_active"),
            ["shop_id", "kind", "active"],
            unique=False,
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("task_name", sa.String(length=128), nullable=False),
        sa.Column(
            "args",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_outbox_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_unsent",
            ["created_at"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "vip_tiers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("min_spent_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("earn_multiplier", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_vip_tiers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vip_tiers")),
    )
    with op.batch_alter_table("vip_tiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vip_tiers_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("shop_domain", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "RECEIVED",
                "PROCESSED",
                "FAILED",
                name="webhookstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_webhook_events_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
        sa.UniqueConstraint("webhook_id", name=op.f("uq_webhook_events_webhook_id")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_events_shop_id_status"), ["shop_id", "status"], unique=False
        )

    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shopify_customer_id", sa.BigInteger(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("first_name", sa.String(length=255), nullable=True),
        sa.Column("last_name", sa.String(length=255), nullable=True),
        sa.Column("dob", sa.Date(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "ACTIVE",
                "INACTIVE",
                "EXCLUDED",
                "EXCLUDED_BY_CUSTOMER",
                name="customerstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("available_points", sa.BigInteger(), nullable=False),
        sa.Column("pending_points", sa.BigInteger(), nullable=False),
        sa.Column("credited_points", sa.BigInteger(), nullable=False),
        sa.Column("spent_points", sa.BigInteger(), nullable=False),
        sa.Column("spent_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("store_credit_balance", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column(
            "vip_tier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("vip_tier_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referral_code", sa.String(length=32), nullable=True),
        sa.Column("referred_completed", sa.Integer(), nullable=False),
        sa.Column(
            "rewarded_for",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("signup_rewarded", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "available_points >= 0", name=op.f("ck_customers_available_points_not_negative")
        ),
        sa.CheckConstraint(
            "pending_points >= 0", name=op.f("ck_customers_pending_points_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_customers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["vip_tier_id"], ["vip_tiers.id"], name=op.f("fk_customers_vip_tier_id_vip_tiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_customers_referral_code")),
        sa.UniqueConstraint(
            "shop_id", "shopify_customer_id", name=op.f("uq_customers_shop_id_shopify_customer_id")
        ),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_shop_id_email"), ["shop_id", "email"], unique=False
        )

    op.create_table(
        "redeem_rules",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "FIXED_AMOUNT",
                "PERCENTAGE",
                "FREE_SHIPPING",
                "FREE_PRODUCT",
                "STORE_CREDIT",
                "VARIABLE_AMOUNT",
                name="redeemrulekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("points_cost", sa.BigInteger(), nullable=True),
        sa.Column("value", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("max_shipping", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "variant_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "product_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "collection_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("points_per_unit", sa.BigInteger(), nullable=True),
        sa.Column("min_points", sa.BigInteger(), nullable=True),
        sa.Column("max_points", sa.BigInteger(), nullable=True),
        sa.Column("increment", sa.BigInteger(), nullable=True),
        sa.Column("min_subtotal", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("expires_in_days", sa.Integer(), nullable=True),
        sa.Column(
            "combines_with",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("limit_count", sa.Integer(), nullable=True),
        sa.Column(
            "limit_interval",
            sa.Enum(
                "day",
                "week",
                "month",
                "year",
                "lifetime",
                name="limitinterval",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "required_tier_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "points_cost IS NULL OR points_cost > 0",
            name=op.f("ck_redeem_rules_points_cost_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["required_tier_id"],
            ["vip_tiers.id"],
            name=op.f("fk_redeem_rules_required_tier_id_vip_tiers"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_redeem_rules_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redeem_rules")),
    )
    with op.batch_alter_table("redeem_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_redeem_rules_shop_id_active"), ["shop_id", "active"], unique=False
        )

    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column(
            "response_body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_idempotency_keys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_idempotency_keys_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "shop_id",
            "customer_id",
            "key",
            name=op.f("uq_idempotency_keys_shop_id_customer_id_key"),
        ),
    )
    op.create_table(
        "point_transactions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "EARNED",
                "REDEEMED",
                "REFUNDED",
                "ADJUSTED",
                "EXPIRED",
                "REVERSED",
                name="ledgerkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING", "APPROVED", "REJECTED", name="ledgerstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("available_after", sa.BigInteger(), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=True),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("approve_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_point_transactions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_point_transactions_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_transactions")),
        sa.UniqueConstraint(
            "shop_id",
            "kind",
            "source_type",
            "source_id",
            name=op.f("uq_point_transactions_shop_id_kind_source_type_source_id"),
        ),
    )
    with op.batch_alter_table("point_transactions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_point_transactions_customer_id_id"), ["customer_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_point_transactions_status_approve_after"),
            ["status", "approve_after"],
            unique=False,
        )

    op.create_table(
        "rewards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "redeem_rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "point_transaction_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "reward_type",
            sa.Enum(
                "DISCOUNT_CODE",
                "STORE_CREDIT",
                "POINTS",
                name="rewardtype",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("discount_code", sa.String(length=64), nullable=True),
        sa.Column("discount_code_id", sa.String(length=128), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "UNUSED",
                "USED",
                "REFUNDED",
                "EXPIRED",
                name="rewardstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "fulfillment_status",
            sa.Enum(
                "PENDING", "DONE", "FAILED", name="fulfillmentstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("order_name", sa.String(length=64), nullable=True),
        sa.Column("variant_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_rewards_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["point_transaction_id"],
            ["point_transactions.id"],
            name=op.f("fk_rewards_point_transaction_id_point_transactions"),
        ),
        sa.ForeignKeyConstraint(
            ["redeem_rule_id"],
            ["redeem_rules.id"],
            name=op.f("fk_rewards_redeem_rule_id_redeem_rules"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_rewards_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
    )
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rewards_customer_id_status_id"),
            ["customer_id", "status", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rewards_fulfillment_status_created_at"),
            ["fulfillment_status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_rewards_shop_id_discount_code"),
            ["shop_id", "discount_code"],
            unique=True,
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(LEDGER_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS point_transactions_append_only ON point_transactions")
        op.execute("DROP FUNCTION IF EXISTS point_transactions_append_only()")
    with op.batch_alter_table("rewards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rewards_shop_id_discount_code"))
        batch_op.drop_index(batch_op.f("ix_rewards_fulfillment_status_created_at"))
        batch_op.drop_index(batch_op.f("ix_rewards_customer_id_status_id"))

    op.drop_table("rewards")
    with op.batch_alter_table("point_transactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_transactions_status_approve_after"))
        batch_op.drop_index(batch_op.f("ix_point_transactions_customer_id_id"))

    op.drop_table("point_transactions")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("redeem_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redeem_rules_shop_id_active"))

    op.drop_table("redeem_rules")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_shop_id_email"))

    op.drop_table("customers")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_shop_id_status"))

    op.drop_table("webhook_events")
    with op.batch_alter_table("vip_tiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vip_tiers_shop_id"))

    op.drop_table("vip_tiers")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unsent",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.drop_table("outbox")
    with op.batch_alter_table("earn_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_earn_rules_shop_id_kind_active"))

    op.drop_table("earn_rules")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_shop_id"))

    op.drop_table("api_keys")
    op.drop_table("shops")
