"""Orders of one customer crossing a threshold at the same moment, in real threads on real
PostgreSQL: one upgrade, one entry reward, and each order at the multiplier it earned at."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, LoyaltyEvent, PointTransaction, Shop
from shopify_loyalty.services.orders import earning
from tests import factories
from tests.integration.tier_setup import CUSTOMER, ladder, order
from tests.integration.webhook_setup import purchase_rule

ORDERS = 4


@pytest.mark.parametrize("known", [True, False], ids=["known", "first-contact"])
def test_concurrent_orders_crossing_a_threshold_upgrade_once_and_pay_entry_once(
    committed_db: Database, known: bool
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        shop_id = shop.id
        [gold] = ladder(session, shop, ("Gold", "100"), entry_points=500,
                        earn_multiplier=Decimal("2"))
        if known:
            factories.customer(session, shop, CUSTOMER)
    with committed_db.unit_of_work() as session:
        purchase_rule(session, session.get_one(Shop, shop_id))
    barrier = threading.Barrier(ORDERS)
    errors: list[Exception] = []

    def place(n: int) -> None:
        barrier.wait()
        try:
            with committed_db.unit_of_work() as session:
                earning.earn_for_order(session, session.get_one(Shop, shop_id),
                                       order(9_000_000 + n, "60.00", utcnow()), utcnow())
        except Exception as exc:  # collected: the test asserts there were none
            errors.append(exc)

    threads = [threading.Thread(target=place, args=(n,)) for n in range(ORDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []

    with committed_db.unit_of_work() as session:
        customer = session.scalars(select(Customer)).one()
        assert customer.vip_tier_id == gold.id
        assert customer.spent_amount == Decimal("240.00")
        changes = session.scalar(select(func.count()).where(
            LoyaltyEvent.type == "tier.changed"))
        entries = session.scalars(select(PointTransaction.points).where(
            PointTransaction.source_type == "tier")).all()
        assert (changes, entries) == (1, [500])
        # Taking turns: 60 and 60 (crossing, at x1), then 120 and 120 at Gold's x2.
        orders = sorted(session.scalars(select(PointTransaction.points).where(
            PointTransaction.source_type == "order")).all())
        assert orders == [60, 60, 120, 120]
        assert customer.available_points == 360 + 500 == factories.ledger_sum(
            session, customer.id)
