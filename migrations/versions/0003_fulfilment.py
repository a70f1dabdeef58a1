"""Fulfilment bookkeeping on rewards: when the first attempt began, and who holds it now.

``first_attempt_at`` bounds the search for a store credit whose answer was lost;
``lease_until`` keeps two workers from fulfilling one reward at the same time.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rewards") as batch:
        batch.add_column(sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rewards") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("first_attempt_at")
