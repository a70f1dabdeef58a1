"""The OAuth install end to end, with Shopify mocked at the HTTP boundary."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import responses
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from shopify_loyalty.config import DEFAULT_SCOPES
from shopify_loyalty.db import utcnow
from shopify_loyalty.models import FulfillmentStatus, Reward, RewardType, Shop
from shopify_loyalty.shopify import oauth
from shopify_loyalty.shopify.install_calls import WEBHOOK_TOPICS
from shopify_loyalty.token_cipher import TokenCipher
from tests import factories
from tests.conftest import API_KEY, API_SECRET, OLD_SECRET
from tests.graphql_schema import assert_bodies_valid
from tests.shopify_mock import form, graphql_url, mock_graphql, token_answer, token_url

DOMAIN = "good-shop.myshopify.com"
# Shopify's base64 admin host, as it adds it to the callback.
HOST = base64.b64encode(b"admin.shopify.com/store/good-shop").decode().rstrip("=")


def signed(params: dict[str, str], secret: str = API_SECRET) -> dict[str, str]:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "hmac": hmac.new(secret.encode(), message.encode(),
                                       hashlib.sha256).hexdigest()}


def start(client: FlaskClient, domain: str = DOMAIN) -> str:
    response = client.get(f"/auth?shop={domain}")
    assert response.status_code == 302
    return parse_qs(urlsplit(response.location).query)["state"][0]


def callback_query(state: str, domain: str = DOMAIN, secret: str = API_SECRET,
                   **overrides: str) -> str:
    params = {"code": "the-code", "shop": domain, "state": state,
              "timestamp": str(int(time.time())), "host": HOST}
    params.update(overrides)
    return urlencode(signed(params, secret))


@pytest.fixture
def shopify() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def mock_install(rsps: responses.RequestsMock, domain: str = DOMAIN) -> Any:
    rsps.add_callback(responses.POST, token_url(domain),
                      callback=token_answer("shpat_secret_access", "shprt_secret_refresh"))
    return mock_graphql(rsps, domain)


def stored_shop(session: Session, domain: str = DOMAIN) -> Shop | None:
    session.expire_all()
    return session.scalars(select(Shop).where(Shop.domain == domain)).first()


def test_auth_redirects_to_shopify_with_the_parameters(client: FlaskClient) -> None:
    response = client.get(f"/auth?shop={DOMAIN}")
    assert response.status_code == 302
    url = urlsplit(response.location)
    assert (url.scheme, url.netloc, url.path) == ("https", DOMAIN, "/admin/oauth/authorize")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["client_id"] == API_KEY
    assert query["scope"] == DEFAULT_SCOPES
    assert query["redirect_uri"] == "https://loyalty.example.test/auth/callback"
    assert oauth.verify_state(query["state"], [API_SECRET], DOMAIN, utcnow())
    with pytest.raises(oauth.OAuthCheckError):
        oauth.verify_state(query["state"], [API_SECRET], DOMAIN, utcnow() + timedelta(minutes=11))


@pytest.mark.parametrize("shop", ["evil.com", "good-shop.myshopify.com.evil.com",
                                  "https://good-shop.myshopify.com", "a b.myshopify.com", ""])
def test_auth_refuses_a_bad_shop(client: FlaskClient, shop: str) -> None:
    response = client.get("/auth", query_string={"shop": shop})
    assert response.status_code == 400
    assert response.json["code"] == "invalid_install_request"


def test_auth_refuses_a_forged_install_link(client: FlaskClient) -> None:
    query = urlencode(signed({"shop": DOMAIN, "timestamp": str(int(time.time()))}, "wrong"))
    assert client.get(f"/auth?{query}").status_code == 401


def test_callback_installs_the_shop(client: FlaskClient, session: Session,
                                    shopify: responses.RequestsMock) -> None:
    graphql = mock_install(shopify)
    response = client.get(f"/auth/callback?{callback_query(start(client))}")

    assert response.status_code == 302, response.json
    assert response.location == f"https://admin.shopify.com/store/good-shop/apps/{API_KEY}"
    token_call = form(shopify.calls[0].request)
    assert token_call == {"client_id": API_KEY, "client_secret": API_SECRET,
                          "code": "the-code", "expiring": "1"}
    assert graphql.names() == (["ShopInfo"] + ["WebhookSubscriptionCreate"] * len(WEBHOOK_TOPICS)
                               + ["MetafieldDefinitionCreate"] * 3)
    subscriptions = [v for name, v, _ in graphql.calls if name == "WebhookSubscriptionCreate"]
    assert [v["topic"] for v in subscriptions] == [
        t.upper().replace("/", "_").replace(".", "_") for t in WEBHOOK_TOPICS]
    assert all(v["webhookSubscription"]["uri"] == "https://loyalty.example.test/webhooks"
               for v in subscriptions)
    assert all(token == "shpat_secret_access" for _, _, token in graphql.calls)

    shop = stored_shop(session)
    assert shop is not None and shop.installed and not shop.needs_reauth
    assert (shop.name, shop.currency, shop.iana_timezone) == ("Good Shop", "EUR", "Europe/Paris")
    assert shop.token_expires_at is not None and shop.refresh_token_expires_at is not None


def test_the_token_columns_never_hold_the_tokens_in_clear(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock, app: Any
) -> None:
    mock_install(shopify)
    client.get(f"/auth/callback?{callback_query(start(client))}")
    raw = session.execute(text(
        "SELECT access_token_enc, refresh_token_enc FROM shops WHERE domain = :d"
    ), {"d": DOMAIN}).one()
    for column in raw:
        assert "shpat_secret_access" not in column and "shprt_secret_refresh" not in column
    cipher = TokenCipher(app.extensions["loyalty_settings"].token_encryption_key)
    assert cipher.decrypt(raw[0]) == "shpat_secret_access"
    assert cipher.decrypt(raw[1]) == "shprt_secret_refresh"


def test_the_old_secret_still_verifies_during_a_rotation(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock
) -> None:
    mock_install(shopify)
    response = client.get(f"/auth/callback?{callback_query(start(client), secret=OLD_SECRET)}")
    assert response.status_code == 302


def _tampered_state(client: FlaskClient) -> str:
    state = start(client)
    return state[:-2] + ("AA" if not state.endswith("AA") else "BB")


@pytest.mark.parametrize("case", [
    "bad_hmac", "no_hmac", "tampered_state", "other_shops_state", "expired_state",
    "old_timestamp", "future_timestamp", "no_state",
])
def test_a_failed_check_stores_nothing_and_calls_nobody(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock, case: str
) -> None:
    mock_install(shopify)
    state = start(client)
    now = utcnow()
    query = {
        "bad_hmac": lambda: callback_query(state, secret="not-the-secret"),
        "no_hmac": lambda: urlencode({"code": "c", "shop": DOMAIN, "state": state,
                                      "timestamp": str(int(time.time()))}),
        "tampered_state": lambda: callback_query(_tampered_state(client)),
        "other_shops_state": lambda: callback_query(start(client, "other-shop.myshopify.com")),
        "expired_state": lambda: callback_query(
            oauth.sign_state(API_SECRET, DOMAIN, now - timedelta(minutes=11))[0]),
        "old_timestamp": lambda: callback_query(state, timestamp=str(int(time.time()) - 3600)),
        "future_timestamp": lambda: callback_query(state, timestamp=str(int(time.time()) + 900)),
        "no_state": lambda: callback_query(""),
    }[case]()
    response = client.get(f"/auth/callback?{query}")
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized"
    assert len(shopify.calls) == 0
    assert stored_shop(session) is None


def test_a_bad_shop_in_the_callback_is_refused(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock
) -> None:
    response = client.get(f"/auth/callback?{callback_query(start(client), domain='evil.com')}")
    assert response.status_code == 400
    assert len(shopify.calls) == 0


def test_a_state_is_single_use(client: FlaskClient, session: Session,
                               shopify: responses.RequestsMock) -> None:
    mock_install(shopify)
    state = start(client)
    assert client.get(f"/auth/callback?{callback_query(state)}").status_code == 302
    replay = client.get(f"/auth/callback?{callback_query(state)}")
    assert replay.status_code == 401
    assert "already used" in replay.json["message"]


def test_a_refused_code_stores_nothing(client: FlaskClient, session: Session,
                                       shopify: responses.RequestsMock) -> None:
    shopify.add_callback(responses.POST, token_url(DOMAIN), callback=token_answer(status=400))
    response = client.get(f"/auth/callback?{callback_query(start(client))}")
    assert response.status_code == 400
    assert stored_shop(session) is None


def test_a_reinstall_updates_tokens_and_fulfils_waiting_rewards(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock, sent_tasks: Any
) -> None:
    shop = factories.shop(session, domain=DOMAIN, needs_reauth=True, uninstalled_at=utcnow(),
                          access_token_enc=None)
    customer = factories.customer(session, shop)
    reward = Reward(shop_id=shop.id, customer_id=customer.id, points=500,
                    reward_type=RewardType.DISCOUNT_CODE, discount_code="LOY-WAITING",
                    fulfillment_status=FulfillmentStatus.PENDING)
    session.add(reward)
    session.commit()
    mock_install(shopify)

    assert client.get(f"/auth/callback?{callback_query(start(client))}").status_code == 302

    again = stored_shop(session)
    assert again is not None and again.id == shop.id
    assert again.installed and not again.needs_reauth and again.access_token_enc
    assert ("loyalty.fulfil_reward", [reward.id]) in sent_tasks.names()


def definition_answer(refusals: dict[str, dict[str, Any]]) -> Any:
    """metafieldDefinitionCreate: created, or refused as ``refusals`` says by key."""
    def answer(variables: dict[str, Any]) -> dict[str, Any]:
        key = variables["definition"]["key"]
        if key in refusals:
            return {"metafieldDefinitionCreate": {"createdDefinition": None,
                                                  "userErrors": [refusals[key]]}}
        return {"metafieldDefinitionCreate": {
            "createdDefinition": {"id": f"gid://shopify/MetafieldDefinition/{key}"},
            "userErrors": []}}
    return answer


def test_install_defines_the_sync_metafields_for_liquid_and_the_admin(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock
) -> None:
    graphql = mock_install(shopify)
    assert client.get(f"/auth/callback?{callback_query(start(client))}").status_code == 302

    definitions = [v["definition"] for name, v, _ in graphql.calls
                   if name == "MetafieldDefinitionCreate"]
    assert [(d["namespace"], d["key"], d["type"], d["ownerType"]) for d in definitions] == [
        ("loyalty", "points_balance", "number_integer", "CUSTOMER"),
        ("loyalty", "vip_tier", "single_line_text_field", "CUSTOMER"),
        ("loyalty", "referral_url", "url", "CUSTOMER"),
    ]
    assert all(d["access"] == {"storefront": "PUBLIC_READ", "customerAccount": "READ"}
               for d in definitions)
    assert_bodies_valid(call.request.body for call in shopify.calls
                        if call.request.url.endswith("graphql.json"))


def test_a_definition_that_exists_or_fails_never_stops_the_others_nor_the_install(
    client: FlaskClient, session: Session, shopify: responses.RequestsMock
) -> None:
    graphql = mock_install(shopify)
    graphql.answers["MetafieldDefinitionCreate"] = definition_answer({
        "points_balance": {"field": ["definition", "key"], "message": "Key is in use",
                           "code": "TAKEN"},
        "vip_tier": {"field": ["definition"], "message": "Limit reached",
                     "code": "RESOURCE_TYPE_LIMIT_EXCEEDED"},
    })
    assert client.get(f"/auth/callback?{callback_query(start(client))}").status_code == 302

    keys = [v["definition"]["key"] for name, v, _ in graphql.calls
            if name == "MetafieldDefinitionCreate"]
    assert keys == ["points_balance", "vip_tier", "referral_url"]
    shop = stored_shop(session)
    assert shop is not None and shop.installed


def test_a_definition_failing_on_a_5xx_is_logged_and_the_install_goes_on(
    session: Session, shopify: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    from shopify_loyalty.shopify.install_calls import AdminEndpoint, create_metafield_definitions

    graphql = mock_graphql(shopify, DOMAIN)
    graphql.answers["MetafieldDefinitionCreate"] = definition_answer({})
    calls = iter([503] * 4)  # the client's four attempts at the first definition

    def flaky(request: Any) -> tuple[int, dict[str, str], str]:
        status = next(calls, 200)
        return (status, {}, "{}") if status != 200 else graphql(request)

    shopify.replace(responses.POST, graphql_url(DOMAIN))
    shopify.add_callback(responses.POST, graphql_url(DOMAIN), callback=flaky)
    endpoint = AdminEndpoint("https://{shop}", "2026-10")
    with caplog.at_level("WARNING"):
        failed = create_metafield_definitions(endpoint, DOMAIN, "shpat_x")
    assert failed == ["points_balance"]
    assert graphql.names() == ["MetafieldDefinitionCreate"] * 2
    assert "points_balance not created" in caplog.text
