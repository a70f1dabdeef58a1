"""Upgrade at once, in the earning transaction; never down outside the tiers job."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import (
    CustomerStatus,
    LedgerKind,
    LoyaltyEvent,
    Shop,
    TierProgressDay,
    VipTier,
)
from shopify_loyalty.services.customers import privacy, progress
from tests import factories
from tests import shopify_webhooks as hooks
from tests.conftest import auth
from tests.integration.tier_setup import (
    NOW,
    configure,
    customer,
    earn,
    ladder,
    refund,
    tier_changes,
)
from tests.integration.webhook_setup import purchase_rule, rows, signup_rule

ORDER = 7_000_000_001
REFUND = 8_000_000_001


def _tier_rows(session: Session, customer_id: int) -> list[tuple[int, str | None]]:
    return [(r.points, r.source_id) for r in rows(session, customer_id, LedgerKind.EARNED)
            if r.source_type == "tier"]


def test_a_paid_order_moves_the_customer_up_at_once_and_pays_the_tier_entered(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    _silver, gold = ladder(session, shop, ("Silver", "100"), ("Gold", "300"), entry_points=50)
    session.commit()
    hooks.deliver(client, shop.domain, "orders/paid", hooks.order(subtotal="350.00"))
    row = customer(session, shop)
    assert row.vip_tier_id == gold.id and row.vip_tier_expires_at is None  # LIFETIME
    # Gold's entry points, not Silver's (jumped over): the order's 350 and 50.
    assert _tier_rows(session, row.id) == [(50, f"{gold.id}:{row.id}")]
    assert row.available_points == 400
    assert tier_changes(session, row.id) == [(None, "Gold", "upgrade")]
    entry_event = session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.type == "points.earned").order_by(LoyaltyEvent.id.desc())).first()
    assert entry_event is not None
    assert entry_event["data"]["ruleKind"] == "TIER_ENTRY"
    assert entry_event["data"]["tierId"] == gold.id

    info = client.get("/loyalty/cp/api/customer-loyalty",
                      headers=auth(shop.domain, hooks.CUSTOMER_ID)).json
    assert (info["currentVipTier"], info["vipTierExpiredAt"], info["achievableTierId"]) == (
        "Gold", None, None)
    assert info["tierProgress"] == {"metric": "SPENT", "current": 350.0, "nextTierId": None,
                                    "neededForNext": None}


def test_the_order_that_crosses_earns_at_the_old_multiplier_the_next_at_the_new(
    session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    [silver] = ladder(session, shop, ("Silver", "100"), earn_multiplier=Decimal("1.5"))
    earn(session, shop, ORDER, "100.00", NOW)
    row = customer(session, shop)
    assert (row.vip_tier_id, row.available_points) == (silver.id, 100)  # at x1, then Silver
    earn(session, shop, ORDER + 1, "33.33", NOW)
    # 33.33 × 1.5 = 49.995: rounded down.
    assert customer(session, shop).available_points == 100 + 49


def test_a_refund_does_not_downgrade_mid_period_but_counts_at_re_evaluation(
    session: Session, shop: Shop, db: Database
) -> None:
    purchase_rule(session, shop)
    configure(shop, "SPENT", "ROLLING_12_MONTHS")
    _silver, gold = ladder(session, shop, ("Silver", "50"), ("Gold", "100"))
    earn(session, shop, ORDER, "150.00", NOW)
    refund(session, shop, ORDER, REFUND, "100.00", NOW + timedelta(days=10))
    row = customer(session, shop)
    assert progress.current(session, shop, row, NOW + timedelta(days=10)) == 50
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (gold.id, NOW + timedelta(days=365))
    earn(session, shop, ORDER + 1, "120.00", NOW + timedelta(days=200))
    assert customer(session, shop).vip_tier_expires_at == NOW + timedelta(days=365)  # kept
    session.commit()
    # A year on, the window holds the second order and the refund: 20, below Silver.
    # Without the refund the customer would have kept Gold.
    scheduled.run_now(db, "tiers", NOW + timedelta(days=365))
    row = customer(session, shop)
    assert (row.vip_tier_id, row.vip_tier_expires_at) == (None, None)
    assert tier_changes(session, row.id) == [(None, "Gold", "upgrade"),
                                             ("Gold", None, "re-evaluation")]


def test_entry_points_are_paid_once_when_a_customer_drops_and_climbs_back(
    session: Session, shop: Shop, db: Database
) -> None:
    purchase_rule(session, shop)
    configure(shop, "SPENT", "ROLLING_12_MONTHS")
    [gold] = ladder(session, shop, ("Gold", "100"), entry_points=200)
    earn(session, shop, ORDER, "150.00", NOW)
    session.commit()
    scheduled.run_now(db, "tiers", NOW + timedelta(days=366))
    assert customer(session, shop).vip_tier_id is None
    earn(session, shop, ORDER + 1, "150.00", NOW + timedelta(days=400),
         now=NOW + timedelta(days=400))
    row = customer(session, shop)
    assert row.vip_tier_id == gold.id
    assert row.vip_tier_expires_at == NOW + timedelta(days=765)
    assert _tier_rows(session, row.id) == [(200, f"{gold.id}:{row.id}")]
    assert [c[2] for c in tier_changes(session, row.id)] == [
        "upgrade", "re-evaluation", "upgrade"]


def test_excluded_customers_are_not_moved_up(session: Session, shop: Shop) -> None:
    purchase_rule(session, shop)
    ladder(session, shop, ("Gold", "100"), entry_points=10)
    factories.customer(session, shop, hooks.CUSTOMER_ID, status=CustomerStatus.EXCLUDED)
    earn(session, shop, ORDER, "500.00", NOW)
    row = customer(session, shop)
    assert (row.vip_tier_id, row.spent_amount, row.available_points) == (
        None, Decimal("500.00"), 0)


def test_a_threshold_of_zero_is_reached_on_enrolment(session: Session, shop: Shop) -> None:
    [member] = ladder(session, shop, ("Member", "0"), entry_points=10)
    row = factories.customer(session, shop, 31)
    assert (row.vip_tier_id, row.available_points) == (member.id, 10)
    assert tier_changes(session, row.id) == [(None, "Member", "upgrade")]


def test_sign_up_points_that_reach_a_points_tier_give_it_on_enrolment(
    session: Session, shop: Shop
) -> None:
    signup_rule(session, shop, points=50)
    configure(shop, "POINTS_EARNED", "LIFETIME")
    [silver] = ladder(session, shop, ("Silver", "50"))
    row = factories.customer(session, shop, 32)
    assert (row.vip_tier_id, row.lifetime_earned_points) == (silver.id, 50)


def test_points_earned_tiers_count_purchase_points_not_entry_points(
    session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop, points_per_unit=2)
    configure(shop, "POINTS_EARNED", "CALENDAR_YEAR")
    silver, _gold = ladder(session, shop, ("Silver", "100"), ("Gold", "400"),
                           entry_points=1000)
    earn(session, shop, ORDER, "60.00", NOW, now=NOW)  # 120 points: Silver, +1000 for it
    row = customer(session, shop)
    assert row.vip_tier_id == silver.id
    assert row.vip_tier_expires_at == NOW.replace(year=2028, month=1, day=1, hour=0)
    assert progress.current(session, shop, row, NOW) == 120  # not 1120: Gold stays ahead


def test_every_tier_change_event_names_both_tiers_and_the_reason(
    session: Session, shop: Shop
) -> None:
    purchase_rule(session, shop)
    ladder(session, shop, ("Silver", "100"), ("Gold", "200"))
    earn(session, shop, ORDER, "120.00", NOW)
    earn(session, shop, ORDER + 1, "100.00", NOW)
    row = customer(session, shop)
    bodies: list[dict[str, Any]] = list(session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.type == "tier.changed").order_by(LoyaltyEvent.id)))
    assert [b["data"]["tier"] for b in bodies] == [{"from": None, "to": "Silver"},
                                                  {"from": "Silver", "to": "Gold"}]
    last = bodies[-1]
    assert last["shop"] == shop.domain and last["data"]["reason"] == "upgrade"
    assert last["data"]["customer"]["id"] == hooks.CUSTOMER_ID
    assert last["data"]["availablePoints"] == row.available_points


def test_a_shop_redaction_deletes_its_tiers_and_progress(session: Session, shop: Shop) -> None:
    purchase_rule(session, shop)
    ladder(session, shop, ("Gold", "100"))
    earn(session, shop, ORDER, "150.00", NOW)
    assert customer(session, shop).vip_tier_id is not None
    shop_id = shop.id
    privacy.redact_shop(session, shop)
    session.flush()
    assert session.scalars(select(TierProgressDay).where(
        TierProgressDay.shop_id == shop_id)).all() == []
    assert session.scalars(select(VipTier).where(VipTier.shop_id == shop_id)).all() == []
