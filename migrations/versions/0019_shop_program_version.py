"""shops.program_version: a number that moves whenever the shop's program changes.

The hot paths read the same few rows of a shop's program again and again (every redemption
its reward rule, tiers and event endpoints; every order its purchase rule, tiers and
endpoints): one round trip each, for rows that change a few times a year. A process keeps
them (services.program_cache), stamped with the shop's ``program_version``, which every
request reads anyway with its shop; a different number means read again.

The number is moved by the database itself, in the transaction of the change, whatever makes
it (the admin API, the CLI, a script): a trigger on vip_tiers, earn_rules and redeem_rules
(any change) and on event_endpoints (its URL's own columns aside: only what the fan-out
reads, ``enabled`` and ``event_types``, or its shop).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each table and, for updates, the columns whose change matters (None: any).
TABLES: dict[str, tuple[str, ...] | None] = {
    "vip_tiers": None,
    "earn_rules": None,
    "redeem_rules": None,
    "event_endpoints": ("enabled", "event_types", "shop_id"),
}
BUMP = "UPDATE shops SET program_version = program_version + 1 WHERE id = {row}.shop_id"


def upgrade() -> None:
    op.add_column("shops", sa.Column("program_version", sa.BigInteger(), nullable=False,
                                     server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(f"""
        CREATE FUNCTION bump_program_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN {BUMP.format(row="OLD")}; END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.shop_id <> OLD.shop_id) THEN
                {BUMP.format(row="NEW")};
            END IF;
            RETURN NULL;
        END $$
    """)
    for table, columns in TABLES.items():
        update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"
        op.execute(f"CREATE TRIGGER program_version AFTER INSERT OR {update} OR DELETE "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION bump_program_version()")


def _sqlite_triggers() -> None:
    for table, columns in TABLES.items():
        update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"
        for event, rows in (("INSERT", ("NEW",)), (update, ("OLD", "NEW")),
                            ("DELETE", ("OLD",))):
            name = f"program_version_{table}_{event.split()[0].lower()}"
            body = "; ".join(BUMP.format(row=row) for row in rows)
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} "
                       f"FOR EACH ROW BEGIN {body}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER program_version ON {table}")
        op.execute("DROP FUNCTION bump_program_version()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER program_version_{table}_{event}")
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("program_version")
