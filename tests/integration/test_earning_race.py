"""One order's events processed at the same moment by two workers: one earn, one reversal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, EarnRuleKind, LedgerKind, PointTransaction, Shop
from shopify_loyalty.services.orders import earning, reversals
from shopify_loyalty.services.program import earn_rules
from shopify_loyalty.shopify import webhook_payloads as payloads
from tests import factories
from tests import shopify_webhooks as hooks

WORKERS = 4


def _together(db: Database, shop_id: int, work: Callable[[Any, Shop], None]) -> list[Exception]:
    barrier = threading.Barrier(WORKERS)
    errors: list[Exception] = []

    def run() -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as session:
                work(session, session.get_one(Shop, shop_id))
        except Exception as exc:  # collected: the test asserts there were none
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_concurrent_events_of_one_order_earn_and_reverse_once(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.PURCHASE, points_per_unit=1))
        shop_id = shop.id
    order = payloads.order_facts(hooks.order(subtotal="100.00"))
    refund = payloads.refund_facts(hooks.refund(subtotals=("25.00",)))

    assert _together(committed_db, shop_id,
                     lambda s, shop: earning.earn_for_order(s, shop, order, utcnow())) == []
    assert _together(committed_db, shop_id,
                     lambda s, shop: reversals.reverse_for_refund(s, shop, refund)) == []

    with committed_db.unit_of_work() as session:
        customer = session.scalars(select(Customer)).one()
        kinds = session.scalars(select(PointTransaction.kind).order_by(PointTransaction.id)).all()
        assert kinds == [LedgerKind.EARNED, LedgerKind.REVERSED]
        assert customer.available_points == 75
        assert factories.ledger_sum(session, customer.id) == 75
