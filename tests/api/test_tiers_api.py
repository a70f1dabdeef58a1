"""VIP tiers over HTTP: the admin's tiers and a customer's tier, the storefront's ladder and
loyalty info, redeem rules by tier, and another shop's credentials getting nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import Shop, VipTier
from shopify_loyalty.services.program import settings as shop_settings
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import auth

TIERS = "/api/admin/vip-tiers"


@pytest.fixture
def installed(session: Session) -> Shop:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    session.commit()
    return shop


@pytest.fixture
def other(session: Session) -> Shop:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    session.commit()
    return shop


def _add(client: FlaskClient, shop: Shop, **body: Any) -> Any:
    response = client.post(TIERS, headers=admin(shop.domain), json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_the_merchant_adds_lists_changes_and_deactivates_tiers(
    client: FlaskClient, installed: Shop
) -> None:
    headers = admin(installed.domain)
    gold = _add(client, installed, name="Gold", threshold=500, earnMultiplier=1.5,
                entryPoints=200, perks="Free shipping")
    silver = _add(client, installed, name="Silver", threshold="100.50")
    assert gold == {"id": gold["id"], "name": "Gold", "threshold": 500.0, "earnMultiplier": 1.5,
                    "entryPoints": 200, "perks": "Free shipping", "active": True}
    assert (silver["earnMultiplier"], silver["entryPoints"], silver["perks"]) == (1.0, 0, None)
    listed = client.get(TIERS, headers=headers).json
    assert [t["name"] for t in listed] == ["Silver", "Gold"]  # lowest first
    patched = client.patch(f"{TIERS}/{gold['id']}", headers=headers,
                           json={"threshold": 750, "perks": None})
    assert (patched.json["threshold"], patched.json["perks"]) == (750.0, None)
    assert client.get(f"{TIERS}/{gold['id']}", headers=headers).json == patched.json
    off = client.post(f"{TIERS}/{gold['id']}/deactivate", headers=headers).json
    assert off["active"] is False
    # Its threshold and name are free again for an active tier.
    _add(client, installed, name="gold", threshold=750)


@pytest.mark.parametrize("body", [
    {"name": "X", "threshold": -1},
    {"name": "X", "threshold": "abc"},
    {"name": "X", "threshold": "NaN"},
    {"name": "X", "threshold": 1e300},
    {"name": "X", "threshold": "1.005"},
    {"name": "X", "threshold": 10, "earnMultiplier": 0.5},
    {"name": "X", "threshold": 10, "earnMultiplier": 1.0005},
    {"name": "X", "threshold": 10, "entryPoints": -1},
    {"name": "X", "threshold": 10, "entryPoints": True},
    {"name": "X", "threshold": 10, "perks": "x" * 2001},
    {"name": "", "threshold": 10},
    {"name": "X"},
    {"name": "X", "threshold": 10, "colour": "gold"},
    {"name": "Silver", "threshold": 20},  # Silver's name
    {"name": "X", "threshold": 100},  # Silver's threshold
])
def test_a_bad_tier_is_a_422_and_changes_nothing(
    client: FlaskClient, installed: Shop, body: dict[str, Any]
) -> None:
    _add(client, installed, name="Silver", threshold=100)
    response = client.post(TIERS, headers=admin(installed.domain), json=body)
    assert (response.status_code, response.json["code"]) == (422, "validation_error"), body
    assert len(client.get(TIERS, headers=admin(installed.domain)).json) == 1


def test_setting_a_customers_tier_by_hand(
    client: FlaskClient, session: Session, installed: Shop
) -> None:
    headers = admin(installed.domain)
    gold = _add(client, installed, name="Gold", threshold=500, entryPoints=300)
    factories.customer(session, installed, 7301)
    session.commit()
    until = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    path = "/api/admin/customers/7301/tier"
    given = client.post(path, headers=headers,
                        json={"tierId": gold["id"], "until": until.isoformat()})
    assert given.status_code == 200, given.json
    assert (given.json["vipTierId"], given.json["availablePoints"]) == (gold["id"], 0)
    assert given.json["vipTierExpiredAt"] == until.isoformat()
    info = client.get("/loyalty/cp/api/customer-loyalty", headers=auth(installed.domain, 7301))
    assert (info.json["currentVipTier"], info.json["vipTierExpiredAt"]) == (
        "Gold", until.isoformat())
    # LIFETIME and no end: held until the merchant or a re-evaluation changes it.
    assert client.post(path, headers=headers,
                       json={"tierId": gold["id"]}).json["vipTierExpiredAt"] is None
    cleared = client.post(path, headers=headers, json={"tierId": None}).json
    assert (cleared["vipTierId"], cleared["vipTierExpiredAt"]) == (None, None)
    past = (utcnow() - timedelta(days=1)).isoformat()
    for body in ({"tierId": gold["id"], "until": past}, {"tierId": 10**12},
                 {"tierId": None, "until": until.isoformat()}, {"tierId": "gold"}, {},
                 {"tierId": gold["id"], "until": "tomorrow"}):
        response = client.post(path, headers=headers, json=body)
        assert (response.status_code, response.json["code"]) == (422, "validation_error"), body
    client.post(f"{TIERS}/{gold['id']}/deactivate", headers=headers)
    inactive = client.post(path, headers=headers, json={"tierId": gold["id"]})
    assert inactive.json["errors"] == {"tierId": ["This tier is inactive."]}
    assert client.post("/api/admin/customers/999/tier", headers=headers,
                       json={"tierId": None}).status_code == 404


def test_the_storefront_lists_the_active_ladder_and_the_way_up(
    client: FlaskClient, session: Session, installed: Shop
) -> None:
    for name, threshold in (("Gold", 500), ("Silver", 100), ("Old", 50)):
        _add(client, installed, name=name, threshold=threshold, perks=f"{name} perks")
    old = next(t for t in client.get(TIERS, headers=admin(installed.domain)).json
               if t["name"] == "Old")
    client.post(f"{TIERS}/{old['id']}/deactivate", headers=admin(installed.domain))
    shop_settings.update_settings(installed, tier_metric="ORDERS",
                                  tier_period="ROLLING_12_MONTHS")
    session.commit()
    ladder = client.get("/loyalty/cp/api/vip-tiers", headers=auth(installed.domain, 1001))
    assert ladder.status_code == 200
    assert [(t["name"], t["threshold"], t["perks"]) for t in ladder.json] == [
        ("Silver", 100.0, "Silver perks"), ("Gold", 500.0, "Gold perks")]
    assert set(ladder.json[0]) == {"id", "name", "threshold", "earnMultiplier", "entryPoints",
                                   "perks"}
    info = client.get("/loyalty/cp/api/customer-loyalty",
                      headers=auth(installed.domain, 1001)).json
    silver_id = ladder.json[0]["id"]
    assert (info["currentVipTier"], info["achievableTierId"]) == (None, silver_id)
    assert info["tierProgress"] == {"metric": "ORDERS", "current": 0.0, "nextTierId": silver_id,
                                    "neededForNext": 100.0}
    assert client.get("/loyalty/cp/api/vip-tiers").status_code == 401


def test_a_shop_without_tiers_shows_no_progress(client: FlaskClient, installed: Shop) -> None:
    info = client.get("/loyalty/cp/api/customer-loyalty", headers=auth(installed.domain, 5))
    assert (info.json["tierProgress"], info.json["currentVipTier"]) == (None, None)
    assert client.get("/loyalty/cp/api/vip-tiers", headers=auth(installed.domain, 5)).json == []


def test_another_shops_credentials_reach_no_tier(
    client: FlaskClient, session: Session, installed: Shop, other: Shop
) -> None:
    gold = _add(client, installed, name="Gold", threshold=500)
    factories.customer(session, installed, 7400)
    factories.customer(session, other, 7401)
    session.commit()
    intruder = admin(other.domain)
    for method, path, body in [
        ("get", f"{TIERS}/{gold['id']}", None),
        ("patch", f"{TIERS}/{gold['id']}", {"name": "Mine"}),
        ("post", f"{TIERS}/{gold['id']}/deactivate", None),
        ("post", "/api/admin/customers/7400/tier", {"tierId": None}),
    ]:
        response = getattr(client, method)(path, headers=intruder, json=body)
        assert response.status_code == 404, (method, path, response.json)
    assert client.get(TIERS, headers=intruder).json == []
    # Their own customer with this shop's tier: no such tier there.
    mine = client.post("/api/admin/customers/7401/tier", headers=intruder,
                       json={"tierId": gold["id"]})
    assert (mine.status_code, mine.json["errors"]) == (
        422, {"tierId": ["No such VIP tier in this shop."]})
    assert client.get("/loyalty/cp/api/vip-tiers", headers=auth(other.domain, 7401)).json == []
    session.expire_all()
    assert session.get_one(VipTier, gold["id"]).name == "Gold"


def test_a_tier_reward_admits_that_tier_and_those_above_it_by_threshold(
    client: FlaskClient, session: Session, installed: Shop
) -> None:
    silver = _add(client, installed, name="Silver", threshold=100)
    gold = _add(client, installed, name="Gold", threshold=500)
    bronze = _add(client, installed, name="Bronze", threshold=10)  # added last, ranks first
    rule = factories.rule(session, installed, required_tier_id=silver["id"], points_cost=10)
    for shopify_id, tier in ((1, bronze), (2, silver), (3, gold)):
        factories.customer(session, installed, shopify_id, points=10, vip_tier_id=tier["id"])
    session.commit()
    options = {n: client.get("/loyalty/cp/api/point-redeem-rules",
                             headers=auth(installed.domain, n)).json[0] for n in (1, 2, 3)}
    assert [options[n]["canRedeem"] for n in (1, 2, 3)] == [False, True, True]
    assert options[1]["unavailableReason"] == "customer_not_eligible"
    redeemed = client.post("/loyalty/cp/api/redeem-points", headers=auth(installed.domain, 3),
                           json={"redeemRuleId": rule.id})
    assert redeemed.status_code == 200


@pytest.mark.parametrize("method, path", [
    ("get", f"{TIERS}/{2**63}"), ("patch", f"{TIERS}/{2**70}"),
    ("post", f"{TIERS}/{10**30}/deactivate"), ("post", f"/api/admin/customers/{2**64}/tier"),
    ("get", f"{TIERS}/0"),
])
def test_ids_beyond_a_database_id_are_a_404_not_a_500(
    client: FlaskClient, installed: Shop, method: str, path: str
) -> None:
    response = getattr(client, method)(path, headers=admin(installed.domain),
                                       json={"tierId": None, "name": "X"})
    assert (response.status_code, response.json["code"]) == (404, "not_found")


def test_the_admin_list_counts_each_tiers_members_and_the_detail_shows_progress(
    client: FlaskClient, session: Session, installed: Shop, other: Shop
) -> None:
    headers = admin(installed.domain)
    silver = _add(client, installed, name="Silver", threshold=100)
    gold = _add(client, installed, name="Gold", threshold=500)
    for shopify_id, tier, spent in ((7401, silver, 150), (7402, silver, 120), (7403, gold, 900),
                                    (7404, None, 40)):
        factories.customer(session, installed, shopify_id, spent_amount=spent,
                           vip_tier_id=tier["id"] if tier else None)
    # Another shop's customers never count here, whatever their tier.
    theirs = client.post(TIERS, headers=admin(other.domain), json={"name": "S", "threshold": 1})
    factories.customer(session, other, 7401, vip_tier_id=theirs.json["id"])
    session.commit()
    listed = client.get(TIERS, headers=headers).json
    assert [(t["name"], t["members"]) for t in listed] == [("Silver", 2), ("Gold", 1)]
    client.post(f"{TIERS}/{gold['id']}/deactivate", headers=headers)
    listed = client.get(TIERS, headers=headers).json
    assert [(t["name"], t["active"], t["members"]) for t in listed] == [
        ("Silver", True, 2), ("Gold", False, 1)]  # kept until the tiers job moves them
    assert "members" not in client.get(f"{TIERS}/{silver['id']}", headers=headers).json
    # Pages that only name the tiers leave the count out.
    named = client.get(f"{TIERS}?members=false", headers=headers).json
    assert [sorted(t) for t in named] == [sorted(["id", "name", "threshold", "earnMultiplier",
                                                  "entryPoints", "perks", "active"])] * 2
    refused = client.get(f"{TIERS}?members=maybe", headers=headers)
    assert (refused.status_code, refused.json["code"]) == (422, "validation_error")

    detail = client.get("/api/admin/customers/7401", headers=headers).json
    assert (detail["vipTierId"], detail["tierProgress"]) == (silver["id"], {
        "metric": "SPENT", "current": 150.0, "nextTierId": None, "neededForNext": None})
    again = _add(client, installed, name="Gold again", threshold=400)
    detail = client.get("/api/admin/customers/7404", headers=headers).json
    assert detail["tierProgress"]["current"] == 40.0
    assert detail["tierProgress"]["neededForNext"] == 60.0  # to Silver
    # Setting a tier answers with the same detail.
    given = client.post("/api/admin/customers/7404/tier", headers=headers,
                        json={"tierId": silver["id"]}).json
    assert given["vipTierId"] == silver["id"]
    assert given["tierProgress"]["nextTierId"] == again["id"]


def test_a_shop_without_tiers_has_no_progress_in_the_admin(
    client: FlaskClient, session: Session, installed: Shop
) -> None:
    factories.customer(session, installed, 7501)
    session.commit()
    detail = client.get("/api/admin/customers/7501", headers=admin(installed.domain)).json
    assert (detail["vipTierId"], detail["tierProgress"]) == (None, None)
