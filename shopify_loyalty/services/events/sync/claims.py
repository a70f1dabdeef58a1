"""A run's hold on due customers: taken with their current state, then settled.

``claim`` reserves due rows for a lease (``FOR UPDATE SKIP LOCKED``: two runs of one shop
never hold the same customer, and a change waits for the claim's commit, so the state read
is at least as new as the count of changes read). A row re-dirtied while its write is under
way keeps the lease as due time, so no second run writes it meanwhile (an older state
arriving last would win in Shopify); settling then makes it due again at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, case, select, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import UTCDateTime
from shopify_loyalty.models import Customer, CustomerSync, VipTier
from shopify_loyalty.services.shops.links import referral_link
from shopify_loyalty.shopify.customer_fields import LoyaltyFields, tier_tag

# Transient failures are tried again after 1, 2, 4, … minutes, at most an hour apart.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=1)


@dataclass(frozen=True)
class Claimed:
    customer_id: int
    changes: int
    failures: int
    # Whether anything was ever written: before that, no field or tag can be assumed.
    synced: bool
    synced_tag: str | None
    fields: LoyaltyFields

    @property
    def tag(self) -> str | None:
        return tier_tag(self.fields.tier)


def claim(session: Session, shop_id: int, shop_domain: str, app_url: str, now: datetime,
          limit: int, lease: timedelta) -> list[Claimed]:
    """Up to ``limit`` of the shop's due customers, soonest first, held for ``lease``."""
    rows = session.execute(
        select(CustomerSync.customer_id, CustomerSync.changes, CustomerSync.failures,
               CustomerSync.synced_at, CustomerSync.synced_tag)
        .where(CustomerSync.shop_id == shop_id, CustomerSync.due_at <= now)
        .order_by(CustomerSync.due_at).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    ids = [row.customer_id for row in rows]
    session.execute(update(CustomerSync).where(CustomerSync.customer_id.in_(ids))
                    .values(due_at=now + lease).execution_options(synchronize_session=False))
    states = {state.id: state for state in session.execute(
        select(Customer.id, Customer.shopify_customer_id, Customer.available_points,
               Customer.referral_code, VipTier.name.label("tier"))
        .outerjoin(VipTier, VipTier.id == Customer.vip_tier_id)
        .where(Customer.id.in_(ids))
    )}
    return [
        Claimed(row.customer_id, row.changes, row.failures, row.synced_at is not None,
                row.synced_tag, LoyaltyFields(
                    shopify_customer_id=state.shopify_customer_id,
                    points=state.available_points, tier=state.tier,
                    referral_url=referral_link(app_url, shop_domain, state.referral_code)
                    if state.referral_code else None))
        for row in rows if (state := states.get(row.customer_id)) is not None
    ]


def _due_unless_changed(claimed: Claimed, at: datetime) -> object:
    """Clean if no change came during the write; else due at once (it is not written yet)."""
    return case((CustomerSync.changes == claimed.changes, None), else_=at)


# One statement for a call's customers, sent as one executemany (pipelined by psycopg).
# (Bind names must differ from the columns': those are the SET clause's own.)
_SETTLE_WRITTEN = (
    update(cast(Table, CustomerSync.__table__))
    .where(CustomerSync.customer_id == bindparam("row_id"))
    .values(due_at=case((CustomerSync.changes == bindparam("seen"), None),
                        else_=bindparam("at", type_=UTCDateTime())),
            failures=0, last_error=None, synced_at=bindparam("at", type_=UTCDateTime()),
            synced_tag=bindparam("tag"))
)


def settle_written(session: Session, written: Sequence[Claimed], now: datetime) -> None:
    """Clean, unless a change came during the write: then due at once."""
    if written:
        session.connection().execute(_SETTLE_WRITTEN, [
            {"row_id": c.customer_id, "seen": c.changes, "at": now, "tag": c.tag}
            for c in written])


def give_up(session: Session, claimed: Claimed, error: str, now: datetime) -> None:
    """Not tried again until the customer changes again; the error is kept."""
    session.execute(update(CustomerSync).where(
        CustomerSync.customer_id == claimed.customer_id).values(
        due_at=_due_unless_changed(claimed, now), failures=0, last_error=error[:2000]))


def retry_later(session: Session, claimed: Sequence[Claimed], error: str,
                now: datetime) -> None:
    """A failure that may pass: due again after a backoff that grows with each failure."""
    for row in claimed:
        wait = min(RETRY_CAP, RETRY_BASE * 2 ** min(row.failures, 10))
        session.execute(update(CustomerSync).where(
            CustomerSync.customer_id == row.customer_id).values(
            due_at=now + wait, failures=CustomerSync.failures + 1, last_error=error[:2000]))


def release(session: Session, claimed: Sequence[Claimed], at: datetime) -> None:
    """Not written, through no fault of theirs (throttled, out of time): due at ``at``."""
    if claimed:
        session.execute(update(CustomerSync).where(
            CustomerSync.customer_id.in_([c.customer_id for c in claimed]))
            .values(due_at=at).execution_options(synchronize_session=False))
