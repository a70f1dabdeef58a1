"""The ``tiers`` job: customers whose tier is due for review are placed by their progress.

Due are the customers (a bounded batch, ``FOR UPDATE SKIP LOCKED``, so two runs at once
share them and an order in progress keeps its customer until the next batch):

1. whose tier expired (``vip_tier_expires_at <= now``): placed in the highest tier their
   progress reaches now, the same one with a new expiry, a lower one, or none. For
   CALENDAR_YEAR, last year's progress counts too: a tier reached last year is held
   through this one, as it would have been had it been reached then;
2. whose tier the merchant deactivated: placed the same way;
3. who hold a tier for good (no expiry) in a shop whose period is no longer LIFETIME: they
   keep it, with the period's expiry counted from now, rather than lose it the day the
   merchant changed the setting.

Each leaves the due set (a new expiry in the future, an active tier, or no tier), so a
second run finds nothing: the job is idempotent. This is the one place a tier goes down.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from shopify_loyalty.models import Customer, Shop, TierPeriod, VipTier
from shopify_loyalty.services.customers import progress, tiers
from shopify_loyalty.services.program import tiers as ladder_of
from shopify_loyalty.services.program.tier_periods import (
    day_of,
    held_until,
    period_of,
    year_start,
)

# Customers per batch: one transaction holds their rows until it commits, so an order of
# one of them waits at most one batch (well under a second).
REVIEW_BATCH = 1000


def review_batch(session: Session, now: datetime, limit: int) -> int:
    """Review up to ``limit`` due customers as of ``now``; returns how many."""
    due = _due(session, now, limit)
    for shop_id, group in groupby(sorted(due, key=lambda c: c.shop_id), lambda c: c.shop_id):
        _review_shop(session, session.get_one(Shop, shop_id), list(group), now)
    return len(due)


def _locked(session: Session, condition: ColumnElement[bool], limit: int) -> list[Customer]:
    if limit <= 0:
        return []
    return list(session.scalars(
        select(Customer).where(Customer.vip_tier_id.is_not(None), condition)
        .limit(limit).with_for_update(skip_locked=True, of=Customer)
    ).all())


def _due(session: Session, now: datetime, limit: int) -> list[Customer]:
    """Each kind of due customer by its own index-backed query (one query with OR would
    make PostgreSQL build a bitmap of every due row for every batch)."""
    due = list(session.scalars(
        select(Customer)
        .where(Customer.vip_tier_id.is_not(None), Customer.vip_tier_expires_at <= now)
        .order_by(Customer.vip_tier_expires_at)
        .limit(limit).with_for_update(skip_locked=True, of=Customer)
    ).all())
    inactive = session.scalars(select(VipTier.id).where(VipTier.active.is_(False))).all()
    if inactive:
        due += _locked(session, Customer.vip_tier_id.in_(inactive), limit - len(due))
    timed = session.scalars(select(Shop.id).where(
        func.coalesce(Shop.settings["tier_period"].as_string(), TierPeriod.LIFETIME.value)
        != TierPeriod.LIFETIME.value
    )).all()
    if timed:
        due += _locked(session, Customer.vip_tier_expires_at.is_(None)
                       & Customer.shop_id.in_(timed), limit - len(due))
    # A customer due twice over (expired, and their tier deactivated) is reviewed once.
    return list({c.id: c for c in due}.values())


def _review_shop(session: Session, shop: Shop, customers: Sequence[Customer],
                 now: datetime) -> None:
    every = {t.id: t for t in ladder_of.tiers(session, shop)}
    ladder = [t for t in every.values() if t.active]
    period = period_of(shop)
    standings = progress.standings(session, shop, customers, now)
    rows: list[dict[str, Any]] = []
    moves: list[tuple[Customer, VipTier | None, VipTier | None, datetime | None]] = []
    for customer in customers:
        held = every.get(customer.vip_tier_id or 0)
        target: VipTier | None
        if customer.vip_tier_expires_at is None and held is not None and held.active:
            target, until = held, held_until(period, now)  # case 3: kept, from now
        else:
            target, until = _placement(ladder, period, standings[customer.id], now)
            moves.append((customer, held, target, until))
        tier_id, until = (target.id, until) if target else (None, None)
        rows.append({"id": customer.id, "vip_tier_id": tier_id, "vip_tier_expires_at": until})
        set_committed_value(customer, "vip_tier_id", tier_id)
        set_committed_value(customer, "vip_tier_expires_at", until)
    # One executemany for the batch, not an UPDATE round trip per customer.
    session.execute(update(Customer), rows)
    for customer, held, target, until in moves:
        tiers.announce(session, customer, held, target, until, tiers.REVIEW)


def _placement(ladder: Sequence[VipTier], period: TierPeriod, standing: progress.Standing,
               now: datetime) -> tuple[VipTier | None, datetime | None]:
    """The highest tier the standing reaches, and until when it is held from now."""
    target = ladder_of.reached(ladder, standing.current)
    until = held_until(period, now)
    if period is TierPeriod.CALENDAR_YEAR:
        last_year = ladder_of.reached(ladder, standing.last_year)
        if last_year is not None and (target is None or last_year.threshold > target.threshold):
            return last_year, year_start(day_of(now).year + 1)
    return target, until

