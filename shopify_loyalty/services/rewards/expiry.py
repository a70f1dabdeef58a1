"""Rewards past their expiry date: UNUSED becomes EXPIRED (job ``rewards-expiry``).

For each UNUSED reward whose ``expires_at`` has passed, in one transaction:

- status EXPIRED and event ``reward.expired``;
- a discount code that exists in Shopify is deactivated by the worker
  (``loyalty.deactivate_discount``, queued through the outbox, so never lost and never
  called inside this transaction); a code still being made is deactivated when the worker
  records it (services.rewards.attempts.record_done);
- a reward never made in Shopify (fulfilment PENDING, no attempt started) was never usable:
  its points come back (a REFUNDED row) and its fulfilment is FAILED, whatever the shop's
  setting. One whose fulfilment has started (``first_attempt_at``) is left alone until the
  fulfilment settles it: the attempt may have reached Shopify with its answer lost, and a
  store credit cannot be taken back, so calling it "never made" would refund points for a
  credit the customer holds (found by the chaos run). Once DONE it expires like any other;
  refunded by the fulfilment, it is no longer UNUSED;
- a discount code that was made: its points come back only when the shop's
  ``refund_expired_rewards`` is on. A store credit's points never come back: the customer
  may have spent the credit, and we cannot tell;
- store credit: Shopify expires the credit itself at the ``expiresAt`` we gave it, which is
  the reward's ``expires_at``; the reward's ``amount`` is taken off the local
  ``store_credit_balance``, which is credited − expired − refunded, not Shopify's live
  balance (Shopify's expiration takes what remains of the credit, and spending at checkout
  is not tracked here:
  https://shopify.dev/docs/api/admin-graphql/latest/objects/StoreCreditAccountExpirationTransaction).

A USED reward never expires: only UNUSED rows are taken, locked with SKIP LOCKED, so an
order marking the code used at this moment wins or waits its turn (services.rewards.usage,
which also marks an already EXPIRED code used, and takes back a refund given).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    FulfillmentStatus,
    LedgerKind,
    Reward,
    RewardStatus,
    RewardType,
    Shop,
)
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import ledger

# Rewards per batch: each may queue one deactivation.
EXPIRY_BATCH = 500
NEVER_MADE = "Expired before it could be made in Shopify."


def expire_batch(session: Session, now: datetime, limit: int) -> int:
    """Expire up to ``limit`` UNUSED rewards whose expiry has passed; returns how many."""
    rewards = session.scalars(
        select(Reward)
        .where(Reward.status == RewardStatus.UNUSED, Reward.expires_at <= now,
               # An attempt started: wait for the fulfilment's outcome (module docstring).
               (Reward.fulfillment_status != FulfillmentStatus.PENDING)
               | Reward.first_attempt_at.is_(None))
        .order_by(Reward.expires_at, Reward.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    if not rewards:
        return 0
    # Loaded at once, rather than one SELECT per reward.
    customers = {c.id: c for c in session.scalars(
        select(Customer).where(Customer.id.in_({r.customer_id for r in rewards})))}
    shops = {s.id: s for s in session.scalars(
        select(Shop).where(Shop.id.in_({r.shop_id for r in rewards})))}
    # The rewards' changes and events are flushed together at the end, not before each
    # outbox row's INSERT.
    with session.no_autoflush:
        for reward in rewards:
            owner = customers.get(reward.customer_id) if reward.customer_id else None
            expire_reward(session, reward, shops[reward.shop_id], owner)
    return len(rewards)


def expire_reward(session: Session, reward: Reward, shop: Shop,
                  customer: Customer | None) -> None:
    """Make a locked UNUSED reward EXPIRED, with what follows from it (module docstring).

    A referred friend's code belongs to no customer until it is used: it cost no points,
    so it expires with its code deactivated and no event."""
    reward.status = RewardStatus.EXPIRED
    never_made = reward.fulfillment_status is FulfillmentStatus.PENDING
    is_credit = reward.reward_type is RewardType.STORE_CREDIT
    if never_made:
        reward.fulfillment_status = FulfillmentStatus.FAILED
        reward.failure_reason = NEVER_MADE
        reward.lease_until = None
    refund = customer is not None and reward.points > 0 and (
        never_made or (not is_credit and bool(shop.setting("refund_expired_rewards"))))
    if refund and customer is not None:
        ledger.post(session, customer, LedgerKind.REFUNDED, reward.points,
                    ledger.Source(ledger.REWARD_SOURCE, str(reward.id)),
                    note=f"Expired unused: {reward.description}")
    if is_credit and reward.amount is not None and customer is not None:
        # In SQL at once: another reward of the same customer may follow in this batch.
        session.execute(
            update(Customer).where(Customer.id == customer.id)
            .values(store_credit_balance=Customer.store_credit_balance - reward.amount)
            .execution_options(synchronize_session=False)
        )
    if reward.reward_type is RewardType.DISCOUNT_CODE and reward.discount_code_id is not None:
        outbox.enqueue(session, shop.id, outbox.DEACTIVATE_DISCOUNT, reward.id)
    if customer is not None:
        catalog.emit_reward(session, customer, catalog.REWARD_EXPIRED, reward,
                            {"pointsRefunded": reward.points if refund else 0})
