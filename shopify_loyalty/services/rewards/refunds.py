"""Giving a reward's points back when it cannot be fulfilled."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    PointTransaction,
    Reward,
    RewardStatus,
    RewardType,
)
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import ledger


def refund_reward(session: Session, reward: Reward, reason: str) -> PointTransaction | None:
    """Mark the reward REFUNDED / FAILED with ``reason`` and post its points back (a reward
    without a customer, a referred friend's code, cost no points: None then).

    The REFUNDED ledger row's source is the reward, unique per (shop, kind, source), so a
    reward can be refunded once: a second attempt raises IntegrityError and the caller's
    transaction rolls back whole. A store-credit reward also takes its amount back off the
    local store-credit balance, which the redemption had added.
    """
    reward.status = RewardStatus.REFUNDED
    reward.fulfillment_status = FulfillmentStatus.FAILED
    reward.failure_reason = reason
    reward.lease_until = None
    if reward.customer_id is None:
        return None
    customer = session.get_one(Customer, reward.customer_id)
    row = ledger.post(
        session,
        customer,
        LedgerKind.REFUNDED,
        reward.points,
        ledger.Source("reward", str(reward.id)),
        note=reason,
    )
    if reward.reward_type is RewardType.STORE_CREDIT and reward.amount is not None:
        customer.store_credit_balance = Customer.store_credit_balance - reward.amount
    session.flush()
    catalog.emit_reward(session, customer, catalog.REWARD_REFUNDED, reward, {"reason": reason})
    return row
