"""Orders earn points: once per order, per the PURCHASE rule, in any arrival order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import CustomerStatus, LedgerKind, LedgerStatus, VipTier
from shopify_loyalty.services.points import pending as pending_points
from shopify_loyalty.services.program import settings as shop_settings
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import (
    assert_balanced,
    customer,
    purchase_rule,
    rows,
)


def test_paid_order_earns_per_unit_rounded_down_and_enrols_the_customer(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, points_per_unit=2)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="99.99"))
    row = customer(session, shop)
    assert row is not None
    assert (row.email, row.first_name, row.last_name) == ("john@example.com", "John", "Smith")
    assert row.available_points == 199  # 99.99 × 2 = 199.98, rounded down
    assert row.credited_points == 199
    assert row.spent_amount == Decimal("99.99")
    [earned] = rows(session, row.id)
    assert (earned.kind, earned.status, earned.source_type, earned.source_id) == (
        LedgerKind.EARNED, LedgerStatus.APPROVED, "order", str(hooks.ORDER_ID))
    assert_balanced(session, row)


def test_one_order_through_create_updated_and_paid_earns_once(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/create",
                  hooks.order(financial_status="pending"))
    after_create = customer(session, shop)
    assert after_create is None  # earn_on is "paid": a pending order earns nothing yet
    hooks.deliver(client, shop.domain, "orders/updated", hooks.order())
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    row = customer(session, shop)
    assert row is not None and row.available_points == 100
    assert len(rows(session, row.id)) == 1
    assert row.spent_amount == Decimal("100.00")


@pytest.mark.parametrize("earn_on, earning_topic", [
    ("created", "orders/create"), ("paid", "orders/paid"), ("fulfilled", "orders/fulfilled"),
])
def test_the_shop_chooses_the_earning_event(
    client: FlaskClient, session: Session, shop: Any, earn_on: str, earning_topic: str
) -> None:
    purchase_rule(session, shop)
    shop_settings.update_settings(shop, earn_on=earn_on)
    session.commit()
    for topic in ("orders/create", "orders/paid", "orders/fulfilled"):
        hooks.deliver(client, shop.domain, topic, hooks.order(financial_status="pending"))
        row = customer(session, shop)
        earned_now = row is not None and row.available_points == 100
        if topic == earning_topic:
            assert earned_now
            break
        assert not earned_now


def test_shipping_tax_minimum_and_tier_multiplier(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, points_per_unit=1, include_shipping=True, include_tax=True,
                  min_order=Decimal("20.00"))
    tier = VipTier(shop_id=shop.id, name="Gold", earn_multiplier=Decimal("1.5"))
    session.add(tier)
    session.flush()
    hooks.deliver(client, shop.domain, "customers/create", hooks.customer())
    row = customer(session, shop)
    assert row is not None
    row.vip_tier_id = tier.id
    session.commit()
    hooks.deliver(client, shop.domain, "orders/paid",
                  hooks.order(subtotal="40.00", shipping="5.00", tax="3.33"))
    # (40 + 5 + 3.33) × 1 × 1.5 = 72.495 → 72
    assert customer(session, shop).available_points == 72  # type: ignore[union-attr]
    hooks.deliver(client, shop.domain, "orders/paid",
                  hooks.order(order_id=hooks.ORDER_ID + 1, subtotal="10.00", shipping="5.00"))
    assert customer(session, shop).available_points == 72  # type: ignore[union-attr]


def test_tax_included_prices_earn_on_the_net_amount(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid",
                  hooks.order(subtotal="120.00", tax="20.00", taxes_included=True))
    assert customer(session, shop).available_points == 100  # type: ignore[union-attr]


def test_guest_orders_and_excluded_customers_earn_nothing(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(customer_id=None))
    shop_settings.update_settings(shop, exclusion_tags=["staff"])
    session.commit()
    payload = hooks.order(order_id=hooks.ORDER_ID + 1)
    payload["customer"]["tags"] = "Staff, wholesale"
    hooks.deliver(client, shop.domain, "orders/paid", payload)
    row = customer(session, shop)
    assert row is not None and row.status is CustomerStatus.EXCLUDED
    assert row.available_points == 0 and rows(session, row.id) == []


def test_without_a_purchase_rule_nothing_is_earned(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    row = customer(session, shop)
    assert row is not None and row.available_points == 0


def test_pending_points_wait_for_the_approval_delay(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, pending_days=14)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    row = customer(session, shop)
    assert row is not None
    assert (row.available_points, row.pending_points) == (0, 100)
    [earned] = rows(session, row.id)
    assert earned.status is LedgerStatus.PENDING and earned.available_after is None
    assert earned.approve_after is not None
    assert earned.approve_after - utcnow() > timedelta(days=13, hours=23)
    assert_balanced(session, row)

    assert pending_points.approve_due(session, row.id, utcnow()) == 0
    later = utcnow() + timedelta(days=15)
    assert list(pending_points.customers_due(session, later, 10)) == [row.id]
    assert pending_points.approve_due(session, row.id, later) == 1
    session.commit()
    row = customer(session, shop)
    assert row is not None
    assert (row.available_points, row.pending_points, row.credited_points) == (100, 0, 100)
    [earned] = rows(session, row.id)
    assert (earned.status, earned.available_after) == (LedgerStatus.APPROVED, 100)
    assert_balanced(session, row)


def test_the_beat_task_approves_due_points(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    from workers.tasks import run_job

    purchase_rule(session, shop, pending_days=0)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    purchase_rule(session, shop, pending_days=1)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(order_id=hooks.ORDER_ID + 1))
    row = customer(session, shop)
    assert row is not None and (row.available_points, row.pending_points) == (100, 100)
    [_, pending] = rows(session, row.id)
    # The trigger allows this one update of a ledger row; here it makes the row due now.
    pending.approve_after = utcnow() - timedelta(seconds=1)
    session.commit()
    # Beat starts the job; its batches run (in-process here) until one finds nothing.
    assert run_job.apply(args=["approve-pending"]).successful()
    row = customer(session, shop)
    assert row is not None and (row.available_points, row.pending_points) == (200, 0)
    assert_balanced(session, row)
