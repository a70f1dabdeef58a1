"""A customer's VIP tier: the upgrade at once, manual assignment, and what the portal shows.

A tier changes only three ways (invariant 8): an upgrade here, in the transaction whose
earning took progress over a higher threshold; the merchant's assignment here; and the
``tiers`` job after the tier expired (tier_review). Nothing else moves a customer down.
Callers hold the customer's row lock (``pending.lock_customer``), so two orders crossing a
threshold at once make one upgrade and pay one entry reward: the second sees the first's
tier when it gets the lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import ValidationError
from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    LedgerKind,
    PointTransaction,
    Shop,
    TierMetric,
    VipTier,
)
from shopify_loyalty.services.customers import progress
from shopify_loyalty.services.events import catalog
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.program import tiers as ladder_of
from shopify_loyalty.services.program.tier_periods import held_until, metric_of, period_of

UPGRADE = "upgrade"
REVIEW = "re-evaluation"
MANUAL = "manual"
TIER_ENTRY = "TIER_ENTRY"


@dataclass(frozen=True)
class TierStatus:
    """What the portal shows: the tier held, the next one up, and the way there."""

    held: VipTier | None
    next_tier: VipTier | None
    metric: TierMetric
    # None when the shop offers no tier.
    current: Decimal | None
    needed_for_next: Decimal | None


def held_tier(session: Session, customer: Customer) -> VipTier | None:
    return session.get(VipTier, customer.vip_tier_id) if customer.vip_tier_id else None


def upgrade(session: Session, shop: Shop, customer: Customer, now: datetime) -> None:
    """Move an ACTIVE customer up at once if their progress reaches a tier above theirs.

    Call after recording the progress, under the customer's row lock. The tier entered
    (not those jumped over) pays its entry points; its expiry is the period's, counted
    from now. Never moves anyone down. Raises nothing of its own.
    """
    if customer.status is not CustomerStatus.ACTIVE:
        return
    ladder = ladder_of.active_tiers(session, shop)
    held = held_tier(session, customer)
    if ladder_of.next_above(ladder, held) is None:
        return  # nothing above: no need to read progress
    target = ladder_of.reached(ladder, progress.current(session, shop, customer, now))
    if target is None or (held is not None and target.threshold <= held.threshold):
        return
    place(session, customer, held, target, held_until(period_of(shop), now), UPGRADE)


def place(session: Session, customer: Customer, held: VipTier | None,
          target: VipTier | None, until: datetime | None, reason: str) -> None:
    """Give the customer ``target`` (None: no tier) until ``until``, and announce it."""
    customer.vip_tier_id = target.id if target else None
    customer.vip_tier_expires_at = until if target else None
    announce(session, customer, held, target, until, reason)


def announce(session: Session, customer: Customer, held: VipTier | None,
             target: VipTier | None, until: datetime | None, reason: str) -> None:
    """What follows a move from ``held`` to ``target`` (the customer row already written).

    A change of tier writes ``tier.changed``. A tier climbed to by progress (above the one
    held; not the merchant's choice, not a step down) pays its entry points if this
    customer never had them.
    """
    if (held.id if held else None) != (target.id if target else None):
        catalog.emit(session, customer, catalog.TIER_CHANGED, {
            "tier": {"from": held.name if held else None, "to": target.name if target else None},
            "reason": reason,
            "vipTierExpiredAt": until.isoformat() if target and until else None,
        })
    if target is None or reason == MANUAL:
        return
    if held is None or target.threshold > held.threshold:
        _pay_entry(session, customer, target)


def _pay_entry(session: Session, customer: Customer, tier: VipTier) -> None:
    if tier.entry_points <= 0 or customer.status is not CustomerStatus.ACTIVE:
        return
    # Once per customer and tier, ever: a customer who drops and climbs back is not paid
    # again. The ledger's unique source is the record of it (and the backstop).
    source = ledger.Source("tier", f"{tier.id}:{customer.id}")
    paid = session.scalar(select(PointTransaction.id).where(
        PointTransaction.shop_id == customer.shop_id,
        PointTransaction.kind == LedgerKind.EARNED,
        PointTransaction.source_type == source.type,
        PointTransaction.source_id == source.id,
    ))
    if paid is None:
        ledger.post(session, customer, LedgerKind.EARNED, tier.entry_points, source,
                    note=f"Reached {tier.name}",
                    event_data={"ruleKind": TIER_ENTRY, "tierId": tier.id, "tier": tier.name})


def assign(session: Session, shop: Shop, customer: Customer, tier_id: int | None,
           until: datetime | None, now: datetime) -> None:
    """The merchant's choice: ``tier_id`` (None: no tier) until ``until``, by default the
    period as if reached now. No entry points; after ``until`` the tiers job re-evaluates
    the customer like any other, so a manual tier is never a permanent floor.

    Raises ValidationError (a tier that is not an active one of this shop, ``until`` not in
    the future, ``until`` without a tier).
    """
    target: VipTier | None = None
    if tier_id is not None:
        target = session.get(VipTier, tier_id)
        if target is None or target.shop_id != shop.id:
            raise ValidationError(errors={"tierId": ["No such VIP tier in this shop."]})
        if not target.active:
            raise ValidationError(errors={"tierId": ["This tier is inactive."]})
    elif until is not None:
        raise ValidationError(errors={"until": ["Only a tier can have an end."]})
    if until is not None and until <= now:
        raise ValidationError(errors={"until": ["Must be in the future."]})
    expiry = until if until is not None else held_until(period_of(shop), now)
    place(session, customer, held_tier(session, customer), target, expiry, MANUAL)


def status(session: Session, shop: Shop, customer: Customer, now: datetime) -> TierStatus:
    """The tier, the next one up and the progress: one query for the tiers, and one for
    the progress unless the period is LIFETIME (on the customer row) or there is no tier."""
    every = ladder_of.tiers(session, shop)
    held = next((t for t in every if t.id == customer.vip_tier_id), None)
    ladder = [t for t in every if t.active]
    following = ladder_of.next_above(ladder, held)
    metric = metric_of(shop)
    if not ladder:
        return TierStatus(held, None, metric, None, None)
    value = progress.current(session, shop, customer, now)
    needed = max(following.threshold - value, Decimal("0")) if following else None
    return TierStatus(held, following, metric, value, needed)


def members(session: Session, shop: Shop) -> dict[int, int]:
    """How many customers hold each of the shop's tiers (tiers nobody holds are left out).

    A grouped count on ``customers.vip_tier_id``'s index: a tier id names one shop, so the
    shop's tier ids scope it, and PostgreSQL counts from the index alone (no heap rows).
    The ids go in as values, not as a subquery, so that the scan reads only those ids'
    entries (a join would merge along the whole index): it costs the members counted, not
    the table (bench/tier_members.py).
    """
    ids = session.scalars(select(VipTier.id).where(VipTier.shop_id == shop.id)).all()
    if not ids:
        return {}
    rows = session.execute(
        select(Customer.vip_tier_id, func.count())
        .where(Customer.vip_tier_id.in_(ids))
        .group_by(Customer.vip_tier_id)
    ).all()
    return {tier_id: count for tier_id, count in rows if tier_id is not None}
