"""CSV exports of a shop's customers (with balances) and of its ledger, streamed row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, PointTransaction, Shop

# Rows fetched per round trip: a large shop streams without loading every row at once.
BATCH = 1000
CUSTOMER_COLUMNS = ("customerId", "email", "firstName", "lastName", "status",
                    "availablePoints", "pendingPoints", "creditedPoints", "spentPoints")
LEDGER_COLUMNS = ("id", "customerId", "kind", "status", "points", "availableAfter",
                  "sourceType", "sourceId", "note", "createdAt")


def _cell(value: Any) -> Any:
    # A text cell starting with = + - @ runs as a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def _line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_cell(v) for v in values])
    return buffer.getvalue()


def customers_csv(session: Session, shop: Shop) -> Iterator[str]:
    yield _line(CUSTOMER_COLUMNS)
    rows = session.scalars(select(Customer).where(Customer.shop_id == shop.id)
                           .order_by(Customer.id).execution_options(yield_per=BATCH))
    for c in rows:
        yield _line((c.shopify_customer_id, c.email, c.first_name, c.last_name, c.status.value,
                     c.available_points, c.pending_points, c.credited_points, c.spent_points))


def ledger_csv(session: Session, shop: Shop) -> Iterator[str]:
    yield _line(LEDGER_COLUMNS)
    rows = session.execute(
        select(PointTransaction, Customer.shopify_customer_id)
        .join(Customer, Customer.id == PointTransaction.customer_id)
        .where(PointTransaction.shop_id == shop.id)
        .order_by(PointTransaction.id).execution_options(yield_per=BATCH)
    )
    for t, shopify_id in rows:
        yield _line((t.id, shopify_id, t.kind.value, t.status.value, t.points,
                     t.available_after, t.source_type, t.source_id, t.note,
                     t.created_at.isoformat()))
