"""Rate limits: 429 in our JSON shape with Retry-After; off switch; fail open."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import pytest
import redis
from flask import Flask

from shopify_loyalty.config import Settings
from tests.conftest import customer_token

REDIS_TEST_URL = "redis://127.0.0.1:6379/7"


MakeApp = Callable[[Settings], Flask]


@pytest.fixture
def memory_app(settings: Settings, make_app: MakeApp) -> Flask:
    return make_app(dataclasses.replace(settings, ratelimit_enabled=True))


@pytest.fixture
def redis_app(settings: Settings, make_app: MakeApp, redis_lock: None) -> Iterator[Flask]:
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield make_app(dataclasses.replace(settings, ratelimit_enabled=True, redis_url=REDIS_TEST_URL))
    client.flushdb()


def _hammer_external(app: Flask, key: str, times: int) -> list[int]:
    client = app.test_client()
    return [client.get("/api/external/point-earn-rules", headers={"X-API-Key": key}).status_code
            for _ in range(times)]


def test_external_is_limited_per_key(memory_app: Flask) -> None:
    statuses = _hammer_external(memory_app, "lk_one", 21)
    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    response = memory_app.test_client().get("/api/external/point-earn-rules",
                                            headers={"X-API-Key": "lk_one"})
    assert response.status_code == 429
    assert response.json["code"] == "too_many_requests"
    assert set(response.json) >= {"code", "message", "status"}
    assert int(response.headers["Retry-After"]) >= 0
    assert _hammer_external(memory_app, "lk_two", 1) == [401]  # another key, its own budget


def test_storefront_is_limited_per_customer(memory_app: Flask) -> None:
    client = memory_app.test_client()
    ann = {"Authorization": f"Bearer {customer_token('rl-shop.myshopify.com', 1)}"}
    bob = {"Authorization": f"Bearer {customer_token('rl-shop.myshopify.com', 2)}"}
    statuses = [client.get("/loyalty/cp/api/customer-loyalty", headers=ann).status_code
                for _ in range(61)]
    assert 429 not in statuses[:60] and statuses[60] == 429
    assert client.get("/loyalty/cp/api/customer-loyalty", headers=bob).status_code != 429


def test_limits_live_in_redis(redis_app: Flask) -> None:
    assert _hammer_external(redis_app, "lk_redis", 21)[20] == 429
    assert redis.Redis.from_url(REDIS_TEST_URL).keys("*loyalty*")


def test_a_redis_outage_fails_open(settings: Settings, make_app: MakeApp) -> None:
    down = make_app(dataclasses.replace(settings, ratelimit_enabled=True,
                                        redis_url="redis://127.0.0.1:1/7"))
    assert 429 not in _hammer_external(down, "lk_down", 25)


def test_the_switch_turns_limits_off(client: object, app: Flask) -> None:
    assert 429 not in _hammer_external(app, "lk_off", 25)
