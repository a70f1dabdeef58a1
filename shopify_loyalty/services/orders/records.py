"""An order's ``OrderPoints`` row: the turnstile every event of that order passes first."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import transaction_memo, upsert_insert
from shopify_loyalty.models import OrderPoints, Shop


def lock_order(session: Session, shop: Shop, order_id: int) -> OrderPoints:
    """The order's row, created on first sight, locked until commit (read once a transaction:
    an orders/paid that earns locks it for the earning and again for the referral)."""
    locked = transaction_memo(session, "locked_orders")
    record: OrderPoints | None = locked.get((shop.id, order_id))
    if record is not None:
        return record
    session.execute(
        upsert_insert(session, OrderPoints)
        .values(shop_id=shop.id, order_id=order_id)
        .on_conflict_do_nothing(index_elements=["shop_id", "order_id"])
    )
    record = session.scalars(
        select(OrderPoints)
        .where(OrderPoints.shop_id == shop.id, OrderPoints.order_id == order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    locked[(shop.id, order_id)] = record
    return record
