"""Fulfilment when Shopify throttles, fails, loses answers or refuses: one reward or a refund."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from celery.exceptions import Retry
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    OutboxMessage,
    PointTransaction,
    RedeemRule,
    RedeemRuleKind,
    Reward,
    RewardStatus,
    Shop,
)
from shopify_loyalty.services.outbox import RetryLater
from shopify_loyalty.services.rewards import fulfilment, redemption
from shopify_loyalty.services.rewards.attempts import Outcome
from shopify_loyalty.services.rewards.fulfilment import (
    MAX_TRANSIENT_FAILURES,
    STORE_CREDIT_SETTLE_SECONDS,
)
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.fake_clock import FakeClock
from tests.fake_shopify import FakeShopify
from workers import tasks

CREATE = "DiscountCodeBasicCreate"
LOOKUP = "CodeDiscountNodeByCode"
CREDIT = "StoreCreditAccountCredit"
CREDITS = "CustomerStoreCreditTransactions"


def make_reward(session: Session, shop: Shop, customer: Customer,
                kind: RedeemRuleKind = RedeemRuleKind.FIXED_AMOUNT, **rule: object) -> Reward:
    """A redeemed reward, committed without running its task."""
    redeem_rule: RedeemRule = factories.rule(session, shop, kind, **rule)
    reward = redemption.redeem_points(session, shop, customer,
                                      redemption.RedeemCommand(redeem_rule.id), utcnow())
    session.commit()
    return reward


def reload(session: Session, reward: Reward) -> Reward:
    session.expire_all()
    return session.get_one(Reward, reward.id)


def assert_refunded(session: Session, reward: Reward, customer: Customer, reason: str) -> None:
    reward = reload(session, reward)
    assert reward.status is RewardStatus.REFUNDED
    assert reward.fulfillment_status is FulfillmentStatus.FAILED
    assert reward.failure_reason is not None and reason in reward.failure_reason
    refund = session.scalars(select(PointTransaction).where(
        PointTransaction.kind == LedgerKind.REFUNDED)).one()
    assert (refund.points, refund.source_type, refund.source_id) == (
        reward.points, "reward", str(reward.id))
    fresh = session.get_one(Customer, customer.id)
    assert fresh.available_points == 5000 == factories.ledger_sum(session, customer.id)


def assert_pending(session: Session, reward: Reward) -> Reward:
    reward = reload(session, reward)
    assert reward.fulfillment_status is FulfillmentStatus.PENDING
    assert reward.status is RewardStatus.UNUSED and reward.lease_until is None
    assert not session.scalars(select(PointTransaction).where(
        PointTransaction.kind == LedgerKind.REFUNDED)).all()
    return reward


@pytest.fixture
def reward(session: Session, token_shop: Shop, customer: Customer) -> Reward:
    return make_reward(session, token_shop, customer)


def run(db: Database, admins: ShopAdmins, reward: Reward) -> Outcome:
    return fulfilment.fulfil_reward(db, admins, reward.id)


def test_throttled_is_requeued_after_the_bucket_wait_without_counting_a_failure(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    clock: FakeClock,
) -> None:
    shopify.then("throttled")
    with pytest.raises(RetryLater) as later:
        run(db, admins, reward)
    # (10 points requested - 0 available) / 1 point a second, from throttleStatus.
    assert later.value.countdown == pytest.approx(10.0)
    assert assert_pending(session, reward).attempts == 0

    clock.sleep(later.value.countdown)
    assert run(db, admins, reward) is Outcome.DONE
    assert shopify.operations() == [CREATE, CREATE]
    assert len(shopify.codes) == 1


def test_a_worker_requeues_a_throttled_reward_with_the_wait_as_countdown(
    app: Flask, session: Session, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    countdowns: list[float] = []

    def retry(countdown: float, exc: Exception) -> Exception:
        countdowns.append(countdown)
        return Retry(exc=exc, when=countdown)

    monkeypatch.setattr(tasks.fulfil_reward, "retry", retry)
    shopify.then("throttled")
    with pytest.raises(Retry):
        tasks.fulfil_reward(reward.id)  # as a worker runs it: not eager
    assert countdowns == [pytest.approx(10.0)]
    assert assert_pending(session, reward).attempts == 0


def test_in_process_mode_never_sleeps_in_the_request_and_leaves_the_reward_pending(
    app: Flask, session: Session, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    clock: FakeClock,
) -> None:
    shopify.then("throttled")
    row = session.scalars(select(OutboxMessage)).one()
    dispatcher: OutboxDispatcher = app.extensions["loyalty_dispatcher"]
    assert dispatcher.send(row.task_name, row.args, row.id)  # runs inside the send
    assert clock.sleeps == []
    assert assert_pending(session, reward).attempts == 0
    # Left to the relay, due when the bucket has room again.
    session.refresh(row)
    assert row.completed_at is None
    assert (row.due_at - utcnow()).total_seconds() == pytest.approx(10, abs=2)


def test_two_5xx_then_success_is_one_discount(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    shopify.then(500, 502)
    assert run(db, admins, reward) is Outcome.DONE
    assert shopify.operations() == [CREATE] * 3
    assert len(shopify.codes) == 1
    assert reload(session, reward).attempts == 0


def test_a_timeout_then_success(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    shopify.then("timeout")
    assert run(db, admins, reward) is Outcome.DONE
    assert shopify.operations() == [CREATE, CREATE]
    assert reload(session, reward).discount_code_id == next(iter(shopify.codes.values()))


def test_an_applied_but_lost_create_is_found_by_its_code(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    shopify.then("lost")
    assert run(db, admins, reward) is Outcome.DONE
    assert shopify.operations() == [CREATE, CREATE, LOOKUP]
    assert len(shopify.codes) == 1
    assert reload(session, reward).discount_code_id == shopify.codes[
        reward.discount_code.lower()]


def test_a_lost_answer_across_task_runs_is_still_one_discount(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    shopify.then("lost", "timeout", "timeout", "timeout")
    with pytest.raises(RetryLater) as later:
        run(db, admins, reward)
    # Equal jitter on the first step of 10 s.
    assert 5.0 <= later.value.countdown <= 10.0
    assert assert_pending(session, reward).attempts == 1

    assert run(db, admins, reward) is Outcome.DONE
    assert shopify.operations()[-2:] == [CREATE, LOOKUP]
    assert len(shopify.codes) == 1


def test_a_lost_store_credit_is_found_not_credited_twice(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer,
) -> None:
    reward = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT,
                         expires_in_days=30)
    shopify.then("lost")
    with pytest.raises(RetryLater):
        run(db, admins, reward)
    assert run(db, admins, reward) is Outcome.DONE

    assert shopify.operations() == [CREDIT, CREDITS]
    assert len(shopify.credits) == 1
    assert reload(session, reward).discount_code_id == shopify.credits[0]["id"]


def test_a_store_credit_retry_waits_for_a_lost_attempt_to_land(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer,
) -> None:
    """Shopify may still apply a credit whose answer timed out: the retry that looks for it
    comes a minute later, not after the usual 5 to 10 s of a code."""
    reward = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT)
    shopify.then("timeout")
    with pytest.raises(RetryLater) as later:
        run(db, admins, reward)
    assert later.value.countdown == pytest.approx(STORE_CREDIT_SETTLE_SECONDS) == 60.0


def test_a_store_credit_that_never_arrived_is_credited_on_the_retry(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer,
) -> None:
    reward = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT)
    shopify.then("timeout")
    with pytest.raises(RetryLater):
        run(db, admins, reward)
    assert run(db, admins, reward) is Outcome.DONE
    assert shopify.operations() == [CREDIT, CREDITS, CREDIT]
    assert len(shopify.credits) == 1


def test_another_rewards_credit_of_the_same_amount_is_not_taken_for_this_one(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer,
) -> None:
    first = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT)
    assert run(db, admins, first) is Outcome.DONE
    second = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT)
    shopify.then("timeout")
    with pytest.raises(RetryLater):
        run(db, admins, second)
    assert run(db, admins, second) is Outcome.DONE
    assert len(shopify.credits) == 2
    assert reload(session, second).discount_code_id == shopify.credits[1]["id"]


def test_a_refused_discount_is_refunded_in_the_ledger(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    customer: Customer,
) -> None:
    shopify.then(("user_error", "INVALID", "Minimum subtotal is not valid"))
    assert run(db, admins, reward) is Outcome.REFUNDED
    assert_refunded(session, reward, customer, "Minimum subtotal is not valid")
    assert shopify.codes == {}


def test_a_refused_store_credit_also_takes_the_local_balance_back(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer,
) -> None:
    reward = make_reward(session, token_shop, customer, RedeemRuleKind.STORE_CREDIT)
    assert session.get_one(Customer, customer.id).store_credit_balance == Decimal("10.00")
    shopify.then(("user_error", "ACCOUNT_LIMIT", "Credit limit exceeded"))
    assert run(db, admins, reward) is Outcome.REFUNDED
    assert_refunded(session, reward, customer, "Credit limit exceeded")
    assert session.get_one(Customer, customer.id).store_credit_balance == Decimal("0.00")


def test_a_shop_gone_from_shopify_refunds(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    customer: Customer,
) -> None:
    shopify.then(404)
    assert run(db, admins, reward) is Outcome.REFUNDED
    assert_refunded(session, reward, customer, "HTTP 404")


def test_an_uninstalled_shop_refunds_without_calling_shopify(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    customer: Customer, token_shop: Shop,
) -> None:
    session.get_one(Shop, token_shop.id).uninstalled_at = utcnow()
    session.commit()
    assert run(db, admins, reward) is Outcome.REFUNDED
    assert_refunded(session, reward, customer, "uninstalled")
    assert shopify.calls == []


def test_a_refused_token_keeps_the_reward_pending(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    shopify.then(401)
    assert run(db, admins, reward) is Outcome.WAITING_FOR_REAUTH
    assert assert_pending(session, reward).failure_reason is None


def test_a_shop_needing_reauth_is_not_called(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    token_shop: Shop,
) -> None:
    session.get_one(Shop, token_shop.id).needs_reauth = True
    session.commit()
    assert run(db, admins, reward) is Outcome.WAITING_FOR_REAUTH
    assert_pending(session, reward)
    assert shopify.calls == []


def exhaust(session: Session, reward: Reward) -> None:
    """Make the next 5xx/timeout the last one allowed."""
    session.get_one(Reward, reward.id).attempts = MAX_TRANSIENT_FAILURES - 1
    session.commit()


def test_retries_exhausted_refund_once_shopify_says_there_is_no_discount(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
    customer: Customer,
) -> None:
    exhaust(session, reward)
    shopify.then(503, 503, 503, 503)
    assert run(db, admins, reward) is Outcome.REFUNDED
    assert shopify.operations() == [CREATE] * 4 + [LOOKUP]
    assert_refunded(session, reward, customer, f"after {MAX_TRANSIENT_FAILURES} attempts")


def test_retries_exhausted_but_the_discount_exists_is_done_not_refunded(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    exhaust(session, reward)
    shopify.then("lost", 503, 503, 503)
    assert run(db, admins, reward) is Outcome.DONE
    assert len(shopify.codes) == 1


def test_retries_exhausted_and_shopify_unreachable_parks_the_reward_pending(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    exhaust(session, reward)
    shopify.then(*[503] * 8)
    assert run(db, admins, reward) is Outcome.PARKED
    assert assert_pending(session, reward).attempts == MAX_TRANSIENT_FAILURES


def test_the_task_run_twice_makes_one_discount_and_the_second_run_calls_nobody(
    app: Flask, session: Session, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    with app.app_context():
        assert tasks.fulfil_reward.apply(args=[reward.id]).get() == "DONE"
        calls = len(shopify.calls)
        assert tasks.fulfil_reward.apply(args=[reward.id]).get() == "SETTLED"
    assert len(shopify.calls) == calls == 1
    assert len(shopify.codes) == 1


def test_a_reward_leased_by_another_run_is_left_alone(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify, reward: Reward,
) -> None:
    session.get_one(Reward, reward.id).lease_until = utcnow() + timedelta(minutes=1)
    session.commit()
    assert run(db, admins, reward) is Outcome.BUSY
    assert shopify.calls == []
