"""The embedded admin API: session tokens, program, customers, rewards, keys, isolation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import responses
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    LedgerKind,
    PointTransaction,
    RedeemRuleKind,
    Reward,
    RewardType,
    Shop,
)
from shopify_loyalty.shopify.auth import issue_admin_token
from tests import factories
from tests.conftest import API_KEY, API_SECRET, OLD_SECRET
from tests.shopify_mock import form, mock_graphql, token_answer, token_url


def admin(domain: str, secret: str = API_SECRET, **claims: Any) -> dict[str, str]:
    token = issue_admin_token(domain, api_key=API_KEY, secret=secret, **claims)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def installed(session: Session) -> Shop:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    session.commit()
    return shop


@pytest.fixture
def headers(installed: Shop) -> dict[str, str]:
    return admin(installed.domain)


def _forged(domain: str) -> dict[str, str]:
    now = int(time.time())
    base = {"iss": f"https://{domain}/admin", "dest": f"https://{domain}", "aud": API_KEY,
            "sub": "42", "exp": now + 60, "nbf": now, "iat": now}
    none_token = jwt.encode(base, None, algorithm="none")
    return {
        "alg_none": none_token,
        "wrong_secret": jwt.encode(base, "x" * 32, algorithm="HS256"),
        "wrong_aud": jwt.encode({**base, "aud": "other-app"}, API_SECRET, algorithm="HS256"),
        "expired": jwt.encode({**base, "exp": now - 30, "nbf": now - 90}, API_SECRET,
                              algorithm="HS256"),
        "mismatched_hosts": jwt.encode({**base, "iss": "https://other-shop.myshopify.com/admin"},
                                       API_SECRET, algorithm="HS256"),
        "not_a_shop": jwt.encode({**base, "iss": "https://evil.com/admin",
                                  "dest": "https://evil.com"}, API_SECRET, algorithm="HS256"),
        "no_exp": jwt.encode({k: v for k, v in base.items() if k != "exp"}, API_SECRET,
                             algorithm="HS256"),
        "garbage": "not.a.token",
    }


@pytest.mark.parametrize("case", list(_forged("x-shop.myshopify.com")))
def test_forged_admin_tokens_are_refused(client: FlaskClient, installed: Shop,
                                         case: str) -> None:
    token = _forged(installed.domain)[case]
    response = client.get("/api/admin/settings", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized"


def test_no_token_is_refused(client: FlaskClient, installed: Shop) -> None:
    assert client.get("/api/admin/redeem-rules").status_code == 401


def test_the_old_secret_still_works(client: FlaskClient, installed: Shop) -> None:
    response = client.get("/api/admin/settings", headers=admin(installed.domain, OLD_SECRET))
    assert response.status_code == 200


def test_a_shop_without_a_token_gets_one_by_token_exchange(
    client: FlaskClient, session: Session
) -> None:
    domain = "embedded-shop.myshopify.com"
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, token_url(domain), callback=token_answer())
        mock_graphql(rsps, domain)
        headers = admin(domain)
        response = client.get("/api/admin/settings", headers=headers)
        assert response.status_code == 200
        sent = form(rsps.calls[0].request)
    assert sent["subject_token"] == headers["Authorization"].split()[1]
    assert sent["subject_token_type"] == "urn:ietf:params:oauth:token-type:id_token"
    assert sent["expiring"] == "1"
    shop = session.scalars(select(Shop).where(Shop.domain == domain)).one()
    assert shop.access_token_enc and shop.refresh_token_enc


def test_redeem_rules_create_update_deactivate(client: FlaskClient, headers: dict[str, str]
                                               ) -> None:
    created = client.post("/api/admin/redeem-rules", headers=headers, json={
        "name": "5 off", "kind": "FIXED_AMOUNT", "pointsCost": 500, "value": 5})
    assert created.status_code == 201, created.json
    rule_id = created.json["id"]
    patched = client.patch(f"/api/admin/redeem-rules/{rule_id}", headers=headers,
                           json={"pointsCost": 400, "limitCount": 1, "limitInterval": "day"})
    assert patched.status_code == 200, patched.json
    assert (patched.json["pointsCost"], patched.json["limitInterval"]) == (400, "day")
    off = client.post(f"/api/admin/redeem-rules/{rule_id}/deactivate", headers=headers)
    assert off.json["active"] is False
    listed = client.get("/api/admin/redeem-rules", headers=headers).json
    assert [r["id"] for r in listed] == [rule_id]


@pytest.mark.parametrize("body", [
    {"name": "x", "kind": "FIXED_AMOUNT"},
    {"name": "x", "kind": "NOPE", "pointsCost": 1},
    {"name": "x", "kind": "PERCENTAGE", "pointsCost": 10, "value": 150},
    {"name": "x", "kind": "FIXED_AMOUNT", "pointsCost": True, "value": 5},
    {"name": "x", "kind": "FIXED_AMOUNT", "pointsCost": 5, "value": 5, "evil": 1},
    {"name": "x", "kind": "FIXED_AMOUNT", "pointsCost": 5, "value": "NaN"},
])
def test_bad_rules_are_422(client: FlaskClient, headers: dict[str, str],
                           body: dict[str, Any]) -> None:
    response = client.post("/api/admin/redeem-rules", headers=headers, json=body)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_error"


def test_a_rules_kind_cannot_change(client: FlaskClient, headers: dict[str, str],
                                    session: Session, installed: Shop) -> None:
    rule = factories.rule(session, installed)
    session.commit()
    response = client.patch(f"/api/admin/redeem-rules/{rule.id}", headers=headers,
                            json={"kind": "PERCENTAGE"})
    assert response.status_code == 422


def test_earn_rules(client: FlaskClient, headers: dict[str, str]) -> None:
    created = client.post("/api/admin/earn-rules", headers=headers,
                          json={"kind": "PURCHASE", "pointsPerUnit": 10, "pendingDays": 14})
    assert created.status_code == 201, created.json
    rule_id = created.json["id"]
    assert client.post("/api/admin/earn-rules", headers=headers,
                       json={"kind": "SIGNUP"}).status_code == 422
    patched = client.patch(f"/api/admin/earn-rules/{rule_id}", headers=headers,
                           json={"includeShipping": True})
    assert patched.json["includeShipping"] is True
    off = client.post(f"/api/admin/earn-rules/{rule_id}/deactivate", headers=headers)
    assert off.json["active"] is False


def test_customers_search_detail_and_adjust(client: FlaskClient, headers: dict[str, str],
                                            session: Session, installed: Shop) -> None:
    factories.customer(session, installed, 5001, points=100, email="Ann@Example.com",
                       first_name="Ann")
    factories.customer(session, installed, 5002, email="bob@example.com")
    session.commit()
    found = client.get("/api/admin/customers?email=ann@example.com", headers=headers)
    assert [c["customerId"] for c in found.json] == [5001]
    assert found.headers["X-Total-Count"] == "1"
    assert len(client.get("/api/admin/customers?q=example", headers=headers).json) == 2

    key = {**headers, "Idempotency-Key": "adj-1"}
    body = {"points": 50, "reason": "goodwill"}
    first = client.post("/api/admin/customers/5001/adjust-points", headers=key, json=body)
    again = client.post("/api/admin/customers/5001/adjust-points", headers=key, json=body)
    assert first.status_code == again.status_code == 200, first.json
    assert again.json["availablePoints"] == 150
    mismatch = client.post("/api/admin/customers/5001/adjust-points", headers=key,
                           json={"points": 60, "reason": "goodwill"})
    assert mismatch.status_code == 422
    too_much = client.post("/api/admin/customers/5001/adjust-points", headers=headers,
                           json={"points": -1000, "reason": "oops"})
    assert too_much.json["code"] == "insufficient_points"
    assert client.post("/api/admin/customers/5001/adjust-points", headers=headers,
                       json={"points": 0, "reason": "x"}).status_code == 422

    detail = client.get("/api/admin/customers/5001", headers=headers).json
    assert detail["availablePoints"] == 150
    assert [t["points"] for t in detail["transactions"]] == [50, 100]
    assert factories.ledger_sum(session, session.scalars(select(PointTransaction.customer_id)
                                                         ).first() or 0) == 150

    excluded = client.post("/api/admin/customers/5001/exclude", headers=headers)
    assert excluded.json["customerStatus"] == "EXCLUDED"
    included = client.post("/api/admin/customers/5001/include", headers=headers)
    assert included.json["customerStatus"] == "ACTIVE"


def test_settings(client: FlaskClient, headers: dict[str, str]) -> None:
    assert client.get("/api/admin/settings", headers=headers).json["codePrefix"] == "LOY-"
    changed = client.patch("/api/admin/settings", headers=headers,
                           json={"codePrefix": "vip-", "exclusionTags": ["staff"]})
    # Every setting comes back; these are the ones changed, and one left alone.
    assert {name: changed.json[name] for name in ("codePrefix", "exclusionTags", "earnOn")} \
        == {"codePrefix": "VIP-", "exclusionTags": ["staff"], "earnOn": "paid"}
    assert client.patch("/api/admin/settings", headers=headers,
                        json={"codePrefix": "bad prefix!"}).status_code == 422


def test_api_keys(client: FlaskClient, headers: dict[str, str]) -> None:
    created = client.post("/api/admin/api-keys", headers=headers, json={"name": "ERP"})
    assert created.status_code == 201
    key = created.json["key"]
    listed = client.get("/api/admin/api-keys", headers=headers).json
    assert listed[0]["name"] == "ERP" and key not in str(listed)
    external = {"X-API-Key": key}
    assert client.get("/api/external/point-redeem-rules", headers=external).status_code == 200
    assert client.delete(f"/api/admin/api-keys/{created.json['id']}",
                         headers=headers).status_code == 204
    assert client.get("/api/external/point-redeem-rules", headers=external).status_code == 401


def _unused_reward(session: Session, shop: Shop, customer_id: int = 7001) -> Reward:
    customer = factories.customer(session, shop, customer_id, points=1000)
    rule = factories.rule(session, shop, RedeemRuleKind.FIXED_AMOUNT)
    from shopify_loyalty.db import utcnow
    from shopify_loyalty.services.rewards import redemption
    reward = redemption.redeem_points(session, shop, customer,
                                      redemption.RedeemCommand(rule.id), utcnow())
    session.commit()
    return reward


def test_refund_an_unused_reward(client: FlaskClient, headers: dict[str, str],
                                 session: Session, installed: Shop, sent_tasks: Any) -> None:
    reward = _unused_reward(session, installed)
    listed = client.get("/api/admin/rewards?status=UNUSED", headers=headers).json
    assert [r["id"] for r in listed] == [reward.id]

    refunded = client.post(f"/api/admin/rewards/{reward.id}/refund", headers=headers)
    assert refunded.status_code == 200, refunded.json
    assert refunded.json["status"] == "REFUNDED"
    rows = session.scalars(select(PointTransaction).where(
        PointTransaction.kind == LedgerKind.REFUNDED)).all()
    assert [(r.points, r.source_type, r.source_id) for r in rows] == [
        (500, "reward", str(reward.id))]
    assert ("loyalty.deactivate_discount", [reward.id]) in sent_tasks.names()
    again = client.post(f"/api/admin/rewards/{reward.id}/refund", headers=headers)
    assert again.status_code == 409


def test_store_credit_is_not_refunded(client: FlaskClient, headers: dict[str, str],
                                      session: Session, installed: Shop) -> None:
    customer = factories.customer(session, installed, 7100)
    reward = Reward(shop_id=installed.id, customer_id=customer.id, points=1,
                    reward_type=RewardType.STORE_CREDIT)
    session.add(reward)
    session.commit()
    assert client.post(f"/api/admin/rewards/{reward.id}/refund",
                       headers=headers).status_code == 409


@pytest.fixture
def other_shop(session: Session) -> Iterator[Shop]:
    yield factories.shop(session, access_token_enc="not-used", settings={})


def test_every_admin_endpoint_hides_another_shops_data(
    client: FlaskClient, session: Session, installed: Shop, other_shop: Shop
) -> None:
    reward = _unused_reward(session, installed, 7200)
    rule_id = reward.redeem_rule_id
    from shopify_loyalty.services.program import earn_rules
    from shopify_loyalty.services.shops import api_keys
    earn = earn_rules.create_earn_rule(session, installed, earn_rules.EarnRuleSpec(
        kind=earn_rules.EarnRuleKind.SIGNUP, points=10))
    key, _secret = api_keys.create_key(session, installed, "k")
    session.commit()
    intruder = admin(other_shop.domain)
    calls = [
        ("get", f"/api/admin/redeem-rules/{rule_id}", None),
        ("patch", f"/api/admin/redeem-rules/{rule_id}", {"name": "mine"}),
        ("post", f"/api/admin/redeem-rules/{rule_id}/deactivate", None),
        ("get", f"/api/admin/earn-rules/{earn.id}", None),
        ("patch", f"/api/admin/earn-rules/{earn.id}", {"points": 5}),
        ("post", f"/api/admin/earn-rules/{earn.id}/deactivate", None),
        ("get", "/api/admin/customers/7200", None),
        ("post", "/api/admin/customers/7200/adjust-points", {"points": 5, "reason": "x"}),
        ("post", "/api/admin/customers/7200/exclude", None),
        ("post", "/api/admin/customers/7200/include", None),
        ("post", f"/api/admin/rewards/{reward.id}/refund", None),
        ("delete", f"/api/admin/api-keys/{key.id}", None),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, headers=intruder, json=body)
        assert response.status_code == 404, (method, path, response.json)
        assert str(installed.domain) not in response.get_data(as_text=True)
    for path in ("/api/admin/redeem-rules", "/api/admin/earn-rules", "/api/admin/customers",
                 "/api/admin/rewards", "/api/admin/api-keys"):
        assert client.get(path, headers=intruder).json == [], path
    session.expire_all()
    assert session.get_one(Reward, reward.id).status.value == "UNUSED"
