"""An order's ``OrderPoints`` row: the turnstile every event of that order passes first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from shopify_loyalty.db import backend_insert
from shopify_loyalty.db_reuse import per_backend, transaction_memo
from shopify_loyalty.models import OrderPoints, Shop


def lock_order(session: Session, shop: Shop, order_id: int) -> OrderPoints:
    """The order's row, created on first sight, locked until commit (read once a transaction:
    an orders/paid that earns locks it for the earning and again for the referral)."""
    locked = transaction_memo(session, "locked_orders")
    record: OrderPoints | None = locked.get((shop.id, order_id))
    if record is not None:
        return record
    record = session.scalars(_lock(session), {"shop_id": shop.id, "order_id": order_id}).one()
    locked[(shop.id, order_id)] = record
    return record


@per_backend
def _lock(dialect: str) -> Any:
    """Insert on first sight, else touch the row: either way it comes back locked (an ON
    CONFLICT DO UPDATE locks the row it meets) and freshly read, in one round trip. Built
    once (db_reuse.per_backend): every order event runs it."""
    insert = backend_insert(dialect, OrderPoints)
    return (insert.on_conflict_do_update(index_elements=["shop_id", "order_id"],
                                         set_={"order_id": insert.excluded.order_id})
            .returning(OrderPoints)
            .execution_options(populate_existing=True))
