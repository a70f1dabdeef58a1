"""The merchant's view of rewards: listing, and refunding an unused one."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopify_loyalty.errors import ConflictError, NotFoundError
from shopify_loyalty.models import Customer, LedgerKind, Reward, RewardStatus, RewardType, Shop
from shopify_loyalty.services import outbox
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.paging import Page, page_of
from shopify_loyalty.services.points import ledger


def rewards(session: Session, shop: Shop, status: RewardStatus | None, page: int,
            size: int) -> Page[Reward]:
    query = select(Reward).where(Reward.shop_id == shop.id)
    if status is not None:
        query = query.where(Reward.status == status)
    return page_of(session, query.order_by(Reward.id.desc()), page, size)


def refund_reward(session: Session, shop: Shop, reward_id: int) -> Reward:
    """Give an UNUSED discount-code reward's points back and retire its code.

    The points come back in a REFUNDED ledger row with source ("reward", id), so a reward is
    refunded once however often this runs; the code is deactivated in Shopify by the worker
    (``loyalty.deactivate_discount``, queued through the outbox). Store credit has already
    been given and cannot be taken back here.
    Raises NotFoundError, ConflictError.
    """
    reward = session.get(Reward, reward_id)
    if reward is None or reward.shop_id != shop.id:
        raise NotFoundError("No such reward.")
    if reward.reward_type is not RewardType.DISCOUNT_CODE:
        raise ConflictError("Only discount-code rewards can be refunded.")
    # Conditional, so an order that uses the code at this moment wins or loses cleanly.
    taken = session.execute(
        update(Reward)
        .where(Reward.id == reward.id, Reward.status == RewardStatus.UNUSED)
        .values(status=RewardStatus.REFUNDED)
        .returning(Reward.id)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        raise ConflictError(f"Only an UNUSED reward can be refunded; this one is "
                            f"{reward.status.value}.")
    session.refresh(reward)
    if reward.customer_id is not None:  # a friend's referral code cost nobody points
        customer = session.get_one(Customer, reward.customer_id)
        ledger.post(session, customer, LedgerKind.REFUNDED, reward.points,
                    ledger.Source("reward", str(reward.id)),
                    note=f"Refund of {reward.description}")
        catalog.emit_reward(session, customer, catalog.REWARD_REFUNDED, reward,
                            {"reason": "Refunded by the merchant"})
    outbox.enqueue(session, shop.id, outbox.DEACTIVATE_DISCOUNT, reward.id)
    return reward


def customer_ids(session: Session, rows: list[Reward]) -> dict[int, int]:
    """Our customer id → Shopify customer id, for the rewards shown."""
    ids = {r.customer_id for r in rows if r.customer_id is not None}
    if not ids:
        return {}
    found = session.execute(
        select(Customer.id, Customer.shopify_customer_id).where(Customer.id.in_(ids))
    ).all()
    return {row[0]: row[1] for row in found}
