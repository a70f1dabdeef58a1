"""A real browser on the admin pages and the storefront widget: the app served by a real HTTP
server in a thread, against the test database with committed data, and Debian's Chromium
driven by Playwright. The widget's pages come from a storefront stand-in (bench/widget_dev.py)
in a second server thread, which renders the theme app extension's Liquid and forwards
``/apps/loyalty/*`` to the app's ``/proxy/*`` signed as Shopify's app proxy signs.

Chromium comes from the system (``/usr/bin/chromium``; ``.ci/run`` installs Debian's
package), never from ``playwright install``, which downloads. Shopify is faked at the HTTP
boundary for the whole test, as everywhere else. Screenshots go to tests/artifacts/
screenshots/ (git-ignored).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from werkzeug.serving import make_server

from bench.widget_dev import StoreFront
from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import LedgerKind, RedeemRuleKind, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.program import earn_rules, redeem_rules
from shopify_loyalty.services.rewards import redemption
from shopify_loyalty.services.shops import admin_sessions
from shopify_loyalty.token_cipher import TokenCipher
from tests.conftest import API_SECRET
from tests.fake_shopify import FakeShopify

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
SHOP = "browser-shop.myshopify.com"
OTHER_SHOP = "other-shop.myshopify.com"
PHONE = {"width": 390, "height": 844}


@dataclass
class Seeded:
    shop_id: int
    other_shop_id: int
    five_off_id: int
    other_rule_id: int


def _shop(session: Any, domain: str) -> Shop:
    shop = Shop(domain=domain, name=domain.split(".")[0].replace("-", " ").title(),
                currency="USD", settings={},
                access_token_enc=TokenCipher(DEV_TOKEN_ENCRYPTION_KEY).encrypt("shpat_browser"))
    session.add(shop)
    session.flush()
    return shop


def _seed(db: Database) -> Seeded:
    """Two shops with rules, customers, earning and a fulfilled redemption."""
    with db.unit_of_work() as session:
        shop, other = _shop(session, SHOP), _shop(session, OTHER_SHOP)
        five_off = redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
            name="$5 off", kind=RedeemRuleKind.FIXED_AMOUNT, points_cost=500,
            value=Decimal("5.00")))
        redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
            name="Free shipping", kind=RedeemRuleKind.FREE_SHIPPING, points_cost=300))
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=earn_rules.EarnRuleKind.PURCHASE, points_per_unit=2))
        ann, _ = adjustments.adjust_points(session, shop, 7001, 1200, "Welcome")
        ann.email, ann.first_name, ann.last_name = "ann@example.com", "Ann", "Lee"
        bob, _ = adjustments.adjust_points(session, shop, 7002, 300, "Welcome")
        bob.email = "bob@example.com"
        ledger.post(session, bob, LedgerKind.EARNED, 40, ledger.Source("order", "9001"),
                    note="Order #1001")
        redemption.redeem_points(session, shop, ann, redemption.RedeemCommand(five_off.id),
                                 utcnow())
        zed, _ = adjustments.adjust_points(session, other, 8001, 999, "Welcome")
        zed.email = "zed@other.example"
        other_rule = redeem_rules.create_redeem_rule(session, other, redeem_rules.RedeemRuleSpec(
            name="Other shop's reward", kind=RedeemRuleKind.FIXED_AMOUNT, points_cost=100,
            value=Decimal("1.00")))
        return Seeded(shop.id, other.id, five_off.id, other_rule.id)


@pytest.fixture
def shopify() -> Iterator[FakeShopify]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeShopify(mock)
        fake.serve(SHOP)
        fake.serve(OTHER_SHOP)
        yield fake


@pytest.fixture
def seeded(committed_db: Database, shopify: FakeShopify) -> Seeded:
    return _seed(committed_db)


@pytest.fixture
def live_server(app: Flask, committed_db: Database) -> Iterator[str]:
    server, thread, base = serve(app)
    yield base
    server.shutdown()
    thread.join(timeout=5)


def serve(app: Any) -> tuple[Any, threading.Thread, str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def storefront(live_server: str) -> Iterator[tuple[StoreFront, str]]:
    """The shop's storefront (the stand-in) and its base URL; tests set its blocks."""
    store = StoreFront(live_server, SHOP, API_SECRET)
    server, thread, base = serve(store)
    yield store, base
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """What the page logged while the test ran; a test names the errors it provokes (an
    API's 422). Once the test's body is over, nothing more counts: the teardown shuts the
    test's servers down, and a request of the page still in flight then (a module script,
    the icon) fails with ERR_CONNECTION_RESET, which is the teardown's doing, not the page's.
    """

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)
    settled: bool = False

    def log(self, entry: str) -> None:
        if not self.settled:
            self.errors.append(entry)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield
    console = getattr(item, "funcargs", {}).get("console")
    if isinstance(console, Console):
        console.settled = True


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", timezone_id="UTC",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()

    def logged(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.log(f"{message.type}: {message.text}")

    tab.on("console", logged)
    tab.on("pageerror", lambda error: console.log(f"pageerror: {error}"))
    yield tab
    context.close()
    assert console.unexpected() == []


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, domain: str = SHOP) -> None:
    """Opens a fresh admin link and presses its button."""
    token = admin_sessions.sign_link(API_SECRET, domain, utcnow())
    page.goto(f"{base}/app/login?token={token}")
    page.get_by_role("button", name="Open the loyalty admin").click()
    page.get_by_role("heading", name="Dashboard", level=1).wait_for()
