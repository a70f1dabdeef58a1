"""The admin API of outbound webhooks: shapes, validation, SSRF refusals, shop isolation."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.services.events import catalog
from tests import factories
from tests.api.test_admin import admin
from tests.integration.event_receiver import receiving

URL = "/api/admin/event-endpoints"
ENDPOINT_KEYS = {"id", "url", "eventTypes", "enabled", "disabledReason", "failingSince",
                 "createdAt"}
DELIVERY_KEYS = {"id", "endpointId", "eventId", "eventType", "status", "attempts",
                 "lastStatusCode", "lastError", "lastAttemptAt", "nextAttemptAt", "deliveredAt",
                 "createdAt"}
PUBLIC = "93.184.216.34"


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names the test decides the addresses of, at the getaddrinfo level; others resolve."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            address = names[host]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port or 443))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def allow_private(app: Flask, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.extensions, "loyalty_settings",
                        dataclasses.replace(settings, event_endpoints_allow_private=True))


@pytest.fixture
def shop_headers(session: Session) -> Callable[[], tuple[Any, dict[str, str]]]:
    def make() -> tuple[Any, dict[str, str]]:
        shop = factories.shop(session, access_token_enc="not-used-here")
        session.commit()
        return shop, admin(shop.domain)
    return make


def test_add_list_change_and_remove_an_endpoint(
    client: FlaskClient, shop_headers: Any, dns: dict[str, str],
) -> None:
    _shop, headers = shop_headers()
    dns["hooks.example.com"] = PUBLIC
    created = client.post(URL, json={"url": "https://hooks.example.com/loyalty",
                                     "eventTypes": ["points.earned", "tier.changed"]},
                          headers=headers)
    assert created.status_code == 201, created.json
    body = created.json
    assert set(body) == ENDPOINT_KEYS | {"secret"} and body["secret"].startswith("whsec_")
    assert body["eventTypes"] == ["points.earned", "tier.changed"] and body["enabled"] is True
    assert body["disabledReason"] is None and body["failingSince"] is None

    listed = client.get(URL, headers=headers)
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert [set(e) for e in listed.json] == [ENDPOINT_KEYS]  # the secret is never shown again

    item = f"{URL}/{body['id']}"
    changed = client.patch(item, json={"eventTypes": None, "enabled": False}, headers=headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["eventTypes"] is None and changed.json["enabled"] is False
    assert changed.json["disabledReason"] == "disabled by the merchant"
    again = client.patch(item, json={"enabled": True}, headers=headers)
    assert again.json["enabled"] is True and again.json["disabledReason"] is None

    assert client.delete(item, headers=headers).status_code == 204
    assert client.get(URL, headers=headers).json == []
    assert client.delete(item, headers=headers).status_code == 404


@pytest.mark.parametrize("event_types", [["points.earnt"], ["points.earned", "nope"], []])
def test_unknown_event_types_are_a_422(
    client: FlaskClient, shop_headers: Any, dns: dict[str, str], event_types: list[str],
) -> None:
    _shop, headers = shop_headers()
    dns["hooks.example.com"] = PUBLIC
    response = client.post(URL, json={"url": "https://hooks.example.com/",
                                      "eventTypes": event_types}, headers=headers)
    assert response.status_code == 422, response.json
    assert response.json["status"] == 422 and "code" in response.json


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/", "not a url", "https://a b.example/"])
def test_what_is_not_an_http_url_is_refused_by_the_schema(
    client: FlaskClient, shop_headers: Any, url: str,
) -> None:
    _shop, headers = shop_headers()
    response = client.post(URL, json={"url": url}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"]["json"]["url"] == ["Not an http(s) URL."]
    assert client.get(URL, headers=headers).json == []


@pytest.mark.parametrize(("url", "address", "said"), [
    ("https://127.0.0.1/hooks", None, "127.0.0.1"),
    ("https://10.1.2.3/hooks", None, "10.1.2.3"),
    ("https://[::1]/hooks", None, "::1"),
    ("https://internal.example.com/hooks", "10.0.0.5", "10.0.0.5"),
    ("https://metadata.example.com/", "169.254.169.254", "169.254.169.254"),
    ("https://cgnat.example.com/", "100.64.1.1", "100.64.1.1"),
    ("https://mapped.example.com/", "::ffff:192.168.1.1", "::ffff:192.168.1.1"),
    ("https://zero.example.com/", "0.0.0.0", "0.0.0.0"),
    ("http://hooks.example.com/", PUBLIC, "https"),
    ("https://user:pw@hooks.example.com/", PUBLIC, "password"),
])
def test_unsafe_urls_are_refused_with_a_clear_422(
    client: FlaskClient, shop_headers: Any, dns: dict[str, str], url: str,
    address: str | None, said: str,
) -> None:
    _shop, headers = shop_headers()
    if address is not None:
        dns[url.split("//", 1)[1].split("/", 1)[0].split("@")[-1]] = address
    response = client.post(URL, json={"url": url}, headers=headers)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "unsafe_endpoint_url" and said in response.json["message"]
    # A change of URL is held to the same rule.
    dns["ok.example.com"] = PUBLIC
    made = client.post(URL, json={"url": "https://ok.example.com/"}, headers=headers).json
    patched = client.patch(f"{URL}/{made['id']}", json={"url": url}, headers=headers)
    assert patched.status_code == 422 and patched.json["code"] == "unsafe_endpoint_url"


def test_with_private_allowed_http_and_loopback_are_accepted(
    client: FlaskClient, shop_headers: Any, allow_private: None,
) -> None:
    _shop, headers = shop_headers()
    response = client.post(URL, json={"url": "http://127.0.0.1:9/hooks"}, headers=headers)
    assert response.status_code == 201, response.json


def test_another_shops_endpoints_and_deliveries_are_a_404(
    client: FlaskClient, shop_headers: Any, allow_private: None, db: Database,
    live_deliverer: Any, session: Session,
) -> None:
    mine, my_headers = shop_headers()
    _theirs, their_headers = shop_headers()
    customer = factories.customer(session, mine, 1001)
    session.commit()
    with receiving() as receiver:
        created = client.post(URL, json={"url": receiver.url}, headers=my_headers).json
        with db.unit_of_work() as work:
            catalog.emit(work, work.get_one(type(customer), customer.id),
                         catalog.POINTS_ADJUSTED, {"points": 5})
        mine_listed = client.get("/api/admin/event-deliveries", headers=my_headers)
        assert mine_listed.status_code == 200 and len(mine_listed.json) == 1
        (row,) = mine_listed.json
        assert set(row) == DELIVERY_KEYS and row["status"] == "DELIVERED"
        assert row["eventId"].startswith("evt_") and row["eventType"] == "points.adjusted"
        assert row["endpointId"] == created["id"] and row["lastStatusCode"] == 200

        item = f"{URL}/{created['id']}"
        assert client.get(URL, headers=their_headers).json == []
        assert client.get("/api/admin/event-deliveries", headers=their_headers).json == []
        assert client.patch(item, json={"enabled": False}, headers=their_headers).status_code \
            == 404
        assert client.delete(item, headers=their_headers).status_code == 404
        replay = f"/api/admin/event-deliveries/{row['id']}/replay"
        assert client.post(replay, headers=their_headers).status_code == 404
        assert len(receiver.received) == 1

        replayed = client.post(replay, headers=my_headers)
        assert replayed.status_code == 202 and replayed.json["attempts"] == 2
        assert len(receiver.received) == 2


def test_the_deliveries_filters(
    client: FlaskClient, shop_headers: Any, allow_private: None, db: Database,
    live_deliverer: Any, session: Session,
) -> None:
    shop, headers = shop_headers()
    customer = factories.customer(session, shop, 1001)
    session.commit()
    with receiving(answers=[200, 500]) as receiver:
        endpoint_id = client.post(URL, json={"url": receiver.url}, headers=headers).json["id"]
        for _ in range(2):
            with db.unit_of_work() as work:
                catalog.emit(work, work.get_one(type(customer), customer.id),
                             catalog.POINTS_ADJUSTED, {"points": 5})
    listed = client.get("/api/admin/event-deliveries", headers=headers).json
    assert [d["status"] for d in listed] == ["PENDING", "DELIVERED"]  # newest first
    failed = client.get("/api/admin/event-deliveries?failed=true", headers=headers).json
    assert [d["lastStatusCode"] for d in failed] == [500]
    assert failed[0]["nextAttemptAt"] is not None and failed[0]["lastError"] == "HTTP 500"
    delivered = client.get("/api/admin/event-deliveries?status=DELIVERED&size=1",
                           headers=headers)
    assert len(delivered.json) == 1 and delivered.headers["X-Total-Count"] == "1"
    by_endpoint = client.get(f"/api/admin/event-deliveries?endpointId={endpoint_id + 999}",
                             headers=headers).json
    assert by_endpoint == []
    bad = client.get("/api/admin/event-deliveries?status=LOST", headers=headers)
    assert bad.status_code == 422
