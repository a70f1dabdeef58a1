"""An order's ``OrderPoints`` row: the turnstile every event of that order passes first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
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
    session.execute(_first_sight(session), {"shop_id": shop.id, "order_id": order_id})
    record = session.scalars(_LOCKED, {"shop": shop.id, "order": order_id}).one()
    locked[(shop.id, order_id)] = record
    return record


# Built once (db.per_backend): every order event runs both.
@per_backend
def _first_sight(dialect: str) -> Any:
    return backend_insert(dialect, OrderPoints).on_conflict_do_nothing(
        index_elements=["shop_id", "order_id"])


_LOCKED = (
    select(OrderPoints)
    .where(OrderPoints.shop_id == bindparam("shop"), OrderPoints.order_id == bindparam("order"))
    .with_for_update()
    .execution_options(populate_existing=True)
)
