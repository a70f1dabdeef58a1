"""Customer search indexed: trigram GIN over the fields the admin search matches.

The merchant's search (services.customers.admin.search) matches ``q`` anywhere in the e-mail,
first or last name, or the Shopify id (``lower(x) LIKE '%q%'``): a B-tree cannot serve a
leading wildcard, so at a million customers every search read the shop's whole customer list.
A pg_trgm GIN index answers ``LIKE '%…%'`` of three characters or more from the index, one
bitmap per field, OR-ed (https://www.postgresql.org/docs/current/pgtrgm.html#PGTRGM-INDEX).
pg_trgm ships with PostgreSQL and is a trusted extension (13+), so the database owner may
create it. On SQLite nothing changes: its LIKE scans, fine for a first run.

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-01 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The expressions exactly as the search's SQLAlchemy query renders them, or the planner
# would not match the index.
FIELDS = ("lower(email)", "lower(first_name)", "lower(last_name)",
          "(CAST(shopify_customer_id AS VARCHAR))")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # The operator class where the extension lives, which need not be on this connection's
    # search_path (a database whose tables live in another schema than the extension).
    schema = op.get_bind().execute(sa.text(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    )).scalar_one()
    columns = ", ".join(f"{field} {schema}.gin_trgm_ops" for field in FIELDS)
    op.execute(f"CREATE INDEX ix_customers_search_trgm ON customers USING gin ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_customers_search_trgm")
