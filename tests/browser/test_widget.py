"""The storefront widget in Chromium: the theme app extension's block rendered from its own
Liquid by the storefront stand-in, its script talking to the running app through the signed
app proxy forwarder, as a customer and as a guest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import func, select

from bench.widget_dev import CUSTOMER_COOKIE, Block, StoreFront
from shopify_loyalty.db import Database
from shopify_loyalty.models import (
    Customer,
    EarnRuleKind,
    LedgerKind,
    PointTransaction,
    RedeemRuleKind,
    Referral,
    Shop,
)
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.customers.referral_codes import ensure_referral_code
from shopify_loyalty.services.program import earn_rules, redeem_rules, tiers
from tests.browser.conftest import SHOP, Console, _shop, shoot
from tests.fake_shopify import FakeShopify

ANN = 7001
INSTAGRAM = "https://www.instagram.com/browsershop"
BLOCK = Block("loyalty.liquid", "main", {"instagram_url": INSTAGRAM, "title": "Our rewards"})
UNLABELLED = """() => [...document.querySelectorAll('.loyalty-widget input')]
  .filter((el) => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label'))
  .map((el) => el.outerHTML)"""


@dataclass
class Program:
    referral_code: str


def _program(db: Database) -> Program:
    """A shop with rewards, ways to earn, two tiers and a member with 1,200 points."""
    with db.unit_of_work() as session:
        shop = _shop(session, SHOP)
        for spec in (
            redeem_rules.RedeemRuleSpec(name="$5 off", kind=RedeemRuleKind.FIXED_AMOUNT,
                                        points_cost=500, value=Decimal("5.00")),
            redeem_rules.RedeemRuleSpec(name="Free shipping", kind=RedeemRuleKind.FREE_SHIPPING,
                                        points_cost=2000),
        ):
            redeem_rules.create_redeem_rule(session, shop, spec)
        for earn in (
            earn_rules.EarnRuleSpec(kind=EarnRuleKind.PURCHASE, points_per_unit=2),
            earn_rules.EarnRuleSpec(kind=EarnRuleKind.BIRTHDAY, points=200),
            earn_rules.EarnRuleSpec(kind=EarnRuleKind.SOCIAL_FOLLOW, points=50,
                                    network="instagram"),
            earn_rules.EarnRuleSpec(kind=EarnRuleKind.SOCIAL_FOLLOW, points=50,
                                    network="tiktok"),  # no profile set: not shown
            earn_rules.EarnRuleSpec(kind=EarnRuleKind.REFERRAL, points=300,
                                    referee_value=Decimal("10.00"),
                                    referee_kind=RedeemRuleKind.FIXED_AMOUNT),
        ):
            earn_rules.create_earn_rule(session, shop, earn)
        tiers.create_tier(session, shop, tiers.TierSpec(name="Silver", threshold=Decimal(100)))
        tiers.create_tier(session, shop, tiers.TierSpec(name="Gold", threshold=Decimal(500),
                                                        perks="Free returns"))
        ann, _ = adjustments.adjust_points(session, shop, ANN, 1200, "Welcome")
        ensure_referral_code(session, ann)
        assert ann.referral_code is not None
        return Program(ann.referral_code)


@pytest.fixture
def program(committed_db: Database, shopify: FakeShopify) -> Program:
    return _program(committed_db)


@pytest.fixture
def shop_page(page: Page, storefront: tuple[StoreFront, str]) -> Iterator[Page]:
    """The page, with the clipboard allowed and every address but this machine's answered
    by a stub (a social network's page opens in a pop-up: nothing leaves the machine)."""
    context: BrowserContext = page.context
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>elsewhere</title>"))
    storefront[0].blocks = [BLOCK]
    yield page


def open_shop(page: Page, storefront: tuple[StoreFront, str], customer: int | None,
              path: str = "/") -> None:
    base = storefront[1]
    if customer is not None:
        page.context.add_cookies([{"name": CUSTOMER_COOKIE, "value": str(customer),
                                   "url": base}])
    page.goto(base + path)


def ledger(db: Database, customer: int, kind: LedgerKind) -> list[PointTransaction]:
    with db.unit_of_work() as session:
        rows = session.scalars(select(PointTransaction).join(Customer).where(
            Customer.shopify_customer_id == customer, PointTransaction.kind == kind)).all()
        session.expunge_all()
        return list(rows)


def test_the_block_shows_balance_tier_ways_to_earn_rewards_and_the_referral_link(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
) -> None:
    page = shop_page
    open_shop(page, storefront, ANN)
    block = page.locator(".loyalty-widget")
    expect(block.get_by_role("heading", name="Our rewards")).to_be_visible()
    expect(block.locator("[data-loyalty-balance]")).to_have_text("1,200 points")
    expect(block).to_contain_text("You have no tier yet.")
    expect(block).to_contain_text("Spend $100.00 more to reach Silver.")
    expect(block.get_by_role("progressbar", name="Progress to Silver")).to_be_visible()
    earn = block.locator(".loyalty-widget__earn")
    expect(earn).to_contain_text("2 points for every $1.00 you spend")
    expect(earn).to_contain_text("200 points on your birthday")
    expect(earn.get_by_role("button", name="Follow on Instagram")).to_be_visible()
    expect(earn).not_to_contain_text("TikTok")
    rewards = block.locator(".loyalty-widget__redeem")
    expect(rewards.get_by_role("button", name="Redeem: $5 off")).to_be_enabled()
    expect(rewards).to_contain_text("800 points more needed")  # free shipping: 2,000
    expect(block.locator(".loyalty-widget__mine")).to_contain_text("No rewards yet")
    link = block.get_by_label("Your referral link")
    expect(link).to_have_value(re.compile(f"/r/{SHOP}/{program.referral_code}$"))
    expect(block).to_contain_text("Friends get $10.00 off their first order.")
    assert page.evaluate(UNLABELLED) == []
    assert "&#" not in block.inner_text()  # Shopify's escaped translations read back as text
    shoot(page, "widget-customer")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth - innerWidth") <= 0
    shoot(page, "widget-phone")


def test_a_redemption_shows_the_code_to_copy_and_apply_and_the_balance_drops(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database,
) -> None:
    page = shop_page
    open_shop(page, storefront, ANN)
    trigger = page.get_by_role("button", name="Redeem: $5 off")
    trigger.click()
    dialog = page.get_by_role("dialog", name="Redeem this reward?")
    expect(dialog).to_contain_text("Spend 500 points on “$5 off”?")
    confirm = dialog.get_by_role("button", name="Redeem")
    expect(confirm).to_be_focused()
    shoot(page, "widget-confirm")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()  # focus goes back where it was
    trigger.click()
    confirm.click()
    result = page.locator("[data-loyalty-result]")
    expect(result).to_be_focused()
    code = result.locator("code").inner_text()
    assert re.fullmatch(r"LOY-[A-Z0-9]+", code), code
    expect(page.locator("[data-loyalty-balance]")).to_have_text("700 points")
    expect(result.get_by_role("link", name="Apply at checkout")).to_have_attribute(
        "href", f"/discount/{code}?redirect=%2Fcart")
    expect(result).not_to_contain_text("being activated", timeout=15_000)  # made in Shopify
    result.get_by_role("button", name=f"Copy {code}").click()
    expect(result.get_by_role("button", name=f"Copy {code}")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == code
    expect(page.locator(".loyalty-widget__mine")).to_contain_text(code)
    expect(page.locator(".loyalty-widget__mine")).to_contain_text("Ready to use")
    shoot(page, "widget-redeemed")
    [row] = ledger(committed_db, ANN, LedgerKind.REDEEMED)
    assert row.points == -500
    result.get_by_role("link", name="Apply at checkout").click()
    expect(page.locator("body")).to_contain_text(f"{code} applied.")


def test_a_double_click_redeems_once(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database,
) -> None:
    page = shop_page
    sent: list[str] = []
    storefront[0].on_forward = lambda path, _query: sent.append(path)
    open_shop(page, storefront, ANN)
    page.get_by_role("button", name="Redeem: $5 off").click()
    page.get_by_role("dialog").get_by_role("button", name="Redeem").dblclick()
    expect(page.locator("[data-loyalty-result] code")).to_have_text(re.compile("^LOY-"))
    expect(page.locator("[data-loyalty-balance]")).to_have_text("700 points")
    assert sent.count("/cp/api/redeem-points") == 1
    assert len(ledger(committed_db, ANN, LedgerKind.REDEEMED)) == 1


def test_a_retry_after_a_lost_answer_sends_the_same_key_and_spends_once(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database, console: Console,
) -> None:
    page = shop_page
    console.allow(r"ERR_CONNECTION_RESET|Failed to load resource")
    keys: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) == 1:
            route.fetch()  # the app redeems ...
            route.abort("connectionreset")  # ... and its answer never arrives
        else:
            route.continue_()

    page.route("**/apps/loyalty/cp/api/redeem-points", lose_the_first_answer)
    open_shop(page, storefront, ANN)
    page.get_by_role("button", name="Redeem: $5 off").click()
    page.get_by_role("dialog").get_by_role("button", name="Redeem").click()
    expect(page.locator("[data-loyalty-result] code")).to_have_text(re.compile("^LOY-"))
    expect(page.locator("[data-loyalty-balance]")).to_have_text("700 points")
    assert len(keys) == 2 and keys[0] == keys[1]
    assert re.fullmatch(r"[0-9a-f-]{36}", keys[0])
    assert len(ledger(committed_db, ANN, LedgerKind.REDEEMED)) == 1


def test_an_api_refusal_is_shown_in_words(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database, console: Console,
) -> None:
    page = shop_page
    console.allow(r"status of 422")
    open_shop(page, storefront, ANN)
    page.get_by_role("button", name="Redeem: $5 off").click()
    with committed_db.unit_of_work() as session:  # spent meanwhile, in another tab
        shop = session.scalars(select(Shop).where(Shop.domain == SHOP)).one()
        adjustments.adjust_points(session, shop, ANN, -1000, "Spent elsewhere")
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Redeem").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_text("You don't have enough points for this reward.")
    assert "insufficient_points" not in page.locator("body").inner_text()
    expect(dialog.get_by_role("button", name="Redeem")).to_be_enabled()
    shoot(page, "widget-refused")
    assert ledger(committed_db, ANN, LedgerKind.REDEEMED) == []


def test_a_guest_sees_the_sign_in_prompt_and_no_call_is_made(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
) -> None:
    page = shop_page
    sent: list[str] = []
    storefront[0].on_forward = lambda path, _query: sent.append(path)
    open_shop(page, storefront, None)
    block = page.locator(".loyalty-widget")
    expect(block.get_by_role("link", name="Sign in")).to_have_attribute("href", "/account/login")
    expect(block.get_by_role("link", name="Create an account")).to_be_visible()
    expect(block).to_contain_text("earn points on every order")
    shoot(page, "widget-guest")
    page.wait_for_load_state("networkidle")
    assert sent == []


def test_a_guest_with_a_friends_link_claims_a_first_order_code(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database,
) -> None:
    page = shop_page
    queries: list[dict[str, str]] = []
    storefront[0].on_forward = lambda _path, query: queries.append(dict(query))
    open_shop(page, storefront, None, f"/?loyalty_ref={program.referral_code}")
    page.goto(storefront[1] + "/pages/rewards")  # the code was kept from the landing page
    claim = page.locator(".loyalty-widget__claim")
    claim.get_by_label("Email").fill("friend@example.org")
    claim.get_by_role("button", name="Get my discount").click()
    expect(claim).to_contain_text("Your discount of $10.00 for a first order:")
    expect(claim.locator("code")).to_have_text(re.compile("^LOY-"))
    shoot(page, "widget-claimed")
    assert queries[0]["logged_in_customer_id"] == "" and queries[0]["shop"] == SHOP
    with committed_db.unit_of_work() as session:
        emails = session.scalars(select(Referral.friend_email)).all()
    assert emails == ["friend@example.org"]


def test_the_birthday_form_saves_the_date(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database,
) -> None:
    page = shop_page
    open_shop(page, storefront, ANN)
    earn = page.locator(".loyalty-widget__earn")
    earn.get_by_label("Your date of birth").fill("1990-05-17")
    earn.get_by_role("button", name="Save my birthday").click()
    expect(page.get_by_role("status")).to_have_text("Saved. We'll celebrate on May 17.")
    expect(earn).to_contain_text("Your birthday: May 17")
    with committed_db.unit_of_work() as session:
        dob = session.scalar(select(Customer.dob).where(Customer.shopify_customer_id == ANN))
    assert dob == date(1990, 5, 17)


def test_a_follow_opens_the_network_and_pays_once(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
    committed_db: Database,
) -> None:
    page = shop_page
    open_shop(page, storefront, ANN)
    earn = page.locator(".loyalty-widget__earn")
    with page.expect_popup() as popup:
        earn.get_by_role("button", name="Follow on Instagram").click()
    assert popup.value.url.rstrip("/") == INSTAGRAM
    expect(page.get_by_role("status")).to_have_text("Thank you! You earned 50 points.")
    expect(page.locator("[data-loyalty-balance]")).to_have_text("1,250 points")
    expect(earn.locator("li", has_text="Instagram")).to_contain_text("Done")
    with committed_db.unit_of_work() as session:
        paid = session.scalar(select(func.count()).select_from(PointTransaction).where(
            PointTransaction.source_type == "social_follow"))
    assert paid == 1


def test_the_referral_link_is_copied(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
) -> None:
    page = shop_page
    open_shop(page, storefront, ANN)
    referral = page.locator(".loyalty-widget__referral")
    link = referral.get_by_label("Your referral link").input_value()
    referral.get_by_role("button", name=f"Copy {link}").click()
    expect(referral.get_by_role("button", name=f"Copy {link}")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == link


def test_the_launcher_opens_the_widget_on_demand_in_french(
    shop_page: Page, storefront: tuple[StoreFront, str], program: Program,
) -> None:
    page = shop_page
    store = storefront[0]
    store.locale = "fr"
    store.blocks = [Block("loyalty-embed.liquid", "embed", {"launcher_label": "Fidélité"})]
    sent: list[str] = []
    store.on_forward = lambda path, _query: sent.append(path)
    open_shop(page, storefront, ANN)
    launcher = page.get_by_role("button", name="Fidélité")
    page.wait_for_load_state("networkidle")
    assert sent == []  # browsing the shop costs no call
    launcher.click()
    panel = page.get_by_role("dialog")
    expect(panel.locator("[data-loyalty-balance]")).to_have_text(re.compile(r"^1\s200 points$"))
    expect(panel).to_contain_text("Votre solde")
    expect(panel).to_contain_text("Dépensez encore 100,00")
    shoot(page, "widget-launcher-fr")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
