"""Reward codes used in orders become USED."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, Reward, RewardStatus, Shop
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.rewards.codes import normalise_code
from shopify_loyalty.shopify.webhook_payloads import OrderFacts


def mark_used(session: Session, shop: Shop, order: OrderFacts, now: datetime) -> Sequence[Reward]:
    """Each UNUSED reward of this shop whose code the order used becomes USED.

    Only this shop's rewards: another shop may have generated the same code. A reward
    already USED keeps the order it was first used in, so replays change nothing.
    """
    codes = {normalise_code(code) for code in order.discount_codes if code.strip()}
    if not codes:
        return []
    rewards = session.scalars(
        select(Reward)
        .where(Reward.shop_id == shop.id, Reward.discount_code.in_(codes),
               Reward.status == RewardStatus.UNUSED)
        .with_for_update()
    ).all()
    for reward in rewards:
        reward.status = RewardStatus.USED
        reward.used_at = order.created_at or now
        reward.order_id = order.id
        reward.order_name = order.name
        if reward.customer_id is None:
            # A friend's referral code: the referral's completion gives it its customer.
            continue
        customer = session.get_one(Customer, reward.customer_id)
        catalog.emit_reward(session, customer, catalog.REWARD_USED, reward,
                            {"orderId": order.id, "orderName": order.name})
    return rewards
