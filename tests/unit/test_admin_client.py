from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import requests
import responses

from shopify_loyalty.shopify.admin import AdminClient
from shopify_loyalty.shopify.bucket import InMemoryBucket, QueryCost, RedisBucket
from shopify_loyalty.shopify.errors import (
    ShopifyGraphQLError,
    ShopifyShopGone,
    ShopifyThrottled,
    ShopifyTransientError,
    ShopifyUnauthorized,
)
from tests.fake_clock import FakeClock
from tests.graphql_schema import assert_bodies_valid

SHOP = "demo.myshopify.com"
URL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
SHOP_DATA = {"shop": {"name": "Demo", "currencyCode": "EUR", "myshopifyDomain": SHOP}}


def answer(
    data: Any = None,
    *,
    requested: float = 1,
    actual: float | None = 1,
    available: float = 1999,
    maximum: float = 2000,
    rate: float = 100,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": maximum,
                    "currentlyAvailable": available,
                    "restoreRate": rate,
                },
            }
        }
    }
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return body


def throttled(*, requested: float, available: float, rate: float = 100) -> dict[str, Any]:
    return answer(
        requested=requested,
        actual=None,
        available=available,
        rate=rate,
        errors=[{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    )


@pytest.fixture
def shopify() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
        assert_bodies_valid(call.request.body for call in mock.calls)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bucket(clock: FakeClock) -> InMemoryBucket:
    return InMemoryBucket(clock=clock)


@pytest.fixture
def client(bucket: InMemoryBucket, clock: FakeClock) -> AdminClient:
    return AdminClient(SHOP, "shpat_secret", bucket=bucket, sleep=clock.sleep, rng=random.Random(7))


def test_request_shape(shopify: responses.RequestsMock, client: AdminClient) -> None:
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo") == SHOP_DATA
    request = shopify.calls[0].request
    assert request.headers["X-Shopify-Access-Token"] == "shpat_secret"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert set(body) == {"query", "variables"}
    assert body["query"].startswith("query ShopInfo")


def test_base_url_template_points_at_a_stand_in(shopify: responses.RequestsMock) -> None:
    shopify.post(
        "http://127.0.0.1:8765/demo.myshopify.com/admin/api/2025-07/graphql.json",
        json=answer(SHOP_DATA),
    )
    client = AdminClient(SHOP, "t", base_url="http://127.0.0.1:8765/{shop}/", api_version="2025-07")
    assert client.execute("ShopInfo") == SHOP_DATA


def test_throttled_answer_then_success_waits_the_computed_time(
    shopify: responses.RequestsMock, client: AdminClient, clock: FakeClock
) -> None:
    shopify.post(URL, json=throttled(requested=10, available=4))
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo") == SHOP_DATA
    assert clock.sleeps == [pytest.approx((10 - 4) / 100)]
    assert len(shopify.calls) == 2


def test_throttled_answer_with_a_long_wait_is_raised_for_a_requeue(
    shopify: responses.RequestsMock, client: AdminClient, clock: FakeClock
) -> None:
    shopify.post(URL, json=throttled(requested=10, available=0, rate=2))
    with pytest.raises(ShopifyThrottled) as raised:
        client.execute("ShopInfo")
    assert raised.value.wait_seconds == pytest.approx(5.0)
    assert clock.sleeps == []
    assert len(shopify.calls) == 1


def test_429_honours_retry_after(
    shopify: responses.RequestsMock, client: AdminClient, clock: FakeClock
) -> None:
    shopify.post(URL, status=429, headers={"Retry-After": "1.0"})
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo") == SHOP_DATA
    # Retry-After, plus refilling the request's own cost (10 points at 100 a second).
    assert clock.sleeps == [pytest.approx(1.1)]


def test_429_with_a_long_retry_after_is_raised(
    shopify: responses.RequestsMock, client: AdminClient
) -> None:
    shopify.post(URL, status=429, headers={"Retry-After": "30"})
    with pytest.raises(ShopifyThrottled) as raised:
        client.execute("ShopInfo")
    assert raised.value.wait_seconds >= 30
    assert len(shopify.calls) == 1


def test_bucket_that_cannot_pay_sends_nothing(
    shopify: responses.RequestsMock, client: AdminClient, bucket: InMemoryBucket
) -> None:
    bucket.settle(SHOP, 0, QueryCost(10, 10, 2000, currently_available=0, restore_rate=1))
    with pytest.raises(ShopifyThrottled) as raised:
        client.execute("ShopInfo")
    assert raised.value.wait_seconds == pytest.approx(10.0)
    assert len(shopify.calls) == 0


def test_bucket_short_wait_is_slept_before_sending(
    shopify: responses.RequestsMock,
    client: AdminClient,
    bucket: InMemoryBucket,
    clock: FakeClock,
) -> None:
    bucket.settle(SHOP, 0, QueryCost(10, 10, 2000, currently_available=5, restore_rate=100))
    shopify.post(URL, json=answer(SHOP_DATA))
    client.execute("ShopInfo")
    assert clock.sleeps == [pytest.approx(0.05)]
    assert len(shopify.calls) == 1


def test_answer_refunds_unused_cost_and_learns_the_estimate(
    shopify: responses.RequestsMock, client: AdminClient, bucket: InMemoryBucket
) -> None:
    shopify.post(URL, json=answer(SHOP_DATA, requested=52, actual=3, available=1997))
    client.execute("ShopInfo")
    # Reserved the 10-point default, paid 3: 2000 - 3, and the server agrees.
    assert bucket.available(SHOP) == pytest.approx(1997)
    shopify.post(URL, json=answer(SHOP_DATA, requested=52, actual=3, available=1994))
    client.execute("ShopInfo")
    assert bucket.available(SHOP) == pytest.approx(1994)


def test_estimate_never_exceeds_the_server(
    shopify: responses.RequestsMock, client: AdminClient, bucket: InMemoryBucket
) -> None:
    shopify.post(
        URL, json=answer(SHOP_DATA, requested=1, actual=1, available=120, maximum=1000, rate=50)
    )
    client.execute("ShopInfo")
    assert bucket.available(SHOP) == pytest.approx(120)


def test_two_5xx_then_success_backs_off_with_jitter(
    shopify: responses.RequestsMock, client: AdminClient, clock: FakeClock
) -> None:
    shopify.post(URL, status=502)
    shopify.post(URL, status=503)
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo") == SHOP_DATA
    assert len(clock.sleeps) == 2
    assert 0 <= clock.sleeps[0] <= 0.5 and 0 <= clock.sleeps[1] <= 1.0


def test_timeout_then_success(
    shopify: responses.RequestsMock, client: AdminClient, clock: FakeClock
) -> None:
    shopify.post(URL, body=requests.ReadTimeout("slow"))
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo") == SHOP_DATA
    assert len(clock.sleeps) == 1


def test_retries_exhausted_is_a_transient_error(
    shopify: responses.RequestsMock, bucket: InMemoryBucket, clock: FakeClock
) -> None:
    client = AdminClient(SHOP, "t", bucket=bucket, sleep=clock.sleep, max_attempts=3)
    shopify.post(URL, status=500)
    shopify.post(URL, body=requests.ConnectionError("reset"))
    shopify.post(URL, status=504)
    with pytest.raises(ShopifyTransientError):
        client.execute("ShopInfo")
    assert len(shopify.calls) == 3
    assert len(clock.sleeps) == 2


def test_internal_server_error_in_errors_is_transient(
    shopify: responses.RequestsMock, client: AdminClient
) -> None:
    failure = {"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
    shopify.post(URL, json=answer(errors=[failure]))
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo") == SHOP_DATA


def test_lost_answer_is_not_repeated_when_the_caller_forbids_it(
    shopify: responses.RequestsMock, client: AdminClient
) -> None:
    shopify.post(URL, body=requests.ReadTimeout("slow"))
    with pytest.raises(ShopifyTransientError):
        client.execute("ShopInfo", retry_after_send=False)
    assert len(shopify.calls) == 1


def test_connect_timeout_is_repeated_even_for_unsafe_requests(
    shopify: responses.RequestsMock, client: AdminClient
) -> None:
    shopify.post(URL, body=requests.ConnectTimeout("no route"))
    shopify.post(URL, json=answer(SHOP_DATA))
    assert client.execute("ShopInfo", retry_after_send=False) == SHOP_DATA


def test_401_is_unauthorized(shopify: responses.RequestsMock, client: AdminClient) -> None:
    shopify.post(URL, status=401, json={"errors": "[API] Invalid API key or access token"})
    with pytest.raises(ShopifyUnauthorized):
        client.execute("ShopInfo")
    assert len(shopify.calls) == 1


@pytest.mark.parametrize("status", [402, 404, 423])
def test_frozen_missing_or_locked_shop_is_gone(
    shopify: responses.RequestsMock, client: AdminClient, status: int
) -> None:
    shopify.post(URL, status=status, json={"errors": "Unavailable Shop"})
    with pytest.raises(ShopifyShopGone) as raised:
        client.execute("ShopInfo")
    assert raised.value.status == status
    assert len(shopify.calls) == 1


def test_graphql_errors_carry_their_codes(
    shopify: responses.RequestsMock, client: AdminClient
) -> None:
    denied = {"message": "Access denied for shop field.", "extensions": {"code": "ACCESS_DENIED"}}
    shopify.post(URL, json=answer({"shop": None}, errors=[denied]))
    with pytest.raises(ShopifyGraphQLError) as raised:
        client.execute("ShopInfo")
    assert raised.value.codes == {"ACCESS_DENIED"}
    assert "Access denied" in str(raised.value)


def test_other_http_status_is_a_graphql_error(
    shopify: responses.RequestsMock, client: AdminClient
) -> None:
    shopify.post(URL, status=403, body="Forbidden")
    with pytest.raises(ShopifyGraphQLError) as raised:
        client.execute("ShopInfo")
    assert raised.value.codes == {"HTTP_403"}


@pytest.fixture
def redis_db(redis_lock: None) -> Iterator[redis.Redis]:
    connection = redis.Redis(host="127.0.0.1", port=6379, db=5)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_redis_bucket_is_shared_by_clients_in_different_processes(
    shopify: responses.RequestsMock, redis_db: redis.Redis
) -> None:
    sleeps: list[float] = []
    first = AdminClient(SHOP, "t", bucket=RedisBucket(redis_db), sleep=sleeps.append)
    second = AdminClient(SHOP, "t", bucket=RedisBucket(redis_db), sleep=sleeps.append)
    shopify.post(URL, json=answer(SHOP_DATA, requested=1, actual=1, available=0, rate=1))
    first.execute("ShopInfo")
    with pytest.raises(ShopifyThrottled) as raised:
        second.execute("ShopInfo")
    assert 5 < raised.value.wait_seconds <= 10
    assert len(shopify.calls) == 1
    assert sleeps == []
    assert 0 < redis_db.ttl(f"shopify:bucket:{SHOP}") <= 3600


def test_redis_bucket_reserves_atomically_and_refills(redis_db: redis.Redis) -> None:
    bucket = RedisBucket(redis_db)
    assert bucket.reserve(SHOP, 1500) == 0.0
    wait = bucket.reserve(SHOP, 1000)
    assert wait == pytest.approx((1000 - 500) / 100, abs=0.05)
    bucket.settle(
        SHOP, 1500, QueryCost(1500, 100, 2000, currently_available=1900, restore_rate=100)
    )
    assert bucket.reserve(SHOP, 1000) == 0.0
    bucket.pause(SHOP, 3)
    assert bucket.reserve(SHOP, 10) == pytest.approx(3.1, abs=0.05)
    assert bucket.reserve("other.myshopify.com", 10) == 0.0


def test_a_run_deadline_caps_each_attempt_and_makes_none_it_cannot_finish(
    shopify: responses.RequestsMock, bucket: InMemoryBucket, monkeypatch: pytest.MonkeyPatch,
) -> None:
    timeouts: list[Any] = []
    real_post = requests.Session.post

    def post(self: requests.Session, url: str, **kwargs: Any) -> Any:
        timeouts.append(kwargs["timeout"])
        return real_post(self, url, **kwargs)

    monkeypatch.setattr(requests.Session, "post", post)
    shopify.post(URL, json=answer(SHOP_DATA))
    soon = time.monotonic() + 4.0
    assert AdminClient(SHOP, "t", bucket=bucket, deadline=soon).execute("ShopInfo") == SHOP_DATA
    connect, read = timeouts[0]
    assert connect <= 2.0 and connect + read <= 4.0  # the attempt ends before the deadline

    late = AdminClient(SHOP, "t", bucket=bucket, deadline=time.monotonic() + 0.5)
    with pytest.raises(ShopifyTransientError, match="out of time"):
        late.execute("ShopInfo")
    assert len(shopify.calls) == 1  # nothing sent that could not finish in time
