"""customers.profile_updated_at: Shopify's updated_at of the profile last applied, so a
customers/update that arrives after a newer one does not undo it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(sa.Column("profile_updated_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("profile_updated_at")
