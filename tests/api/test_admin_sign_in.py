"""The standalone admin: a one-time link, a session cookie bound to one shop, CSRF, logout."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import Shop
from shopify_loyalty.services.shops import admin_sessions
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import API_SECRET, OLD_SECRET

COOKIE = "loyalty_admin"


@pytest.fixture
def installed(session: Session) -> Shop:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    factories.customer(session, shop, 501, points=50, email="ann@example.com")
    session.commit()
    return shop


def link(app: Flask, domain: str) -> str:
    result = app.test_cli_runner().invoke(args=["admin-link", domain])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def sign_in(client: FlaskClient, token: str) -> str:
    """Signs the client in; returns the page's CSRF token."""
    response = client.post("/app/login", data={"token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.location == "/app"
    page = client.get("/app").get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found is not None
    return found[1]


def test_the_link_opens_a_session_bound_to_its_shop(app: Flask, client: FlaskClient,
                                                   installed: Shop) -> None:
    url = link(app, installed.domain)
    assert url.startswith("https://loyalty.example.test/app/login?token=")
    confirm = client.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert confirm.status_code == 200
    assert installed.domain in confirm.get_data(as_text=True)
    assert confirm.headers["Referrer-Policy"] == "same-origin"
    assert client.get(confirm.request.full_path).status_code == 200  # looking spends nothing
    assert client.get_cookie(COOKIE) is None

    csrf = sign_in(client, token_of(url))
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert client.get("/api/admin/customers").json[0]["customerId"] == 501
    page = client.get("/app")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert "app-bridge.js" not in page.get_data(as_text=True)
    changed = client.patch("/api/admin/settings", json={"codePrefix": "VIP-"},
                           headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200, changed.json


def test_a_link_works_once(app: Flask, client: FlaskClient, installed: Shop) -> None:
    token = token_of(link(app, installed.domain))
    sign_in(client, token)
    again = client.post("/app/login", data={"token": token})
    assert again.status_code == 401
    assert "used already" in again.get_data(as_text=True)


@pytest.mark.parametrize("case", ["expired", "from_the_future", "tampered", "garbage",
                                  "other_secret", "empty"])
def test_a_bad_link_signs_nobody_in(client: FlaskClient, installed: Shop, case: str) -> None:
    now = utcnow()
    good = admin_sessions.sign_link(API_SECRET, installed.domain, now)
    token = {
        "expired": admin_sessions.sign_link(API_SECRET, installed.domain,
                                            now - timedelta(minutes=10, seconds=5)),
        "from_the_future": admin_sessions.sign_link(API_SECRET, installed.domain,
                                                    now + timedelta(minutes=5)),
        "tampered": good.replace(good.split(".")[2], "b3RoZXIubXlzaG9waWZ5LmNvbQ"),
        "garbage": "not-a-token",
        "other_secret": admin_sessions.sign_link("x" * 40, installed.domain, now),
        "empty": "",
    }[case]
    assert client.get("/app/login", query_string={"token": token}).status_code == 401
    response = client.post("/app/login", data={"token": token})
    assert response.status_code == 401
    assert client.get_cookie(COOKIE) is None
    assert client.get("/api/admin/customers").status_code == 401


def test_a_link_signed_with_the_old_secret_still_works(client: FlaskClient,
                                                       installed: Shop) -> None:
    sign_in(client, admin_sessions.sign_link(OLD_SECRET, installed.domain, utcnow()))


def test_every_change_needs_the_csrf_token(app: Flask, client: FlaskClient,
                                           installed: Shop) -> None:
    csrf = sign_in(client, token_of(link(app, installed.domain)))
    calls = [("patch", "/api/admin/settings", {"codePrefix": "X-"}),
             ("post", "/api/admin/customers/501/adjust-points", {"points": 5, "reason": "x"}),
             ("post", "/api/admin/api-keys", {"name": "k"})]
    for method, path, body in calls:
        for headers in ({}, {"X-CSRF-Token": "wrong"}, {"X-CSRF-Token": ""}):
            refused = getattr(client, method)(path, json=body, headers=headers)
            assert refused.status_code == 403, (path, headers)
            assert refused.json["code"] == "forbidden"
    assert client.get("/api/admin/customers/501").json["availablePoints"] == 50
    done = client.post("/api/admin/customers/501/adjust-points", json={"points": 5,
                       "reason": "x"}, headers={"X-CSRF-Token": csrf})
    assert done.json["availablePoints"] == 55


def test_a_session_never_reaches_another_shop(app: Flask, client: FlaskClient,
                                              session: Session, installed: Shop) -> None:
    other = factories.shop(session, access_token_enc="not-used", settings={})
    session.commit()
    csrf = sign_in(client, token_of(link(app, other.domain)))
    assert client.get("/api/admin/customers").json == []
    for method, path in (("get", "/api/admin/customers/501"),
                         ("post", "/api/admin/customers/501/exclude")):
        response = getattr(client, method)(path, headers={"X-CSRF-Token": csrf})
        assert response.status_code == 404, path
    # A bearer token names its own shop, whatever cookie travels with it.
    bearer = client.get("/api/admin/customers", headers=admin(installed.domain))
    assert [c["customerId"] for c in bearer.json] == [501]


def test_logout_ends_the_session(app: Flask, client: FlaskClient, installed: Shop) -> None:
    csrf = sign_in(client, token_of(link(app, installed.domain)))
    kept = client.post("/app/logout", data={"csrf_token": "wrong"})
    assert kept.status_code == 401
    assert client.get("/api/admin/customers").status_code == 200
    stolen = client.get_cookie(COOKIE)
    assert stolen is not None
    out = client.post("/app/logout", data={"csrf_token": csrf})
    assert out.status_code == 200
    assert client.get_cookie(COOKIE) is None
    client.set_cookie(COOKIE, stolen.value)  # a copy kept from before opens nothing now
    assert client.get("/api/admin/customers").status_code == 401
    assert 'name="csrf-token"' not in client.get("/app").get_data(as_text=True)


def test_a_cross_site_form_is_refused(app: Flask, client: FlaskClient, installed: Shop) -> None:
    token = token_of(link(app, installed.domain))
    response = client.post("/app/login", data={"token": token},
                           headers={"Origin": "https://evil.example"})
    assert response.status_code == 401
    assert client.get_cookie(COOKIE) is None


@pytest.mark.parametrize(("base_url", "secure"), [
    ("http://127.0.0.1:5000", False), ("http://localhost", False),
    ("https://loyalty.example.test", True), ("http://loyalty.example.test", True),
])
def test_the_cookie_is_secure_except_on_the_machine_itself(
    app: Flask, installed: Shop, base_url: str, secure: bool
) -> None:
    client = app.test_client()
    token = token_of(link(app, installed.domain))
    response = client.post("/app/login", data={"token": token}, base_url=base_url)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert ("Secure" in cookie) is secure
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_uninstalled_shop_gets_no_link_and_loses_its_sessions(
    app: Flask, client: FlaskClient, session: Session, installed: Shop
) -> None:
    url = link(app, installed.domain)
    sign_in(client, token_of(url))
    installed.uninstalled_at = utcnow()
    session.commit()
    assert client.get("/api/admin/customers").status_code == 401
    refused = app.test_cli_runner().invoke(args=["admin-link", installed.domain])
    assert refused.exit_code == 1
    unknown = app.test_cli_runner().invoke(args=["admin-link", "nobody.myshopify.com"])
    assert unknown.exit_code == 1 and "not_found" in unknown.stderr


def test_the_embedded_page_loads_app_bridge_and_is_framed_only_by_its_shop(
    client: FlaskClient, installed: Shop
) -> None:
    from tests.api.test_install import signed

    query = signed({"shop": installed.domain, "host": "aG9zdA", "embedded": "1",
                    "timestamp": "1"})
    page = client.get("/app", query_string=query)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("cdn.shopify.com/shopifycloud/app-bridge.js") < html.index("<title>")
    assert '<meta name="shopify-api-key" content="test-api-key">' in html
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors https://{installed.domain} https://admin.shopify.com" in policy
    forged = client.get("/app", query_string={**query, "shop": "evil.myshopify.com"})
    assert "frame-ancestors https://admin.shopify.com" in forged.headers[
        "Content-Security-Policy"]
    deep = client.get("/app/customers/501")
    assert deep.status_code == 200 and "app.js" in deep.get_data(as_text=True)
