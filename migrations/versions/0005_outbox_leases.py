"""The outbox as the record of every unit of work: a deadline until the task has run.

Each row stays open until its task ran to the end (``completed_at``); ``due_at`` is the
deadline after which the relay sends it again, so a task lost by the broker or by a killed
worker is picked up again within minutes. ``attempts`` counts the runs started, so a task that
keeps failing is given up (``abandoned``) instead of retried for ever.

Rows sent before this revision are taken to have run. PENDING rewards and RECEIVED webhook
events get a fresh open row each, due at once, so that nothing committed is left behind.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

outbox = sa.table(
    "outbox",
    sa.column("id", sa.BigInteger()),
    sa.column("shop_id", sa.BigInteger()),
    sa.column("task_name", sa.String()),
    sa.column("args", sa.JSON()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("due_at", sa.DateTime(timezone=True)),
    sa.column("completed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.drop_index("ix_outbox_unsent", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("abandoned", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.execute(outbox.update().values(completed_at=outbox.c.sent_at,
                                      due_at=sa.func.coalesce(outbox.c.sent_at,
                                                              outbox.c.created_at)))
    _reopen_left_behind()
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index("ix_outbox_open_due", "outbox", ["due_at"],
                    postgresql_where=sa.text("completed_at IS NULL"),
                    sqlite_where=sa.text("completed_at IS NULL"))


def _reopen_left_behind() -> None:
    connection = op.get_bind()
    now = datetime.now(UTC)
    open_rows = {(row.task_name, tuple(row.args or ())) for row in connection.execute(
        sa.select(outbox.c.task_name, outbox.c.args).where(outbox.c.completed_at.is_(None)))}
    work = [
        ("loyalty.fulfil_reward", sa.text(
            "SELECT id, shop_id FROM rewards "
            "WHERE fulfillment_status = 'PENDING' AND status = 'UNUSED'")),
        ("loyalty.process_webhook", sa.text(
            "SELECT id, shop_id FROM webhook_events WHERE status = 'RECEIVED'")),
    ]
    for task_name, query in work:
        for item_id, shop_id in connection.execute(query):
            if (task_name, (item_id,)) in open_rows:
                continue
            connection.execute(outbox.insert().values(
                shop_id=shop_id, task_name=task_name, args=[item_id], created_at=now,
                due_at=now))


def downgrade() -> None:
    op.drop_index("ix_outbox_open_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("abandoned")
        batch.drop_column("completed_at")
        batch.drop_column("attempts")
        batch.drop_column("due_at")
    op.create_index("ix_outbox_unsent", "outbox", ["created_at"],
                    postgresql_where=sa.text("sent_at IS NULL"),
                    sqlite_where=sa.text("sent_at IS NULL"))
