"""event_endpoints and event_deliveries: outbound webhooks (Standard Webhooks).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "event_endpoints",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", JSON, nullable=True),
        sa.Column("secret_enc", sa.String(length=512), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", TS, nullable=True),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("failing_since", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_event_endpoints_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_endpoints")),
    )
    op.create_index(op.f("ix_event_endpoints_shop_id_enabled"), "event_endpoints",
                    ["shop_id", "enabled"])
    op.create_table(
        "event_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("endpoint_id", ID, nullable=False),
        sa.Column("status", sa.Enum("PENDING", "DELIVERED", "FAILED", name="deliverystatus",
                                    native_enum=False, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("sending_until", TS, nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("last_attempt_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"],
                                name=op.f("fk_event_deliveries_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"],
                                name=op.f("fk_event_deliveries_event_id_events"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["endpoint_id"], ["event_endpoints.id"],
                                name=op.f("fk_event_deliveries_endpoint_id_event_endpoints"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
        sa.UniqueConstraint("event_id", "endpoint_id",
                            name=op.f("uq_event_deliveries_event_id_endpoint_id")),
    )
    op.create_index(op.f("ix_event_deliveries_shop_id_id"), "event_deliveries",
                    ["shop_id", "id"])
    op.create_index(op.f("ix_event_deliveries_endpoint_id_id"), "event_deliveries",
                    ["endpoint_id", "id"])
    op.create_index(op.f("ix_event_deliveries_shop_id_status_attempts"), "event_deliveries",
                    ["shop_id", "status", "attempts"])
    op.create_index("ix_event_deliveries_in_flight", "event_deliveries",
                    ["endpoint_id", "sending_until"],
                    postgresql_where=sa.text("sending_until IS NOT NULL"),
                    sqlite_where=sa.text("sending_until IS NOT NULL"))


def downgrade() -> None:
    op.drop_table("event_deliveries")
    op.drop_table("event_endpoints")
