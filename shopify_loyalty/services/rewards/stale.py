"""Rewards left PENDING too long: their task was lost, or their shop's outage outlived retries.

Every run of the fulfilment touches the reward (lease taken or released, outcome recorded), so
a PENDING reward whose ``updated_at`` is old has no run in progress and none queued that will
reach it soon. The relay sends it again; the fulfilment is idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shopify_loyalty.models import FulfillmentStatus, Reward, RewardStatus, Shop

# Well beyond the longest wait a live reward can have (the fulfilment lease, 5 minutes, and its
# retry backoff of at most 2 minutes), so a reward still being worked on is not sent twice.
STALE_AFTER = timedelta(minutes=10)


def take_stale_rewards(session: Session, now: datetime, limit: int) -> list[int]:
    """Ids of up to ``limit`` stale PENDING rewards, marked as just re-sent.

    Shops waiting for re-authorisation are skipped: their rewards wait, they do not fail. The
    rows are locked with SKIP LOCKED so concurrent relays take different ones, and their
    ``updated_at`` moves to ``now`` so the next relay does not take them again for a while.
    """
    stale = (
        select(Reward.id)
        .join(Shop, Shop.id == Reward.shop_id)
        .where(
            Reward.fulfillment_status == FulfillmentStatus.PENDING,
            Reward.status == RewardStatus.UNUSED,
            Reward.updated_at < now - STALE_AFTER,
            Shop.needs_reauth.is_(False),
        )
        .order_by(Reward.updated_at)
        .limit(limit)
        .with_for_update(of=Reward, skip_locked=True)
    )
    ids = list(session.scalars(stale))
    if ids:
        session.execute(
            update(Reward)
            .where(Reward.id.in_(ids))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids
