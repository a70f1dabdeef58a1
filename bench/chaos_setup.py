"""The chaos run's program: two shops, a redeem rule of every kind each, purchase and sign-up
earn rules, a tier ladder, points expiry on one shop, and customers with points to spend.
Built with the services, as `flask --app app …` would, in one transaction per shop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bench.chaos_stack import API_KEY, SECRET
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.models import EarnRuleKind, RedeemRuleKind, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.program import earn_rules, redeem_rules, tiers
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.token_cipher import TokenCipher

FIRST_CUSTOMER_ID = 7_300_000_000_000_001
STARTING_POINTS = 4000
FREE_PRODUCT_VARIANTS = (44_000_000_000_001, 44_000_000_000_002)
# Rewards expire after this: the rewards-expiry job is run as of a day past it.
REWARD_DAYS = 30
POINTS_EXPIRY_DAYS = 30


@dataclass
class ShopPlan:
    domain: str
    points_expiry: str
    customers: list[int] = field(default_factory=list)
    # Redeem rule kind → its rule id.
    rules: dict[RedeemRuleKind, int] = field(default_factory=dict)


def _rule_specs() -> list[redeem_rules.RedeemRuleSpec]:
    spec = redeem_rules.RedeemRuleSpec
    kind = RedeemRuleKind
    return [
        spec(name="$1 off", kind=kind.FIXED_AMOUNT, points_cost=100, value=Decimal("1.00"),
             expires_in_days=REWARD_DAYS),
        spec(name="10% off", kind=kind.PERCENTAGE, points_cost=200, value=Decimal("10"),
             expires_in_days=REWARD_DAYS, min_subtotal=Decimal("20.00")),
        spec(name="Free shipping", kind=kind.FREE_SHIPPING, points_cost=150,
             max_shipping=Decimal("15.00"), expires_in_days=REWARD_DAYS),
        spec(name="Free mug", kind=kind.FREE_PRODUCT, points_cost=300,
             variant_ids=list(FREE_PRODUCT_VARIANTS), expires_in_days=REWARD_DAYS),
        spec(name="$1 credit", kind=kind.STORE_CREDIT, points_cost=100, value=Decimal("1.00"),
             expires_in_days=REWARD_DAYS),
        spec(name="Pick an amount", kind=kind.VARIABLE_AMOUNT, points_per_unit=100,
             min_points=100, max_points=500, increment=100, expires_in_days=REWARD_DAYS),
    ]


def _program(db: Database, cipher: TokenCipher, plan: ShopPlan) -> None:
    with db.unit_of_work() as session:
        shop = Shop(domain=plan.domain, currency="USD",
                    access_token_enc=cipher.encrypt("shpat_chaos"))
        session.add(shop)
        session.flush()
        by_key = shop_settings.BY_KEY
        shop_settings.update_settings(
            shop, points_expiry=shop_settings.from_text(by_key["points_expiry"],
                                                        plan.points_expiry),
            points_expiry_days=POINTS_EXPIRY_DAYS,
            tier_period=shop_settings.from_text(by_key["tier_period"], "CALENDAR_YEAR"))
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.PURCHASE, points_per_unit=1))
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.SIGNUP, points=50))
        for spec in _rule_specs():
            plan.rules[spec.kind] = redeem_rules.create_redeem_rule(session, shop, spec).id
        tiers.create_tier(session, shop, tiers.TierSpec(
            name="Silver", threshold=Decimal("150"), earn_multiplier=Decimal("1.5"),
            entry_points=100))
        tiers.create_tier(session, shop, tiers.TierSpec(
            name="Gold", threshold=Decimal("1000"), earn_multiplier=Decimal("2"),
            entry_points=250))
    with db.unit_of_work() as session:
        shop = session.query(Shop).filter_by(domain=plan.domain).one()
        for customer_id in plan.customers:
            adjustments.adjust_points(session, shop, customer_id, STARTING_POINTS,
                                      "chaos: starting balance")


def set_up(database_url: str, redis_url: str, customers_per_shop: int) -> list[ShopPlan]:
    """Create the program; return what the traffic needs to know of it."""
    settings = Settings(database_url=database_url, redis_url=redis_url,
                        shopify_api_key=API_KEY, shopify_api_secret=SECRET,
                        ratelimit_enabled=False)
    app = create_app(settings)
    db: Database = app.extensions["loyalty_db"]
    cipher = TokenCipher(settings.token_encryption_key)
    plans = [ShopPlan("chaos-a.myshopify.com", "PER_EARNING"),
             ShopPlan("chaos-b.myshopify.com", "NONE")]
    for n, plan in enumerate(plans):
        first = FIRST_CUSTOMER_ID + n * 1_000_000
        plan.customers = [first + i for i in range(customers_per_shop)]
        _program(db, cipher, plan)
    db.engine.dispose()
    return plans
