"""A change marks its customer for the Shopify sync, in the change's own transaction.

Every balance or tier change passes through ``catalog.emit``, which calls ``mark_changed``:
one upsert of the customer's ``customer_syncs`` row a transaction (a redemption's two events
are one change: ``changes`` counts the transactions that changed the customer). A clean row
becomes due in ``SYNC_WINDOW``; a row already due keeps its due time and only counts the
change. So a burst of changes of one customer within the window makes one write, of the
state at the time of the write, and a customer who never stops changing is still written
every window. A rolled-back change rolls its mark back with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import backend_insert, upsert_insert, utcnow
from shopify_loyalty.db_driver import DriverStatement, run_in
from shopify_loyalty.db_reuse import per_backend, table_of, transaction_memo
from shopify_loyalty.models import Customer, CustomerSync, Shop

# Long enough to gather a redemption's events (points.redeemed, reward.created, then
# reward.fulfilled seconds later) or an order's (earned, tier.changed) into one write, short
# enough that a customer who looks at their account after an order sees the new balance.
SYNC_WINDOW = timedelta(seconds=10)
# Events that change nothing the sync writes: reminders (the catalog's type names; the
# catalog imports this module, so not its constants).
UNCHANGED_BY = frozenset({"points.expiring", "reward.expiring"})


def enabled(shop: Shop) -> bool:
    """The shop's ``shopifySync`` setting (on by default), for an installed shop only."""
    return shop.installed and bool(shop.setting("shopify_sync"))


def mark_changed(session: Session, shop: Shop, customer: Customer, event_type: str,
                 now: datetime | None = None) -> None:
    """The customer changed (``event_type`` of the catalog): write them to Shopify soon."""
    if event_type in UNCHANGED_BY or not enabled(shop):
        return
    marked = transaction_memo(session, "sync_marked")
    if customer.id not in marked:
        mark(session, shop.id, [customer.id], now or utcnow())
        marked[customer.id] = True


def mark(session: Session, shop_id: int, customer_ids: Sequence[int], now: datetime) -> None:
    """Mark these customers of the shop due within ``SYNC_WINDOW`` (coalesced)."""
    if not customer_ids:
        return
    # Rows as parameters of one statement built once: sent as one INSERT.
    run_in(session, _MARK, [
        {"customer_id": customer_id, "shop_id": shop_id, "due_at": now + SYNC_WINDOW,
         "changes": 1, "failures": 0}
        for customer_id in sorted(set(customer_ids))])  # one lock order for every writer


def _mark_for(dialect: str) -> Any:
    syncs = table_of(CustomerSync)
    insert = backend_insert(dialect, syncs)
    return insert.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"changes": syncs.c.changes + 1,
              "due_at": func.coalesce(syncs.c.due_at, insert.excluded.due_at)},
    )


# A redemption's path marks its customer: on the driver (db_driver) on PostgreSQL.
_MARK = DriverStatement(_mark_for("postgresql"),
                        ["customer_id", "shop_id", "due_at", "changes", "failures"],
                        elsewhere=per_backend(_mark_for))


def mark_tier(session: Session, shop: Shop, tier_id: int, now: datetime | None = None) -> None:
    """Every customer in the tier (renamed, say) is due: their tag and metafield name it."""
    if not enabled(shop):
        return
    due = (now or utcnow()) + SYNC_WINDOW
    rows = select(Customer.id, literal(shop.id), literal(due, CustomerSync.due_at.type),
                  literal(1), literal(0)).where(
        Customer.shop_id == shop.id, Customer.vip_tier_id == tier_id)
    insert = upsert_insert(session, CustomerSync).from_select(
        ["customer_id", "shop_id", "due_at", "changes", "failures"], rows)
    session.execute(insert.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={"changes": CustomerSync.changes + 1,
              "due_at": func.coalesce(CustomerSync.due_at, insert.excluded.due_at)},
    ))


def clear_shop(session: Session, shop_id: int) -> int:
    """The shop turned the sync off (or left): nothing of it is due any more."""
    result = session.execute(
        update(CustomerSync).where(CustomerSync.shop_id == shop_id,
                                   CustomerSync.due_at.is_not(None))
        .values(due_at=None).execution_options(synchronize_session=False))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
