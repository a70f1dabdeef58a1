"""How fast the storefront widget is ready, in Chromium, against the app under gunicorn.

    python -m bench.widget_load [--loads 30] [--redemptions 20]

Seeds the ``bench`` database (BENCH_DATABASE_URL; dropped and re-migrated) with a shop of two
rewards, five ways to earn, two tiers and one member, runs the app under gunicorn (2 × 4,
rate limits off), the storefront stand-in (bench/widget_dev.py) in a thread, and Debian's
Chromium. It prints the time from navigation to the balance on screen (the page, the
script and the widget's five proxied calls), the calls a page view makes, and the time from
the confirmation's *Redeem* to the new code on screen.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import threading
import time
from decimal import Decimal

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from bench.common import BENCH_DATABASE_URL, fresh_database, gunicorn, percentile
from bench.widget_dev import CUSTOMER_COOKIE, Block, StoreFront
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.models import EarnRuleKind, RedeemRuleKind, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.program import earn_rules, redeem_rules, tiers

SHOP = "widget-bench.myshopify.com"
CUSTOMER = 1001
PORT = 8791


def seed(url: str) -> None:
    db = Database(url)
    with db.unit_of_work() as session:
        shop = Shop(domain=SHOP, currency="USD", settings={})
        session.add(shop)
        session.flush()
        redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
            name="$5 off", kind=RedeemRuleKind.FIXED_AMOUNT, points_cost=100,
            value=Decimal("5.00")))
        redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
            name="Free shipping", kind=RedeemRuleKind.FREE_SHIPPING, points_cost=300))
        for spec in (earn_rules.EarnRuleSpec(kind=EarnRuleKind.PURCHASE, points_per_unit=1),
                     earn_rules.EarnRuleSpec(kind=EarnRuleKind.BIRTHDAY, points=200),
                     earn_rules.EarnRuleSpec(kind=EarnRuleKind.SOCIAL_FOLLOW, points=50,
                                             network="instagram"),
                     earn_rules.EarnRuleSpec(kind=EarnRuleKind.NEWSLETTER, points=100),
                     earn_rules.EarnRuleSpec(kind=EarnRuleKind.REFERRAL, points=300,
                                             referee_value=Decimal("10"),
                                             referee_kind=RedeemRuleKind.FIXED_AMOUNT)):
            earn_rules.create_earn_rule(session, shop, spec)
        tiers.create_tier(session, shop, tiers.TierSpec(name="Silver", threshold=Decimal(100)))
        tiers.create_tier(session, shop, tiers.TierSpec(name="Gold", threshold=Decimal(500)))
        adjustments.adjust_points(session, shop, CUSTOMER, 1_000_000, "bench")
    db.dispose()


def summary(name: str, seconds: list[float]) -> None:
    ms = [s * 1000 for s in seconds]
    print(f"{name}: median {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
          f"max {max(ms):.0f} ms over {len(ms)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--redemptions", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request
    fresh_database()
    seed(BENCH_DATABASE_URL)
    secret = Settings.from_env().shopify_api_secret
    # No broker: fulfilment runs after each commit, against a closed local port (the shop has
    # no token anyway), so nothing leaves the machine and codes stay PENDING.
    env = {"DATABASE_URL": BENCH_DATABASE_URL, "RATELIMIT_ENABLED": "0", "LOG_FORMAT": "text",
           "REDIS_URL": "", "CELERY_BROKER_URL": "",
           "SHOPIFY_ADMIN_BASE_URL": "http://127.0.0.1:9/{shop}"}
    with gunicorn(PORT, env, workers=2, threads=4) as app_url:
        calls: list[str] = []
        store = StoreFront(app_url, SHOP, secret, blocks=[Block("loyalty.liquid", "main", {
            "instagram_url": "https://www.instagram.com/bench"})],
            on_forward=lambda path, _query: calls.append(path))
        server = make_server("127.0.0.1", 0, store, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=["--headless", "--no-sandbox"])
            page = browser.new_page()
            page.context.add_cookies([{"name": CUSTOMER_COOKIE, "value": str(CUSTOMER),
                                       "url": base}])
            loads = []
            for _ in range(args.loads):
                calls.clear()
                started = time.perf_counter()
                page.goto(base + "/")
                page.locator(".loyalty-widget__referral").wait_for()
                loads.append(time.perf_counter() - started)
            summary("page to widget ready", loads)
            print(f"calls a page view makes: {len(calls)} ({', '.join(sorted(calls))})")
            redemptions = []
            for _ in range(args.redemptions):
                page.get_by_role("button", name="Redeem: $5 off").click()
                started = time.perf_counter()
                page.get_by_role("dialog").get_by_role("button", name="Redeem").click()
                page.locator("[data-loyalty-result] code").wait_for()
                redemptions.append(time.perf_counter() - started)
                page.locator("[data-loyalty-result]").evaluate("node => node.remove()")
            summary("Redeem to code on screen", redemptions)
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
