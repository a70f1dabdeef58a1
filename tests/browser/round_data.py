"""The data of the admin's phase 2 browser tests: VIP tiers, a customer in one, a referral
program and referrals, added to the shops of ``conftest.seeded``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import (
    Customer,
    EarnRuleKind,
    RedeemRuleKind,
    Referral,
    ReferralState,
    Shop,
)
from shopify_loyalty.services.customers import identity, referral_codes, referrals
from shopify_loyalty.services.customers import tiers as customer_tiers
from shopify_loyalty.services.program import earn_rules, tiers
from tests.browser.conftest import Seeded


@dataclass
class Round:
    silver_id: int
    gold_id: int


def seed_round(seeded: Seeded, committed_db: Database) -> Round:
    """Silver ($100) and Gold ($500) tiers, Ann in Silver, a referral program with a
    claimed, a paid and an unpaid referral of Ann's."""
    with committed_db.unit_of_work() as session:
        shop = session.get_one(Shop, seeded.shop_id)
        silver = tiers.create_tier(session, shop, tiers.TierSpec(
            name="Silver", threshold=Decimal(100), earn_multiplier=Decimal("1.25"),
            perks="Early access"))
        gold = tiers.create_tier(session, shop, tiers.TierSpec(
            name="Gold", threshold=Decimal(500), earn_multiplier=Decimal(2), entry_points=250))
        ann, bob = (session.scalars(select(Customer).where(
            Customer.shop_id == shop.id, Customer.shopify_customer_id == n)).one()
            for n in (7001, 7002))
        ann.spent_amount = Decimal("180.00")  # LIFETIME SPENT progress is on the row
        customer_tiers.assign(session, shop, ann, silver.id, None, utcnow())
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.REFERRAL, points=300, referee_value=Decimal(10),
            referee_kind=RedeemRuleKind.FIXED_AMOUNT))
        code = referral_codes.ensure_referral_code(session, ann)
        referrals.claim(session, shop, code, "friend@example.com", utcnow())
        now = utcnow()
        for email, friend, paid, reason in (("bob@example.com", bob, True, None),
                                            ("late@example.com", None, False, "weekly_cap")):
            session.add(Referral(
                shop_id=shop.id, referrer_id=ann.id, friend_email=email,
                friend_email_key=identity.email_key(email), state=ReferralState.COMPLETED,
                paid=paid, points=300 if paid else 0, reason=reason,
                friend_customer_id=friend.id if friend else None, order_id=5551,
                created_at=now - timedelta(days=3), completed_at=now - timedelta(days=1)))
        return Round(silver.id, gold.id)
