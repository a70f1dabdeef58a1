"""The admin's VIP tier pages in Chromium, on real data: the tiers page (list with members,
create, edit, an invalid tier's messages under their fields, deactivate and activate), the
tier settings, a customer's tier and progress and setting it, a redeem rule with a required
tier, and the new pages on a phone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, RedeemRule, Shop, VipTier
from tests.browser.conftest import PHONE, Console, Seeded, shoot, sign_in
from tests.browser.round_data import Round, seed_round
from tests.browser.test_admin_pages import OVERFLOW, UNLABELLED


@pytest.fixture
def ladder(seeded: Seeded, committed_db: Database) -> Round:
    return seed_round(seeded, committed_db)


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
