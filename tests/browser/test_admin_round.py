"""The admin pages of this round's features in Chromium, on real data: VIP tiers (list,
create, edit, an invalid one, the tier settings), a customer's tier (progress, setting it),
the earn rule kinds of actions and referrals, a redeem rule with a required tier, the
expiry and referral settings, and the referrals list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import (
    Customer,
    EarnRule,
    EarnRuleKind,
    RedeemRule,
    RedeemRuleKind,
    Referral,
    ReferralState,
    Shop,
    VipTier,
)
from shopify_loyalty.services.customers import identity, referral_codes, referrals
from shopify_loyalty.services.customers import tiers as customer_tiers
from shopify_loyalty.services.program import earn_rules, tiers
from shopify_loyalty.services.program import settings as shop_settings
from tests.browser.conftest import PHONE, Console, Seeded, shoot, sign_in
from tests.browser.test_admin_pages import OVERFLOW, UNLABELLED


@dataclass
class Round:
    silver_id: int
    gold_id: int


@pytest.fixture
def ladder(seeded: Seeded, committed_db: Database) -> Round:
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


def test_the_tiers_page_lists_creates_and_edits_tiers(
    page: Page, live_server: str, ladder: Round, committed_db: Database, console: Console
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.locator(".side-nav").get_by_role("link", name="VIP tiers").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("VIP tiers")
    silver = main.get_by_role("row", name="Silver")
    expect(silver).to_contain_text("$100.00")
    expect(silver).to_contain_text("×1.25")
    expect(silver).to_contain_text("Early access")
    expect(silver.locator("td").nth(5)).to_have_text("1")  # Ann
    expect(main.get_by_role("row", name="Gold").locator("td").nth(5)).to_have_text("0")
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "page-tiers")

    main.get_by_role("link", name="Add tier").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("New VIP tier")
    main.get_by_label("Name", exact=True).fill("Platinum")
    main.get_by_label("Threshold").fill("500")  # Gold's
    main.get_by_label("Points multiplier").fill("0.5")
    main.get_by_role("button", name="Create").click()
    # The API's messages under their fields; nothing stored.
    expect(main.get_by_text("From 1 to 100.")).to_be_visible()
    expect(main.get_by_label("Points multiplier")).to_have_attribute("aria-invalid", "true")
    main.get_by_label("Points multiplier").fill("3")
    main.get_by_role("button", name="Create").click()
    expect(main.get_by_text("Another active tier has this threshold.")).to_be_visible()
    expect(main.get_by_label("Threshold")).to_have_attribute("aria-invalid", "true")
    shoot(page, "tier-invalid")
    main.get_by_label("Threshold").fill("1000")
    main.get_by_label("Entry points").fill("500")
    main.get_by_label("Perks").fill("Free shipping, always")
    main.get_by_label("Perks").press("Tab")
    main.get_by_role("button", name="Create").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Platinum")
    with committed_db.unit_of_work() as session:
        row = session.scalars(select(VipTier).where(VipTier.name == "Platinum")).one()
        assert (row.threshold, row.earn_multiplier, row.entry_points, row.perks) == (
            1000, 3, 500, "Free shipping, always")
        tier_id = row.id

    main.get_by_label("Threshold").fill("1200.50")
    main.get_by_label("Perks").fill("")
    main.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Saved")
    expect(main.get_by_label("Threshold")).to_have_value("1200.5")
    main.get_by_role("button", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(main.get_by_role("button", name="Activate", exact=True)).to_be_visible()
    with committed_db.unit_of_work() as session:
        row = session.get_one(VipTier, tier_id)
        assert (row.threshold, row.perks, row.active) == (Decimal("1200.50"), None, False)
    main.get_by_role("button", name="Activate", exact=True).click()
    expect(main.get_by_role("button", name="Deactivate")).to_be_visible()
    page.goto(f"{live_server}/app/tiers")
    expect(main.get_by_role("row", name="Platinum")).to_contain_text("Active")


def test_the_tier_settings_change_what_thresholds_count(
    page: Page, live_server: str, ladder: Round, committed_db: Database, seeded: Seeded
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/tiers")
    climb = page.locator("main").get_by_role("region", name="How customers climb")
    expect(climb).to_contain_text("money spent")
    climb.get_by_label("Tier metric").select_option("POINTS_EARNED")
    climb.get_by_label("Tier period").select_option("CALENDAR_YEAR")
    climb.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Tier settings saved")
    expect(climb).to_contain_text("points earned")
    expect(page.get_by_role("row", name="Silver")).to_contain_text("100 points")
    with committed_db.unit_of_work() as session:
        shop = session.get_one(Shop, seeded.shop_id)
        assert (shop.setting("tier_metric"), shop.setting("tier_period")) == (
            "POINTS_EARNED", "CALENDAR_YEAR")


def test_a_customers_tier_and_progress_and_setting_it(
    page: Page, live_server: str, ladder: Round, committed_db: Database, console: Console
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/customers")
    main = page.locator("main")
    expect(main.get_by_role("row", name="Ann Lee")).to_contain_text("Silver")
    main.get_by_role("link", name="Ann Lee").click()
    card = main.get_by_role("region", name="VIP tier")
    expect(card).to_contain_text("Silver")
    expect(card).to_contain_text("$180.00")
    expect(card).to_contain_text("Gold: $320.00 to go")
    expect(card).to_contain_text("For good")  # LIFETIME
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "customer-tier")
    card.get_by_label("Set tier").select_option(label="Gold")
    card.get_by_label("Until").fill("2001-01-01")
    card.get_by_role("button", name="Set tier").click()
    expect(card.get_by_text("Must be in the future.")).to_be_visible()
    expect(card.get_by_label("Until")).to_have_attribute("aria-invalid", "true")
    until = (utcnow() + timedelta(days=60)).date()
    card = main.get_by_role("region", name="VIP tier")
    card.get_by_label("Until").fill(until.isoformat())
    card.get_by_role("button", name="Set tier").click()
    expect(page.locator(".toasts")).to_contain_text("Tier set to Gold")
    card = main.get_by_role("region", name="VIP tier")
    expect(card).to_contain_text(f"{until:%b} {until.day}, {until.year}")
    expect(card).to_contain_text("Next tier")
    expect(card.get_by_label("Set tier")).to_have_value(str(ladder.gold_id))
    with committed_db.unit_of_work() as session:
        ann = session.scalars(select(Customer).where(Customer.shopify_customer_id == 7001)).one()
        assert ann.vip_tier_id == ladder.gold_id
        assert ann.vip_tier_expires_at is not None
        assert ann.vip_tier_expires_at.date() == until
    card.get_by_label("Set tier").select_option(label="No tier")
    card.get_by_label("Until").fill("")
    card.get_by_role("button", name="Set tier").click()
    expect(page.locator(".toasts")).to_contain_text("Tier taken away")
    expect(main.get_by_role("region", name="VIP tier")).to_contain_text("No tier")
    with committed_db.unit_of_work() as session:
        ann = session.scalars(select(Customer).where(Customer.shopify_customer_id == 7001)).one()
        assert (ann.vip_tier_id, ann.vip_tier_expires_at) == (None, None)


@pytest.mark.parametrize(("kind", "label", "fill", "stored"), [
    ("BIRTHDAY", "Points on their birthday", {}, {}),
    ("NEWSLETTER", "Points for subscribing to emails", {}, {}),
    ("SMS", "Points for subscribing to texts", {}, {}),
    ("SOCIAL_FOLLOW", "Points for following on social media", {"Network": "instagram"},
     {"network": "instagram"}),
    ("SOCIAL_SHARE", "Points for sharing on social media", {"Network": "x"}, {"network": "x"}),
])
def test_an_action_earn_rule_through_its_form(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, kind: str,
    label: str, fill: dict[str, str], stored: dict[str, str]
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/program")
    page.get_by_label("Kind of way to earn").select_option(label=label)
    page.get_by_role("button", name="Add way to earn").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(f"New way to earn: {label}")
    for field, value in fill.items():
        main.get_by_label(field, exact=True).select_option(value)
    main.get_by_label("Points", exact=True).fill("75")
    assert page.evaluate(UNLABELLED) == []
    main.get_by_role("button", name="Create").click()
    expect(main.get_by_role("button", name="Deactivate")).to_be_visible()
    with committed_db.unit_of_work() as session:
        rule = session.scalars(select(EarnRule).where(EarnRule.kind == EarnRuleKind(kind))).one()
        assert (rule.points, rule.active) == (75, True)
        assert {k: getattr(rule, k) for k in stored} == stored
    page.goto(f"{live_server}/app/program")
    expect(page.get_by_role("row", name=label)).to_contain_text("75 points")


def test_a_referral_rule_shows_the_apis_errors_then_saves(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, console: Console
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/program/earn-rules/new?kind=REFERRAL")
    main = page.locator("main")
    main.get_by_label("Referrer's points").fill("500")
    main.get_by_label("Friend's discount is").select_option(label="A percentage off")
    main.get_by_label("Friend's discount", exact=True).fill("150")
    main.get_by_role("button", name="Create").click()
    expect(main.get_by_text("A percentage is at most 100.")).to_be_visible()
    shoot(page, "referral-rule-invalid")
    main.get_by_label("Friend's discount", exact=True).fill("15")
    main.get_by_role("button", name="Create").click()
    expect(main.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(main.get_by_label("Friend's discount is")).to_have_value("PERCENTAGE")
    with committed_db.unit_of_work() as session:
        rule = session.scalars(select(EarnRule).where(
            EarnRule.kind == EarnRuleKind.REFERRAL)).one()
        assert (rule.points, rule.referee_kind.value if rule.referee_kind else None,
                rule.referee_value) == (500, "PERCENTAGE", 15)
    page.goto(f"{live_server}/app/program")
    expect(page.get_by_role("row", name="Referring a friend")).to_contain_text(
        "the friend gets 15% off")


def test_a_redeem_rule_with_a_required_tier(
    page: Page, live_server: str, ladder: Round, seeded: Seeded, committed_db: Database
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/program/redeem-rules/new?kind=FIXED_AMOUNT")
    main = page.locator("main")
    main.get_by_label("Name", exact=True).fill("Gold $20")
    main.get_by_label("Points cost").fill("1000")
    main.get_by_label("Amount off").fill("20")
    tier = main.get_by_label("Only for VIP tier")
    expect(tier.locator("option")).to_have_text(["Every customer", "Silver", "Gold"])
    tier.select_option(label="Gold")
    main.get_by_role("button", name="Create").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Gold $20")
    expect(main.get_by_label("Only for VIP tier")).to_have_value(str(ladder.gold_id))
    with committed_db.unit_of_work() as session:
        rule = session.scalars(select(RedeemRule).where(RedeemRule.name == "Gold $20")).one()
        assert rule.required_tier_id == ladder.gold_id
    page.goto(f"{live_server}/app/program")
    expect(main.get_by_role("row", name="Gold $20")).to_contain_text("Gold and above")
    page.goto(f"{live_server}/app/program/redeem-rules/{rule.id}")
    main.get_by_label("Only for VIP tier").select_option(label="Every customer")
    main.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Saved")
    with committed_db.unit_of_work() as session:
        assert session.get_one(RedeemRule, rule.id).required_tier_id is None
    # An existing rule's form offers the tiers too.
    page.goto(f"{live_server}/app/program/redeem-rules/{seeded.five_off_id}")
    expect(main.get_by_label("Only for VIP tier")).to_have_value("")


def test_the_expiry_and_referral_settings_render_and_save(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, console: Console
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/settings")
    main = page.locator("main")
    # In sections: the expiry settings together, the tier settings together.
    section = main.get_by_role("group", name="Expiry and reminders")
    for label in ("Points expiry", "Points expiry days", "Expiry reminder days",
                  "Reward reminder days", "Refund expired rewards"):
        expect(section.get_by_label(label, exact=True)).to_be_visible()
    tiers_section = main.get_by_role("group", name="VIP tiers")
    expect(tiers_section.get_by_label("Tier metric")).to_have_value("SPENT")
    expect(main.get_by_role("group", name="Referrals").get_by_label(
        "Referral weekly cap")).to_have_value("10")
    expiry = main.get_by_label("Points expiry", exact=True)
    expect(expiry.locator("option")).to_have_text(["Never", "After inactivity",
                                                   "Per earning"])
    expect(main.get_by_label("Expiry reminder days")).to_have_value("30, 7")
    expect(main.get_by_label("Reward reminder days")).to_have_value("7, 1")
    expect(main.get_by_label("Refund expired rewards")).not_to_be_checked()
    assert page.evaluate(UNLABELLED) == []
    expiry.select_option("PER_EARNING")
    main.get_by_label("Points expiry days").fill("180")
    main.get_by_label("Expiry reminder days").fill("30, 400")
    main.get_by_role("button", name="Save").click()
    expect(main.locator(".field__error:visible")).to_have_count(1)
    reminders = main.get_by_label("Expiry reminder days")
    expect(reminders).to_have_attribute("aria-invalid", "true")
    error = main.locator(f"#{reminders.get_attribute('id')}-error")
    expect(error).to_contain_text("Item 2:")
    expect(error).to_contain_text("365")
    main.get_by_label("Expiry reminder days").fill("14, 3")
    main.get_by_label("Refund expired rewards").check()
    main.get_by_label("Referral weekly cap").fill("4")
    main.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Settings saved")
    shoot(page, "settings-expiry")
    with committed_db.unit_of_work() as session:
        shop = session.get_one(Shop, seeded.shop_id)
        values = shop_settings.settings_of(shop)
        assert (values["points_expiry"], values["points_expiry_days"],
                values["expiry_reminder_days"], values["refund_expired_rewards"],
                values["referral_weekly_cap"]) == ("PER_EARNING", 180, [14, 3], True, 4)


def test_the_referrals_page_lists_and_filters(page: Page, live_server: str, ladder: Round) -> None:
    sign_in(page, live_server)
    page.locator(".side-nav").get_by_role("link", name="Referrals").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Referrals")
    rows = main.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(main.get_by_role("row", name="friend@example.com")).to_contain_text("Claimed")
    paid = main.get_by_role("row", name="bob@example.com")
    expect(paid).to_contain_text("Completed")
    expect(paid).to_contain_text("300")
    expect(paid.get_by_role("link", name="ann@example.com")).to_be_visible()
    expect(main.get_by_role("row", name="late@example.com")).to_contain_text(
        "over the referrer's weekly cap")
    assert page.evaluate(UNLABELLED) == []
    shoot(page, "page-referrals")
    main.get_by_label("State").select_option("CLAIMED")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("friend@example.com")
    main.get_by_label("State").select_option("REJECTED")
    expect(main).to_contain_text("No referral in this state.")


def test_the_new_pages_fit_a_phone(page: Page, live_server: str, ladder: Round) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    for path in ("/app/tiers", f"/app/tiers/{ladder.silver_id}", "/app/tiers/new",
                 "/app/customers/7001", "/app/referrals", "/app/settings",
                 "/app/program/earn-rules/new?kind=REFERRAL"):
        page.goto(live_server + path)
        page.locator("main h1").wait_for()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(OVERFLOW) <= 0, path
        shoot(page, "phone" + path.split("?")[0].replace("/", "-"))
