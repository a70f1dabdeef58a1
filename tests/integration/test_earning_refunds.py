"""Refunds and cancellations take points back: once, proportionally, never below zero."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import LedgerKind, LedgerStatus
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.points import pending as pending_points
from tests import shopify_webhooks as hooks
from tests.integration.webhook_setup import assert_balanced, customer, purchase_rule, rows

R1, R2, R3 = hooks.REFUND_ID, hooks.REFUND_ID + 10, hooks.REFUND_ID + 20


def _reversed(session: Session, customer_id: int) -> list[tuple[int, str | None]]:
    return [(r.points, r.source_id)
            for r in rows(session, customer_id, LedgerKind.REVERSED)]


def test_partial_refunds_take_back_the_refunded_share_rounded_down(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="99.99"))
    for refund_id in (R1, R2):
        hooks.deliver(client, shop.domain, "refunds/create",
                      hooks.refund(refund_id=refund_id, subtotals=("20.00", "13.00")))
    row = customer(session, shop)
    assert row is not None
    # 99 points on 99.99; 33.00 refunded → 32.67… → 32; 66.00 in all → 65.34… → 65.
    assert _reversed(session, row.id) == [(-32, str(R1)), (-33, str(R2))]
    assert row.available_points == 99 - 65
    hooks.deliver(client, shop.domain, "refunds/create",
                  hooks.refund(refund_id=R3, subtotals=("33.99",)))
    row = customer(session, shop)
    assert row is not None and row.available_points == 0  # all refunded: all taken back
    assert _reversed(session, row.id)[-1] == (-34, str(R3))
    assert_balanced(session, row)


def test_a_full_refund_takes_everything_back_and_a_replay_nothing_more(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, points_per_unit=3)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="100.00"))
    for _ in range(3):  # new webhook id each time: Shopify's duplicate, our business key
        hooks.deliver(client, shop.domain, "refunds/create",
                      hooks.refund(subtotals=("60.00", "40.00")))
    row = customer(session, shop)
    assert row is not None
    assert _reversed(session, row.id) == [(-300, str(hooks.REFUND_ID))]
    assert row.available_points == 0
    assert row.spent_amount == 0
    assert_balanced(session, row)


def test_refund_before_the_paid_order_is_applied_when_the_order_earns(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "refunds/create", hooks.refund(subtotals=("25.00",)))
    assert customer(session, shop) is None
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="100.00"))
    row = customer(session, shop)
    assert row is not None and row.available_points == 75
    assert [(r.kind, r.points) for r in rows(session, row.id)] == [
        (LedgerKind.EARNED, 100), (LedgerKind.REVERSED, -25)]
    assert_balanced(session, row)


def test_cancel_after_a_partial_refund_takes_back_only_the_rest(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="100.00"))
    hooks.deliver(client, shop.domain, "refunds/create", hooks.refund(subtotals=("30.00",)))
    cancelled = hooks.order(cancelled_at="2026-11-22T10:00:00-05:00", cancel_reason="customer")
    for _ in range(2):
        hooks.deliver(client, shop.domain, "orders/cancelled", cancelled)
    row = customer(session, shop)
    assert row is not None and row.available_points == 0
    assert [(r.points, r.source_type) for r in rows(session, row.id, LedgerKind.REVERSED)] == [
        (-30, "refund"), (-70, "order_cancel")]
    # The refund Shopify sends with the cancellation finds nothing left to take.
    hooks.deliver(client, shop.domain, "refunds/create",
                  hooks.refund(refund_id=R2, subtotals=("70.00",)))
    assert len(rows(session, row.id, LedgerKind.REVERSED)) == 2
    assert_balanced(session, row)


def test_cancelled_before_paid_earns_nothing(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/cancelled", hooks.order())
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    row = customer(session, shop)
    assert row is not None and row.available_points == 0 and rows(session, row.id) == []


def test_spent_points_are_a_shortfall_written_in_the_note(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="100.00"))
    adjustments.adjust_points(session, shop, hooks.CUSTOMER_ID, -80, "spent elsewhere")
    session.commit()
    hooks.deliver(client, shop.domain, "refunds/create", hooks.refund(subtotals=("50.00",)))
    row = customer(session, shop)
    assert row is not None and row.available_points == 0
    [reversal] = rows(session, row.id, LedgerKind.REVERSED)
    assert reversal.points == -20
    assert reversal.note is not None and "shortfall 30 points" in reversal.note
    assert_balanced(session, row)


def test_a_refund_of_pending_points_takes_them_from_pending_first(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    purchase_rule(session, shop, pending_days=30)
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="100.00"))
    hooks.deliver(client, shop.domain, "refunds/create", hooks.refund(subtotals=("40.00",)))
    row = customer(session, shop)
    assert row is not None
    assert (row.available_points, row.pending_points) == (0, 60)
    [earned, reversal] = rows(session, row.id)
    assert reversal.status is LedgerStatus.PENDING
    assert reversal.approve_after == earned.approve_after
    assert_balanced(session, row)
    pending_points.approve_due(session, row.id, utcnow() + timedelta(days=31))
    session.commit()
    row = customer(session, shop)
    assert row is not None and (row.available_points, row.pending_points) == (60, 0)
    assert [r.available_after for r in rows(session, row.id)] == [100, 60]
    assert_balanced(session, row)


def test_refund_of_an_order_that_earned_nothing_is_a_no_op(
    client: FlaskClient, session: Session, shop: Any
) -> None:
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order())
    hooks.deliver(client, shop.domain, "refunds/create", hooks.refund())
    row = customer(session, shop)
    assert row is not None and rows(session, row.id) == []
