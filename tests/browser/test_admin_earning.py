"""The admin's ways to earn, expiry and referral settings and referrals in Chromium, on real
data: every action earn rule kind through its form, a referral rule's errors and save, the
expiry and referral settings in their sections, and the referrals list and its filter."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shopify_loyalty.db import Database
from shopify_loyalty.models import EarnRule, EarnRuleKind, Shop
from shopify_loyalty.services.program import settings as shop_settings
from tests.browser.conftest import Console, Seeded, shoot, sign_in
from tests.browser.round_data import Round, seed_round
from tests.browser.test_admin_pages import UNLABELLED


@pytest.fixture
def ladder(seeded: Seeded, committed_db: Database) -> Round:
    return seed_round(seeded, committed_db)


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
