"""Embedded in the Shopify admin: App Bridge's session token on every API call.

Shopify's CDN is out of reach here, so its App Bridge script is replaced by a stand-in
whose ``shopify.idToken()`` mints a real session token (as Shopify signs them) through the
test; every other request off this machine is refused.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from playwright.sync_api import Page, Request, expect

from shopify_loyalty.db import Database
from shopify_loyalty.models import RedeemRule
from shopify_loyalty.shopify.auth import issue_admin_token
from tests.api.test_install import signed
from tests.browser.conftest import SHOP, Console, Seeded, shoot
from tests.conftest import API_KEY, API_SECRET

APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
STAND_IN = "window.shopify = {idToken: () => window.mintSessionToken()};"


def _embedded_url(base: str) -> str:
    query = signed({"embedded": "1", "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYnJvd3Nlcg",
                    "shop": SHOP, "timestamp": str(int(time.time()))})
    return f"{base}/app?{urlencode(query)}"


def _offline(page: Page) -> None:
    page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"),
                       lambda route: route.abort())


def test_every_call_carries_a_fresh_session_token(page: Page, live_server: str,
                                                  seeded: Seeded,
                                                  committed_db: Database) -> None:
    minted: list[str] = []
    sent: list[tuple[str, str | None, str | None]] = []

    def mint() -> str:
        minted.append(issue_admin_token(SHOP, api_key=API_KEY, secret=API_SECRET))
        return minted[-1]

    def record(request: Request) -> None:
        if "/api/admin/" in request.url:
            headers = request.headers
            sent.append((request.url, headers.get("authorization"), headers.get("cookie")))

    _offline(page)
    page.context.route(APP_BRIDGE, lambda route: route.fulfill(
        body=STAND_IN, content_type="text/javascript"))
    page.expose_function("mintSessionToken", mint)
    page.on("request", record)
    page.goto(_embedded_url(live_server))
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(main).to_contain_text("1,040")
    assert page.locator(".side-nav").count() == 0  # Shopify's admin draws the menu
    shoot(page, "embedded-dashboard")
    main.get_by_role("link", name="$5 off").click()
    main.get_by_label("Points cost").fill("450")
    main.get_by_role("button", name="Save").click()
    expect(page.locator(".toasts")).to_contain_text("Saved")
    page.wait_for_load_state("networkidle")  # the page is drawn again after saving
    with committed_db.unit_of_work() as session:
        assert session.get_one(RedeemRule, seeded.five_off_id).points_cost == 450
    tokens = [authorization for _url, authorization, _cookie in sent]
    assert len(sent) >= 4 and all(t and t.startswith("Bearer ") for t in tokens)
    assert len(set(tokens)) == len(tokens) == len(minted)  # one fresh token a call
    assert not any(cookie for *_rest, cookie in sent)


def test_without_app_bridge_the_page_says_how_to_get_in(page: Page, live_server: str,
                                                         seeded: Seeded,
                                                         console: Console) -> None:
    console.allow(r"ERR_FAILED")
    _offline(page)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(_embedded_url(live_server))
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text("Open Loyalty from Shopify")
    expect(main).to_contain_text("admin-link")
    assert not [url for url in requests if "/api/admin/" in url]

