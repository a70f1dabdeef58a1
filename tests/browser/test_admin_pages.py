"""The standalone admin in Chromium: the link, every page with real data, the forms."""

from __future__ import annotations

import re

from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shopify_loyalty.db import Database
from shopify_loyalty.models import Customer, PointTransaction, RedeemRule
from tests.browser.conftest import PHONE, SHOP, Console, Seeded, shoot, sign_in

PAGES = [  # (menu link, heading, something of the seeded data the page must show)
    ("Dashboard", "Dashboard", "Points outstanding"),
    ("Program", "Program", "$5 off"),
    ("Customers", "Customers", "ann@example.com"),
    ("Rewards", "Rewards", "LOY-"),
    ("Settings", "Settings", "Code prefix"),
    ("API keys", "API keys", "Create a key"),
    ("Import and export", "Import and export", "Download customers (CSV)"),
]

UNLABELLED = """() => [...document.querySelectorAll('main input, main select, main textarea')]
  .filter((el) => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label'))
  .map((el) => el.outerHTML)"""
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_the_admin_link_opens_every_page_with_the_shops_data(
    app: Flask, page: Page, live_server: str, seeded: Seeded
) -> None:
    result = app.test_cli_runner().invoke(args=["admin-link", SHOP])
    assert result.exit_code == 0, result.output
    page.goto(live_server + result.stdout.strip().split("loyalty.example.test", 1)[1])
    shoot(page, "sign-in")
    page.get_by_role("button", name="Open the loyalty admin").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(main).to_contain_text("1,040")  # Ann's 1200 - 500, Bob's 300 + 40
    expect(main).to_contain_text("$10.40")  # at the $5 rule's $0.01 a point
    for link, heading, shown in PAGES:
        page.locator(".side-nav").get_by_role("link", name=link).click()
        expect(main.get_by_role("heading", level=1)).to_have_text(heading)
        expect(main).to_contain_text(shown)
        assert page.evaluate(UNLABELLED) == [], link
        shoot(page, f"page-{link.lower().replace(' ', '-')}")
    page.locator(".side-nav").get_by_role("link", name="Customers").click()
    main.get_by_role("link", name="Ann Lee").click()
    expect(main.get_by_role("heading", level=1)).to_have_text("Ann Lee")
    expect(main.get_by_role("region", name="Points history")).to_contain_text("Welcome")
    expect(main.get_by_role("region", name="Rewards", exact=True)).to_contain_text("LOY-")
    shoot(page, "page-customer")
    page.locator(".side-nav").get_by_role("link", name="Program").click()
    main.get_by_role("link", name="$5 off").click()
    expect(main.get_by_label("Points cost")).to_have_value("500")
    shoot(page, "page-rule")


def test_the_pages_fit_a_phone(page: Page, live_server: str, seeded: Seeded) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, live_server)
    for path in ("/app", "/app/customers/7001", "/app/program", f"/app/program/redeem-rules/"
                 f"{seeded.five_off_id}", "/app/rewards"):
        page.goto(live_server + path)
        page.locator("main h1").wait_for()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(OVERFLOW) <= 0, path
        shoot(page, "phone" + path.replace("/", "-"))


