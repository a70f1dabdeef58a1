"""The ``tiers`` job: held for the period, re-evaluated after, idempotent, in batches."""

from __future__ import annotations

import json
import tracemalloc
from datetime import timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import (
    Customer,
    LoyaltyEvent,
    PointTransaction,
    Shop,
    TierProgressDay,
)
from shopify_loyalty.services.customers import admin as customers_admin
from shopify_loyalty.services.program import tiers
from tests import factories
from tests.integration.test_jobs import together
from tests.integration.tier_setup import (
    CUSTOMER,
    NOW,
    at,
    configure,
    customer,
    earn,
    ladder,
    tier_changes,
)
from tests.integration.webhook_setup import purchase_rule

ORDER = 3_000_000_001


def _run(db: Database, when: str) -> int:
    return scheduled.run_now(db, "tiers", at(when)).handled


def test_a_calendar_year_tier_is_kept_through_the_next_year(
    session: Session, shop: Shop, db: Database
) -> None:
    purchase_rule(session, shop)
    configure(shop, "SPENT", "CALENDAR_YEAR")
    [gold] = ladder(session, shop, ("Gold", "100"))
    reached = at("2026-03-01T10:00")
    for n, shopify_id in enumerate((41, 42, 43)):
        earn(session, shop, ORDER + n, "150.00", reached, now=reached, customer_id=shopify_id)
    # 42 qualifies again in 2027, 43 in 2028: neither order moves the expiry.
    earn(session, shop, ORDER + 10, "120.00", at("2027-05-01T10:00"),
         now=at("2027-05-01T10:00"), customer_id=42)
    earn(session, shop, ORDER + 11, "100.00", at("2028-01-01T00:05"),
         now=at("2028-01-01T00:05"), customer_id=43)
    assert {customer(session, shop, n).vip_tier_expires_at for n in (41, 42, 43)} == {
        at("2028-01-01T00:00")}
    session.commit()

    assert _run(db, "2027-12-31T23:59") == 0  # held through 2027 by all three
    assert _run(db, "2028-01-01T00:10") == 3
    assert customer(session, shop, 41).vip_tier_id is None  # nothing in 2027 or 2028
    kept_by_2027, kept_by_2028 = customer(session, shop, 42), customer(session, shop, 43)
    assert (kept_by_2027.vip_tier_id, kept_by_2027.vip_tier_expires_at) == (
        gold.id, at("2029-01-01T00:00"))  # reached in 2027: held through 2028
    assert (kept_by_2028.vip_tier_id, kept_by_2028.vip_tier_expires_at) == (
        gold.id, at("2030-01-01T00:00"))
    assert tier_changes(session, kept_by_2027.id) == [(None, "Gold", "upgrade")]  # renewed
    assert _run(db, "2028-01-01T00:20") == 0


def test_a_rolling_tier_is_renewed_for_365_days_from_the_run_when_still_reached(
    session: Session, shop: Shop, db: Database
) -> None:
    purchase_rule(session, shop)
    configure(shop, "ORDERS", "ROLLING_12_MONTHS")
    [vip] = ladder(session, shop, ("VIP", "2"))
    earn(session, shop, ORDER, "10.00", NOW)
    earn(session, shop, ORDER + 1, "10.00", NOW + timedelta(days=20))
    earn(session, shop, ORDER + 2, "10.00", NOW + timedelta(days=300))
    row = customer(session, shop)
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (vip.id, NOW + timedelta(days=365))
    session.commit()
    run_at = NOW + timedelta(days=366)
    assert scheduled.run_now(db, "tiers", run_at).handled == 1
    row = customer(session, shop)  # orders of days 20 and 300 are in the window: kept
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (vip.id, run_at + timedelta(days=365))


def test_a_manual_tier_is_held_until_its_end_then_re_evaluated_like_any(
    session: Session, shop: Shop, db: Database
) -> None:
    configure(shop, "SPENT", "ROLLING_12_MONTHS")
    silver, gold = ladder(session, shop, ("Silver", "50"), ("Gold", "500"), entry_points=99)
    factories.customer(session, shop, CUSTOMER)
    customers_admin.assign_tier(session, shop, CUSTOMER, gold.id, at("2026-09-01T00:00"), NOW)
    purchase_rule(session, shop)
    earn(session, shop, ORDER, "80.00", NOW)  # Silver's worth: Gold stays
    row = customer(session, shop)
    assert (row.vip_tier_id, row.available_points) == (gold.id, 80)  # no entry points
    session.commit()
    assert _run(db, "2026-08-31T23:59") == 0
    assert _run(db, "2026-09-01T00:00") == 1
    row = customer(session, shop)
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (
        silver.id, at("2026-09-01T00:00") + timedelta(days=365))
    assert row.available_points == 80  # stepping down to Silver pays nothing
    assert tier_changes(session, row.id) == [(None, "Gold", "manual"),
                                             ("Gold", "Silver", "re-evaluation")]
    # Without an end: the period, as if reached now.
    customers_admin.assign_tier(session, shop, CUSTOMER, gold.id, None, NOW)
    assert customer(session, shop).vip_tier_expires_at == NOW + timedelta(days=365)


