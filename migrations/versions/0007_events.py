"""events: the loyalty events, written in the transaction that caused them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("shop_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], name=op.f("fk_events_shop_id_shops"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"],
                                name=op.f("fk_events_customer_id_customers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("public_id", name=op.f("uq_events_public_id")),
    )
    op.create_index(op.f("ix_events_shop_id_id"), "events", ["shop_id", "id"])
    op.create_index(op.f("ix_events_customer_id_id"), "events", ["customer_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_events_customer_id_id"), table_name="events")
    op.drop_index(op.f("ix_events_shop_id_id"), table_name="events")
    op.drop_table("events")
