"""Reward codes used in orders become USED, even after we expired them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    LedgerKind,
    PointTransaction,
    Reward,
    RewardStatus,
    Shop,
)
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.points.pending import lock_customer
from shopify_loyalty.services.rewards.codes import normalise_code
from shopify_loyalty.shopify.webhook_payloads import OrderFacts


def mark_used(session: Session, shop: Shop, order: OrderFacts, now: datetime) -> Sequence[Reward]:
    """Each UNUSED or EXPIRED reward of this shop whose code the order used becomes USED.

    Only this shop's rewards: another shop may have generated the same code. A reward
    already USED keeps the order it was first used in, so replays change nothing. An
    EXPIRED one was used after all (its order webhook came late, or the code was used in
    the moment before its deactivation): it is USED, and a refund its expiry gave is taken
    back (``take_back_refund``).
    """
    codes = {normalise_code(code) for code in order.discount_codes if code.strip()}
    if not codes:
        return []
    rewards = session.scalars(
        select(Reward)
        .where(Reward.shop_id == shop.id, Reward.discount_code.in_(codes),
               Reward.status.in_((RewardStatus.UNUSED, RewardStatus.EXPIRED)))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for reward in rewards:
        if reward.status is RewardStatus.EXPIRED:
            take_back_refund(session, reward)
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


def take_back_refund(session: Session, reward: Reward) -> None:
    """Take back the points an expired reward's refund gave, once, never below zero.

    The debit is a REVERSED row with the reward as its source (unique: once). If the points
    have been spent meanwhile, only what is left is taken and the shortfall is written in the
    row's note: the customer keeps the difference, as with an order's reversal.
    """
    refunded = session.scalar(select(PointTransaction.points).where(
        PointTransaction.shop_id == reward.shop_id, PointTransaction.kind == LedgerKind.REFUNDED,
        PointTransaction.source_type == ledger.REWARD_SOURCE,
        PointTransaction.source_id == str(reward.id)))
    if not refunded or reward.customer_id is None:
        return
    customer = lock_customer(session, reward.customer_id)
    taken = min(refunded, customer.available_points)
    note = f"Refund taken back: {reward.description} was used after it expired"
    if taken < refunded:
        note = f"{note}; shortfall {refunded - taken} points (already spent)"
    ledger.post(session, customer, LedgerKind.REVERSED, -taken,
                ledger.Source(ledger.REWARD_SOURCE, str(reward.id)), note=note)