def test_a_rule_is_created_and_edited_through_its_form(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, console: Console
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/program")
    page.get_by_label("Kind of reward").select_option(label="Percentage off the order")
    page.get_by_role("button", name="Add reward").click()
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(
        "New reward: Percentage off the order")
    main.get_by_label("Name", exact=True).fill("Tenth off")
    main.get_by_label("Points cost").fill("800")
    main.get_by_label("Percent off").fill("150")
    main.get_by_role("button", name="Create").click()
    # The API's own message, under its field; nothing is stored.
    expect(main.get_by_text("A percent in (0, 100].")).to_be_visible()
    expect(main.get_by_label("Percent off")).to_have_attribute("aria-invalid", "true")
    shoot(page, "rule-invalid")
    main.get_by_label("Percent off").fill("10")
    main.get_by_label("Percent off").press("Enter")  # the keyboard submits the form
    expect(main.get_by_role("heading", level=1)).to_have_text("Tenth off")
    with committed_db.unit_of_work() as session:
        rule = session.scalars(select(RedeemRule).where(RedeemRule.name == "Tenth off")).one()
        assert (rule.kind.value, rule.points_cost, rule.value) == ("PERCENTAGE", 800, 10)
        rule_id = rule.id
    main.get_by_label("Points cost").fill("600")
    main.get_by_role("group", name="Combines with").get_by_label("Shipping discounts").check()
    main.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Saved")
    expect(main.get_by_label("Points cost")).to_have_value("600")
    with committed_db.unit_of_work() as session:
        rule = session.get_one(RedeemRule, rule_id)
        assert (rule.points_cost, rule.combines_with) == (600, ["shipping"])
    main.get_by_role("button", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(main.get_by_role("button", name="Activate", exact=True)).to_be_visible()
    page.goto(f"{live_server}/app/program")
    expect(page.get_by_role("row", name=re.compile("Tenth off"))).to_contain_text("Inactive")


def test_adjusting_points_shows_in_the_ledger(
    page: Page, live_server: str, seeded: Seeded, committed_db: Database, console: Console
) -> None:
    console.allow(r"status of 422")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/customers/7002")
    main = page.locator("main")
    history = main.get_by_role("region", name="Points history")
    expect(history.locator("tbody tr")).to_have_count(2)
    adjust = main.get_by_role("region", name="Adjust points")
    adjust.get_by_label("Points", exact=True).fill("250")
    adjust.get_by_label("Reason").fill("Goodwill")
    adjust.get_by_role("button", name="Adjust points").click()
    expect(history.locator("tbody tr")).to_have_count(3)
    expect(history.locator("tbody tr").first).to_contain_text("Goodwill")
    expect(history.locator("tbody tr").first).to_contain_text("+250")
    expect(main.get_by_role("region", name="Points", exact=True)).to_contain_text("590")
    adjust = main.get_by_role("region", name="Adjust points")  # drawn again
    adjust.get_by_label("Points", exact=True).fill("-100000")
    adjust.get_by_label("Reason").fill("Too much")
    adjust.get_by_role("button", name="Adjust points").click()
    expect(main.get_by_role("alert")).to_contain_text("Not enough available points.")
    shoot(page, "adjust-refused")
    with committed_db.unit_of_work() as session:
        bob = session.scalars(select(Customer).where(Customer.shopify_customer_id == 7002)).one()
        rows = session.scalars(select(PointTransaction.points).where(
            PointTransaction.customer_id == bob.id)).all()
        assert (bob.available_points, sorted(rows)) == (590, [40, 250, 300])


def test_another_shops_data_is_out_of_reach(page: Page, live_server: str, seeded: Seeded,
                                            console: Console) -> None:
    console.allow(r"status of 404")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/customers/8001")
    main = page.locator("main")
    expect(main.get_by_role("alert")).to_contain_text("No such customer in this shop.")
    expect(main).not_to_contain_text("zed@other.example")
    page.goto(f"{live_server}/app/program/redeem-rules/{seeded.other_rule_id}")
    expect(main.get_by_role("alert")).to_contain_text("No such redeem rule.")
    page.goto(f"{live_server}/app/customers?q=zed")
    expect(main).to_contain_text("No customer matches.")
    status = page.evaluate("(id) => fetch(`/api/admin/redeem-rules/${id}`).then(r => r.status)",
                           seeded.other_rule_id)
    assert status == 404


def test_the_settings_form_comes_from_the_api(page: Page, live_server: str, seeded: Seeded,
                                              console: Console) -> None:
    console.allow(r"status of 422")
    console.allow(r"status of 401")
    sign_in(page, live_server)
    page.goto(f"{live_server}/app/settings")
    main = page.locator("main")
    # Every setting of the spec's Settings schema, with its help from the server.
    for label in ("Code prefix", "Exclusion tags", "Earn on", "Point value"):
        expect(main.get_by_label(label, exact=True)).to_be_visible()
    expect(main).to_contain_text("What one point is worth")
    main.get_by_label("Point value", exact=True).fill("-1")
    main.get_by_role("button", name="Save").click()
    expect(main.get_by_text("A decimal amount from 0 to")).to_be_visible()
    main.get_by_label("Point value", exact=True).fill("0.02")
    main.get_by_label("Earn on", exact=True).select_option("fulfilled")
    main.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Settings saved")
    page.locator(".side-nav").get_by_role("link", name="Dashboard").click()
    expect(main).to_contain_text("$20.80")  # 1,040 points at your $0.02
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are signed out")
    status = page.evaluate("() => fetch('/api/admin/settings').then((r) => r.status)")
    assert status == 401