def test_jobs_run_tiers_twice_makes_one_change(
    app: Flask, session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    configure(shop, "SPENT", "ROLLING_12_MONTHS")
    ladder(session, shop, ("Gold", "100"))
    for n in range(3):
        earn(session, shop, ORDER + n, "150.00", NOW, customer_id=500 + n)
    session.commit()
    runner = app.test_cli_runner()
    later = (NOW + timedelta(days=400)).isoformat()
    first = json.loads(runner.invoke(args=["jobs", "run", "tiers", "--now", later]).stdout)
    second = json.loads(runner.invoke(args=["jobs", "run", "tiers", "--now", later]).stdout)
    assert (first["handled"], second["handled"]) == (3, 0)
    assert session.scalar(select(func.count()).where(
        LoyaltyEvent.type == "tier.changed", LoyaltyEvent.body["data"]["reason"].as_string()
        == "re-evaluation")) == 3
    listed = json.loads(runner.invoke(args=["jobs", "list"]).stdout)
    assert "tiers" in {job["name"] for job in listed}


def test_members_of_a_deactivated_tier_are_placed_at_the_next_run(
    session: Session, shop: Shop, db: Database
) -> None:
    purchase_rule(session, shop)
    silver, gold = ladder(session, shop, ("Silver", "50"), ("Gold", "100"))
    earn(session, shop, ORDER, "150.00", NOW)
    tiers.deactivate_tier(session, shop, gold.id)
    assert customer(session, shop).vip_tier_id == gold.id  # until the job runs
    session.commit()
    assert scheduled.run_now(db, "tiers", NOW).handled == 1
    row = customer(session, shop)
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (silver.id, None)
    assert scheduled.run_now(db, "tiers", NOW).handled == 0


def test_leaving_lifetime_gives_tiers_held_for_good_a_full_period(
    session: Session, shop: Shop, db: Database
) -> None:
    purchase_rule(session, shop)
    [gold] = ladder(session, shop, ("Gold", "100"))
    earn(session, shop, ORDER, "150.00", NOW - timedelta(days=700))
    assert customer(session, shop).vip_tier_expires_at is None
    configure(shop, "SPENT", "ROLLING_12_MONTHS")
    session.commit()
    assert scheduled.run_now(db, "tiers", NOW).handled == 1
    row = customer(session, shop)
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (gold.id, NOW + timedelta(days=365))
    assert tier_changes(session, row.id) == [(None, "Gold", "upgrade")]
    assert scheduled.run_now(db, "tiers", NOW).handled == 0


def seed_due(db: Database, count: int) -> tuple[int, int]:
    """A ROLLING_12_MONTHS shop and ``count`` customers whose Gold expired yesterday; the
    even ones spent enough in the last year to keep it. Returns (shop id, Gold's id)."""
    with db.unit_of_work() as session:
        shop = factories.shop(session)
        configure(shop, "SPENT", "ROLLING_12_MONTHS")
        [gold] = ladder(session, shop, ("Gold", "100"), entry_points=5)
        shop_id, gold_id = shop.id, gold.id
    with db.unit_of_work() as session:
        ids = session.execute(insert(Customer).returning(Customer.id), [
            {"shop_id": shop_id, "shopify_customer_id": 10_000_000 + n, "vip_tier_id": gold_id,
             "vip_tier_expires_at": NOW - timedelta(days=1)} for n in range(count)
        ]).scalars().all()
        day = (NOW - timedelta(days=9)).date()
        session.execute(insert(TierProgressDay), [
            {"customer_id": customer_id, "shop_id": shop_id, "day": day,
             "spent": Decimal("150"), "points": 150, "orders": 1}
            for n, customer_id in enumerate(sorted(ids)) if n % 2 == 0
        ])
    return shop_id, gold_id


def _outcome(db: Database) -> tuple[int, int, set[object]]:
    with db.unit_of_work() as session:
        kept = session.scalar(select(func.count()).where(Customer.vip_tier_id.is_not(None)))
        changed = session.scalar(select(func.count()).where(
            LoyaltyEvent.type == "tier.changed"))
        expiries = set(session.scalars(select(Customer.vip_tier_expires_at)).all())
        assert session.scalar(select(func.count()).where(
            PointTransaction.source_type == "tier")) == 0  # keeping or dropping pays nothing
    return kept or 0, changed or 0, expiries


def test_two_runs_at_once_share_the_due_customers_and_change_each_once(
    committed_db: Database,
) -> None:
    seed_due(committed_db, 2500)
    reports = together(lambda: scheduled.run_now(committed_db, "tiers", NOW),
                       lambda: scheduled.run_now(committed_db, "tiers", NOW))
    assert sum(r.handled for r in reports) == 2500, reports
    assert _outcome(committed_db) == (1250, 1250, {None, NOW + timedelta(days=365)})


def test_the_job_over_10000_customers_runs_in_bounded_memory(committed_db: Database) -> None:
    seed_due(committed_db, 10_000)
    tracemalloc.start()
    try:
        report = scheduled.run_now(committed_db, "tiers", NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (report.handled, report.batches) == (10_000, 11)
    assert _outcome(committed_db) == (5000, 5000, {None, NOW + timedelta(days=365)})
    # One batch of customers at a time: the whole 10,000 held at once would take several
    # times this (about 6 KB of ORM state each).
    assert peak < 16 * 2**20, peak
