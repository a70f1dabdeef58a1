"""A merchant's refund of an UNUSED reward retires its code in Shopify, whenever it lands."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, OutboxMessage, RewardStatus, Shop
from shopify_loyalty.services import outbox
from shopify_loyalty.services.rewards import admin as rewards_admin
from shopify_loyalty.services.rewards import attempts, fulfilment
from shopify_loyalty.services.rewards.terms import RewardTerms
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests.conftest import SentTasks
from tests.fake_shopify import FakeShopify
from tests.integration.test_fulfil_failures import make_reward, reload
from workers import tasks


def test_a_refunded_rewards_code_is_deactivated_in_shopify(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer)
    assert fulfilment.fulfil_reward(db, admins, reward.id) is attempts.Outcome.DONE
    gid = reload(session, reward).discount_code_id

    rewards_admin.refund_reward(session, token_shop, reward.id)
    session.commit()
    assert tasks.deactivate_discount.apply(args=[reward.id]).successful()
    assert shopify.deactivated == [gid]
    # Running it again asks Shopify again (deactivation is idempotent there); nothing breaks.
    assert tasks.deactivate_discount.apply(args=[reward.id]).successful()


def test_a_refund_while_the_code_is_being_made_still_retires_the_code(
    session: Session, db: Database, admins: ShopAdmins, shopify: FakeShopify,
    token_shop: Shop, customer: Customer, sent_tasks: SentTasks,
) -> None:
    reward = make_reward(session, token_shop, customer)
    terms = attempts.claim(db, reward.id, utcnow(), timedelta(seconds=90))
    assert isinstance(terms, RewardTerms)
    # The worker is talking to Shopify when the merchant refunds the reward.
    rewards_admin.refund_reward(session, token_shop, reward.id)
    session.commit()
    gid = "gid://shopify/DiscountCodeNode/777"
    assert attempts.record_done(db, terms, gid) is attempts.Outcome.SETTLED

    row = reload(session, reward)
    assert (row.status, row.discount_code_id) == (RewardStatus.REFUNDED, gid)
    queued = session.scalars(select(OutboxMessage).where(
        OutboxMessage.task_name == outbox.DEACTIVATE_DISCOUNT)).all()
    assert [m.args for m in queued] == [[reward.id], [reward.id]]  # the refund's and ours
    assert gid in shopify.deactivated
