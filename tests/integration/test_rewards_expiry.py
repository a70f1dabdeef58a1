"""Rewards expiry (job ``rewards-expiry``): UNUSED past its date becomes EXPIRED, its code is
deactivated in Shopify by the worker (retried, never lost), its points come back when the
shop says so; a code still being made is deactivated when it is recorded; a late order that
used an expired code still marks it USED and takes back the refund."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    OutboxMessage,
    PointTransaction,
    RedeemRuleKind,
    Reward,
    RewardStatus,
    Shop,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.services.rewards import attempts, deactivation, fulfilment, usage
from shopify_loyalty.services.rewards.terms import RewardTerms
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.shopify import webhook_payloads as payloads
from tests import shopify_webhooks as hooks
from tests.conftest import SentTasks
from tests.fake_clock import FakeClock
from tests.fake_shopify import FakeShopify
from tests.integration.expiry_setup import events_of
from tests.integration.test_fulfil_failures import make_reward, reload

LATER = timedelta(days=31)


def run(db: Database, now: datetime) -> int:
    return scheduled.run_now(db, "rewards-expiry", now).handled


def ledger_of(session: Session, customer: Customer) -> list[tuple[LedgerKind, int]]:
    session.expire_all()
    return [(row.kind, row.points) for row in session.scalars(
        select(PointTransaction).where(PointTransaction.customer_id == customer.id)
        .order_by(PointTransaction.id))]


def deactivations(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.task_name == outbox.DEACTIVATE_DISCOUNT)))


def test_an_unused_code_expires_and_is_deactivated_in_shopify(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    gid = reload(session, reward).discount_code_id

    assert run(db, utcnow() + timedelta(days=29)) == 0
    assert run(db, utcnow() + LATER) == 1
    assert run(db, utcnow() + LATER) == 0  # twice: nothing more
    expired = reload(session, reward)
    assert (expired.status, expired.fulfillment_status) == (RewardStatus.EXPIRED,
                                                            FulfillmentStatus.DONE)
    assert shopify.deactivated == [gid]
    assert [m.completed_at is not None for m in deactivations(session)] == [True]
    # No refund unless the shop asks for one.
    assert ledger_of(session, customer) == [(LedgerKind.ADJUSTED, 5000),
                                            (LedgerKind.REDEEMED, -500)]
    [event] = events_of(session, customer, "reward.expired")
    assert (event["reward"]["id"], event["pointsRefunded"]) == (reward.id, 0)


def test_a_failed_deactivation_stays_due_and_is_retried(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, app: Flask,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    shopify.then(503, 503, 503, 503)  # every attempt the client makes
    assert run(db, utcnow() + LATER) == 1
    [row] = deactivations(session)
    assert row.completed_at is None and row.due_at > utcnow() + timedelta(seconds=30)
    assert shopify.deactivated == []
    relay = OutboxDispatcher(app.extensions["celery"], db, timedelta(seconds=90))
    relay.relay(utcnow() + timedelta(minutes=2))
    assert shopify.deactivated == [reload(session, reward).discount_code_id]
    assert deactivations(session)[0].completed_at is not None


def test_refund_expired_rewards_gives_the_points_back(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    shop_settings.update_settings(token_shop, refund_expired_rewards=True)
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    assert run(db, utcnow() + LATER) == 1
    assert ledger_of(session, customer)[-1] == (LedgerKind.REFUNDED, 500)
    assert session.get_one(Customer, customer.id).available_points == 5000
    assert reload(session, reward).status is RewardStatus.EXPIRED


def test_a_reward_whose_code_is_being_made_expires_once_it_is_made(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=1)
    terms = attempts.claim(db, reward.id, utcnow(), timedelta(seconds=90))
    assert isinstance(terms, RewardTerms)
    # The worker is talking to Shopify when the job runs: the reward may exist there, so the
    # job leaves it to the fulfilment rather than call it never made.
    assert run(db, utcnow() + timedelta(days=2)) == 0
    assert reload(session, reward).status is RewardStatus.UNUSED
    gid = "gid://shopify/DiscountCodeNode/778"
    assert attempts.record_done(db, terms, gid) is attempts.Outcome.DONE
    assert run(db, utcnow() + timedelta(days=2)) == 1
    expired = reload(session, reward)
    assert (expired.status, expired.fulfillment_status, expired.discount_code_id) == (
        RewardStatus.EXPIRED, FulfillmentStatus.DONE, gid)
    assert shopify.deactivated == [gid]
    # Made and expired unused: no refund unless the shop asks for one.
    assert ledger_of(session, customer)[-1] == (LedgerKind.REDEEMED, -500)


def test_a_store_credit_whose_answer_was_lost_is_not_refunded_by_expiry(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    """The chaos run's finding: the credit reached Shopify, its answer was lost, and the job
    ran before the next attempt found it; refunding then gave the points back for a credit
    the customer holds."""
    reward = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT,
                         expires_in_days=1)
    terms = attempts.claim(db, reward.id, utcnow(), timedelta(seconds=90))
    assert isinstance(terms, RewardTerms)
    attempts.release(db, terms, attempts=1)  # the answer was lost: PENDING, lease given back
    assert run(db, utcnow() + timedelta(days=2)) == 0
    assert [kind for kind, _ in ledger_of(session, customer)].count(LedgerKind.REFUNDED) == 0
    credit = "gid://shopify/StoreCreditAccountCreditTransaction/9"
    assert attempts.record_done(db, terms, credit) is attempts.Outcome.DONE
    assert run(db, utcnow() + timedelta(days=2)) == 1
    expired = reload(session, reward)
    assert (expired.status, expired.fulfillment_status, expired.discount_code_id) == (
        RewardStatus.EXPIRED, FulfillmentStatus.DONE, credit)
    assert [kind for kind, _ in ledger_of(session, customer)].count(LedgerKind.REFUNDED) == 0


def test_a_reward_never_attempted_expires_as_never_made_with_its_points_back(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=1)
    assert run(db, utcnow() + timedelta(days=2)) == 1
    expired = reload(session, reward)
    assert (expired.status, expired.fulfillment_status) == (RewardStatus.EXPIRED,
                                                            FulfillmentStatus.FAILED)
    assert ledger_of(session, customer)[-1] == (LedgerKind.REFUNDED, 500)
    # Its task, coming late, finds nothing to do and makes nothing in Shopify.
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.SETTLED
    assert shopify.deactivated == []


def test_a_late_order_with_an_expired_code_marks_it_used_and_takes_back_the_refund(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks, client: FlaskClient,
) -> None:
    shop_settings.update_settings(token_shop, refund_expired_rewards=True)
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    assert run(db, utcnow() + LATER) == 1
    # The refunded points were partly spent before the order's webhook came.
    spent = make_reward(session, token_shop, customer, points_cost=4800, name="Big one")
    assert session.get_one(Customer, customer.id).available_points == 200

    order = hooks.order(customer_id=customer.shopify_customer_id,
                        codes=(reward.discount_code or "",))
    for topic in ("orders/create", "orders/paid"):  # the second changes nothing more
        assert hooks.deliver(client, token_shop.domain, topic, order).status_code == 200
    used = reload(session, reward)
    assert (used.status, used.order_id) == (RewardStatus.USED, order["id"])
    assert ledger_of(session, customer)[-1] == (LedgerKind.REVERSED, -200)
    fresh = session.get_one(Customer, customer.id)
    assert fresh.available_points == 0
    assert fresh.spent_points == 500 + 4800 - 300  # the part of the refund it kept
    note = session.scalars(select(PointTransaction.note).where(
        PointTransaction.kind == LedgerKind.REVERSED)).one()
    assert note is not None and "shortfall 300" in note
    assert reload(session, spent).status is RewardStatus.UNUSED


def test_a_used_reward_never_expires(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    order = payloads.order_facts(hooks.order(customer_id=customer.shopify_customer_id,
                                             codes=(reward.discount_code or "",)))
    usage.mark_used(session, token_shop, order, utcnow())
    session.commit()
    assert run(db, utcnow() + LATER) == 0
    assert reload(session, reward).status is RewardStatus.USED


def test_expired_store_credit_leaves_the_local_balance_and_is_not_refunded(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    shop_settings.update_settings(token_shop, refund_expired_rewards=True)
    reward = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT,
                         expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    assert session.get_one(Customer, customer.id).store_credit_balance == Decimal("10.00")
    assert run(db, utcnow() + LATER) == 1
    session.expire_all()
    fresh = session.get_one(Customer, customer.id)
    assert (fresh.store_credit_balance, fresh.available_points) == (Decimal("0.00"), 4000)
    assert reload(session, reward).status is RewardStatus.EXPIRED
    assert deactivations(session) == []


def test_a_throttled_deactivation_waits_for_the_bucket(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks, clock: FakeClock,
) -> None:
    reward = make_reward(session, token_shop, customer, expires_in_days=30)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    session.get_one(Reward, reward.id).status = RewardStatus.EXPIRED
    session.commit()
    shopify.then("throttled")
    with pytest.raises(outbox.RetryLater) as later:
        deactivation.deactivate_reward_discount(db, admins, reward.id)
    assert later.value.countdown > 0 and shopify.deactivated == []
    clock.now += later.value.countdown  # the bucket has refilled by the time it runs again
    assert deactivation.deactivate_reward_discount(db, admins, reward.id) is True
    assert shopify.deactivated == [reload(session, reward).discount_code_id]
