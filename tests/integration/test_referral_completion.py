"""Referral completion by the friend's first paid order: the referrer paid once (pending,
reversed on a full refund or a cancellation), never for their own order, within the weekly
cap; every outcome recorded with its state and reason."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    LedgerStatus,
    LoyaltyEvent,
    PointTransaction,
    Referral,
    Reward,
    RewardStatus,
    Shop,
)
from shopify_loyalty.services.customers import referrals as referral_service
from shopify_loyalty.services.orders import webhooks
from tests import factories
from tests import shopify_webhooks as hooks
from tests.conftest import auth
from tests.integration.referral_setup import (
    REFERRER,
    REFERRER_HOME,
    claim,
    friend_order,
    referral_rule,
    referrals,
    referrer,
)
from tests.integration.webhook_setup import assert_balanced, rows

FRIEND = 6001


def claimed_code(client: FlaskClient, session: Session, shop: Shop,
                 email: str = "friend@example.org") -> str:
    customer = session.scalars(select(Customer).where(
        Customer.shop_id == shop.id, Customer.shopify_customer_id == REFERRER)).first()
    code = (customer or referrer(session, shop)).referral_code
    answer = claim(client, shop, code, email)
    assert answer.status_code == 200, answer.json
    discount: str = answer.json["discountCode"]
    return discount


def referrer_row(session: Session, shop: Shop) -> Customer:
    session.expire_all()
    return session.scalars(select(Customer).where(
        Customer.shop_id == shop.id, Customer.shopify_customer_id == REFERRER)).one()


def state(session: Session, shop: Shop) -> list[tuple[str, str | None, bool]]:
    return [(r.state.value, r.reason, r.paid) for r in referrals(session, shop)]


def test_a_first_paid_order_pays_the_referrer_pending_and_a_full_refund_takes_it_back(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    referral_rule(session, shop, points=500, pending_days=14)
    code = claimed_code(client, session, shop)
    order = friend_order(9101, FRIEND, code)
    hooks.deliver(client, shop.domain, "orders/create", {**order, "financial_status": "pending"})
    assert state(session, shop) == [("CLAIMED", None, False)]
    for _ in range(2):  # a replay with a new delivery id
        hooks.deliver(client, shop.domain, "orders/paid", order)
    assert state(session, shop) == [("COMPLETED", None, True)]
    ann = referrer_row(session, shop)
    assert (ann.pending_points, ann.available_points, ann.referred_completed) == (500, 0, 1)
    [earned] = rows(session, ann.id, LedgerKind.EARNED)
    assert (earned.status, earned.source_type) == (LedgerStatus.PENDING, "referral")
    event = session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.type == "referral.completed")).one()
    assert event["data"]["customer"]["id"] == REFERRER
    assert event["data"]["referral"]["friendEmail"] == "f***@example.org"
    reward = session.scalars(select(Reward)).one()
    assert reward.status is RewardStatus.USED and reward.customer_id is not None
    info = client.get("/loyalty/cp/api/customer-loyalty", headers=auth(shop.domain, REFERRER))
    assert info.json["referredCompleted"] == 1

    hooks.deliver(client, shop.domain, "refunds/create",
                  hooks.refund(order_id=9101, refund_id=9201, subtotals=("40.00",)))
    assert state(session, shop) == [("COMPLETED", None, True)]  # a part is not all of it
    hooks.deliver(client, shop.domain, "refunds/create",
                  hooks.refund(order_id=9101, refund_id=9202, subtotals=("60.00",)))
    assert state(session, shop) == [("REJECTED", "order_refunded", False)]
    ann = referrer_row(session, shop)
    assert (ann.pending_points, ann.available_points, ann.referred_completed) == (0, 0, 0)
    assert_balanced(session, ann)


def test_a_refund_after_approval_takes_back_approved_points(
    app: Flask, client: FlaskClient, session: Session, shop: Shop
) -> None:
    referral_rule(session, shop, points=500, pending_days=14)
    code = claimed_code(client, session, shop)
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(9101, FRIEND, code))
    later = (utcnow() + timedelta(days=15)).isoformat()
    result = app.test_cli_runner().invoke(args=["jobs", "run", "approve-pending", "--now", later])
    assert json.loads(result.stdout)["handled"] == 1
    assert referrer_row(session, shop).available_points == 500
    hooks.deliver(client, shop.domain, "refunds/create",
                  hooks.refund(order_id=9101, refund_id=9201, subtotals=("100.00",)))
    ann = referrer_row(session, shop)
    assert (ann.available_points, ann.pending_points) == (0, 0)
    reversal = rows(session, ann.id, LedgerKind.REVERSED)
    assert [(r.points, r.status) for r in reversal] == [(-500, LedgerStatus.APPROVED)]
    assert state(session, shop) == [("REJECTED", "order_refunded", False)]
    assert_balanced(session, ann)


def test_a_cancellation_undoes_and_a_refund_before_the_payment_refuses(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    referral_rule(session, shop, points=300)
    first = claimed_code(client, session, shop, "one@example.org")
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(9101, FRIEND, first))
    assert referrer_row(session, shop).available_points == 300
    hooks.deliver(client, shop.domain, "orders/cancelled", friend_order(9101, FRIEND, first))
    second = claimed_code(client, session, shop, "two@example.org")
    hooks.deliver(client, shop.domain, "refunds/create",
                  hooks.refund(order_id=9102, refund_id=9202, subtotals=("100.00",)))
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(9102, FRIEND + 1, second))
    assert state(session, shop) == [("REJECTED", "order_cancelled", False),
                                    ("REJECTED", "order_refunded", False)]
    ann = referrer_row(session, shop)
    assert (ann.available_points, ann.referred_completed) == (0, 0)
    assert_balanced(session, ann)


def test_self_referrals_by_each_signal_pay_nothing(client: FlaskClient, session: Session,
                                                  shop: Shop) -> None:
    referral_rule(session, shop, points=300)
    codes = [claimed_code(client, session, shop, f"alias{n}@example.org") for n in range(4)]
    # The referrer's own customer, with their own code.
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(
        order_id=9101, customer_id=REFERRER, codes=(codes[0],), email="x@example.org",
        shipping_address=hooks.address("9 Elsewhere")))
    # A new customer with the referrer's mailbox under another spelling.
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(
        9102, FRIEND, codes[1], email="Ann.Smith+shop@googlemail.com"))
    # A new customer shipping to the referrer's home, spelt differently.
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(
        9103, FRIEND + 1, codes[2], shipping_address=hooks.address(
            "1 REFERRER LANE.", zip_code=REFERRER_HOME["zip"])))
    # A guest order: no customer to tell a first order from a tenth.
    hooks.deliver(client, shop.domain, "orders/paid",
                  hooks.order(order_id=9104, customer_id=None, codes=(codes[3],)))
    assert state(session, shop) == [
        ("REJECTED", "self_referral_customer", False), ("REJECTED", "self_referral_email", False),
        ("REJECTED", "self_referral_address", False), ("REJECTED", "guest_order", False)]
    assert rows(session, referrer_row(session, shop).id, LedgerKind.EARNED) == []


def test_a_friend_who_ordered_before_completes_nothing(client: FlaskClient, session: Session,
                                                       shop: Shop) -> None:
    referral_rule(session, shop, points=300)
    code = claimed_code(client, session, shop)
    hooks.deliver(client, shop.domain, "orders/paid",
                  hooks.order(order_id=9100, customer_id=FRIEND, subtotal="20.00"))
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(9101, FRIEND, code))
    assert state(session, shop) == [("REJECTED", "not_first_order", False)]
    # And the friend's email can no longer claim: they are a customer who has ordered.
    friend = session.scalars(select(Customer).where(
        Customer.shopify_customer_id == FRIEND)).one()
    assert claim(client, shop, referrer_row(session, shop).referral_code,
                 friend.email).json["code"] == "referral_not_allowed"


def test_the_weekly_cap_completes_unpaid_beyond_it(client: FlaskClient, session: Session,
                                                   shop: Shop) -> None:
    shop.settings = {"referral_weekly_cap": 2}
    session.commit()
    referral_rule(session, shop, points=100)
    for n in range(3):
        code = claimed_code(client, session, shop, f"friend{n}@example.org")
        hooks.deliver(client, shop.domain, "orders/paid", friend_order(9101 + n, FRIEND + n, code))
    assert state(session, shop) == [("COMPLETED", None, True), ("COMPLETED", None, True),
                                    ("COMPLETED", "weekly_cap", False)]
    ann = referrer_row(session, shop)
    assert (ann.available_points, ann.referred_completed) == (200, 2)
    # A week later the cap has room again.
    session.execute(Referral.__table__.update().values(
        completed_at=utcnow() - timedelta(days=7, minutes=1)))
    session.commit()
    code = claimed_code(client, session, shop, "friend9@example.org")
    hooks.deliver(client, shop.domain, "orders/paid", friend_order(9109, FRIEND + 9, code))
    assert state(session, shop)[-1] == ("COMPLETED", None, True)
    mine = client.get("/loyalty/cp/api/referrals", headers=auth(shop.domain, REFERRER)).json
    assert mine["referredCompleted"] == 3
    assert [(r["state"], r["paid"]) for r in mine["referrals"]][:2] == [
        ("COMPLETED", True), ("COMPLETED", False)]


def test_one_order_processed_by_ten_workers_at_once_pays_once(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        referral_rule(session, shop, points=250)
        code = referrer(session, shop).referral_code
        assert code is not None
        claimed = referral_service.claim(session, shop, code, "friend@example.org", utcnow())
        shop_id, discount = shop.id, claimed.reward.discount_code
    assert discount is not None
    payload = friend_order(9101, FRIEND, discount)
    with committed_db.unit_of_work() as session:
        events = [webhooks.receive(session, webhooks.Delivery(
            "orders/paid", session.get_one(Shop, shop_id).domain, f"hook-{n}", None, None,
            payload)) for n in range(10)]
    barrier = threading.Barrier(10)
    errors: list[Exception] = []

    def process(event_id: int | None) -> None:
        barrier.wait()
        try:
            with committed_db.unit_of_work() as session:
                webhooks.process_event(session, event_id or 0, utcnow())
        except Exception as exc:  # collected: the test asserts there were none
            errors.append(exc)

    threads = [threading.Thread(target=process, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with committed_db.unit_of_work() as session:
        earned = session.scalars(select(PointTransaction).where(
            PointTransaction.source_type == "referral")).all()
        assert [row.points for row in earned] == [250]
        [row] = session.scalars(select(Referral)).all()
        assert (row.state.value, row.paid) == ("COMPLETED", True)


def test_ten_claims_of_one_email_at_once_make_one_referral(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        referral_rule(session, shop)
        shop_id, code = shop.id, referrer(session, shop).referral_code
    barrier = threading.Barrier(10)
    outcomes: list[Any] = []

    def run() -> None:
        barrier.wait()
        try:
            with committed_db.unit_of_work() as session:
                referral_service.claim(session, session.get_one(Shop, shop_id), code or "",
                                       "Friend@Example.org", utcnow())
            outcomes.append("claimed")
        except Exception as exc:  # the refusals are what the test counts
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=run) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["ReferralNotAllowedError"] * 9 + ["claimed"]
    with committed_db.unit_of_work() as session:
        assert len(session.scalars(select(Reward)).all()) == 1


def test_redacting_a_friend_erases_their_email_but_keeps_the_claim_refused(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    referral_rule(session, shop)
    code = claimed_code(client, session, shop, "friend@example.org")
    hooks.deliver(client, shop.domain, "orders/paid",
                  friend_order(9101, FRIEND, code, email="friend@example.org"))
    hooks.deliver(client, shop.domain, "customers/redact", {
        "shop_id": 1, "shop_domain": shop.domain, "customer": {"id": FRIEND},
        "orders_to_redact": [9101]})
    [row] = referrals(session, shop)
    assert row.friend_email is None and row.state.value == "COMPLETED"
    friend = session.scalars(select(Customer).where(Customer.shopify_customer_id == FRIEND)).one()
    assert (friend.email, friend.address_keys) == (None, [])
    answer = claim(client, shop, referrer_row(session, shop).referral_code, "friend@example.org")
    assert answer.json["code"] == "referral_not_allowed"
