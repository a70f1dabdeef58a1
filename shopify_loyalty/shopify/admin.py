"""Cost-aware client for Shopify's GraphQL Admin API.

One `AdminClient` talks to one shop. Every call first reserves its estimated cost in the shop's
`CostBucket`; a request the bucket cannot pay is not sent. Short waits (a throttled answer, a
429, a nearly full bucket) are slept here; a longer one raises `ShopifyThrottled` so the worker
re-queues the job instead of holding a process. 5xx, timeouts and connection errors are
retried a bounded number of times with exponential backoff and full jitter
(https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).

Retrying a request whose answer was lost can apply it twice. Callers of a mutation that has no
natural idempotency (store credit) pass `retry_after_send=False` and resolve the doubt
themselves; discount creation is safe because a second create of our code answers TAKEN.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from shopify_loyalty.shopify import documents
from shopify_loyalty.shopify.bucket import CostBucket, InMemoryBucket, QueryCost
from shopify_loyalty.shopify.errors import (
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyShopGone,
    ShopifyThrottled,
    ShopifyTransientError,
    ShopifyUnauthorized,
)
from shopify_loyalty.telemetry import metrics

logger = logging.getLogger(__name__)

# A worker may sleep this long for the bucket; a longer wait is better spent on other shops'
# jobs, so the job is re-queued with that countdown instead.
MAX_INLINE_WAIT_SECONDS = 2.0
# Just above the 3 s TCP retransmission window, so one lost SYN does not fail the connect.
DEFAULT_CONNECT_TIMEOUT = 3.05
# Discount and credit mutations answer in well under a second; 15 s only catches a hung peer.
DEFAULT_READ_TIMEOUT = 15.0
DEFAULT_MAX_ATTEMPTS = 4
# An attempt squeezed into the end of a run gets at least this long to connect, and as long
# to read its answer; with less time left it is not made.
MIN_ATTEMPT_SECONDS = 0.5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
# What a mutation costs (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits);
# an unknown document is charged that until its first answer reports `requestedQueryCost`.
DEFAULT_COST_ESTIMATE = 10.0
# Retry-After is optional on a 429; one second is a polite guess when it is missing.
DEFAULT_RETRY_AFTER_SECONDS = 1.0
SHOP_GONE_STATUSES = frozenset({402, 404, 423})


class _Retry(Exception):
    """An attempt that may be repeated; `final` is raised when it may not.

    `after_send` says the request may have reached Shopify and been applied.
    """

    def __init__(self, final: ShopifyError, after_send: bool, *, throttled: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.after_send = after_send
        self.throttled = throttled


class AdminClient:
    """GraphQL Admin API client for one shop."""

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        *,
        base_url: str = "https://{shop}",
        api_version: str = "2026-10",
        bucket: CostBucket | None = None,
        http: requests.Session | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        deadline: float | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.shop_domain = shop_domain
        self.url = f"{base_url.replace('{shop}', shop_domain).rstrip('/')}" + (
            f"/admin/api/{api_version}/graphql.json"
        )
        self._token = access_token
        self._bucket: CostBucket = bucket if bucket is not None else InMemoryBucket()
        self._http = http if http is not None else requests.Session()
        self._timeout = (connect_timeout, read_timeout)
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        # time.monotonic() after which no attempt may start: the caller's run is bounded (a
        # worker's lease must outlast it), so an attempt that might not finish in time is
        # not made and the call fails as transient.
        self._deadline = deadline
        self._estimates: dict[str, float] = {}

    def execute(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        retry_after_send: bool = True,
    ) -> dict[str, Any]:
        """Run the named document and return its `data`.

        Raises `ShopifyThrottled`, `ShopifyTransientError`, `ShopifyUnauthorized`,
        `ShopifyShopGone` or `ShopifyGraphQLError`. With `retry_after_send=False` a request
        whose answer was lost (read timeout, 5xx) is not repeated: `ShopifyTransientError`.
        """
        body = {"query": documents.load(document), "variables": dict(variables or {})}
        attempt = 0
        bucket_waits = 0
        while True:
            timeout = self._attempt_timeout()
            estimate = self._estimates.get(document, DEFAULT_COST_ESTIMATE)
            wait = self._bucket.reserve(self.shop_domain, estimate)
            if wait > 0:
                bucket_waits += 1
                if wait > MAX_INLINE_WAIT_SECONDS or bucket_waits > self._max_attempts:
                    metrics.SHOPIFY_THROTTLES.labels(self.shop_domain).inc()
                    raise ShopifyThrottled(wait)
                logger.info("shop %s: bucket low, waiting %.2f s", self.shop_domain, wait)
                self._sleep(wait)
                continue
            attempt += 1
            try:
                return self._attempt(document, body, estimate, timeout)
            except _Retry as retry:
                if attempt >= self._max_attempts or (retry.after_send and not retry_after_send):
                    raise retry.final from retry
                logger.warning(
                    "shop %s: %s attempt %d failed: %s",
                    self.shop_domain,
                    document,
                    attempt,
                    retry.final,
                )
                if not retry.throttled:
                    self._sleep(self._backoff(attempt))

    def _backoff(self, attempt: int) -> float:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        return self._rng.uniform(0.0, ceiling)

    def _attempt_timeout(self) -> tuple[float, float]:
        """The (connect, read) timeouts of the next attempt, within the run's deadline.

        Raises ShopifyTransientError when too little time is left to make one at all.
        """
        if self._deadline is None:
            return self._timeout
        connect, read = self._timeout
        left = self._deadline - time.monotonic()
        if left < 2 * MIN_ATTEMPT_SECONDS:
            raise ShopifyTransientError("out of time for this run")
        connect = min(connect, left / 2)
        return connect, min(read, left - connect)

    def _attempt(self, document: str, body: dict[str, Any], estimate: float,
                 timeout: tuple[float, float]) -> dict[str, Any]:
        headers = {"X-Shopify-Access-Token": self._token, "Content-Type": "application/json"}
        try:
            response = self._http.post(self.url, json=body, headers=headers, timeout=timeout)
        except requests.ConnectTimeout as error:
            # Never connected, so never applied: safe to repeat whatever the document.
            raise _Retry(ShopifyTransientError(f"connect timeout: {error}"), False) from error
        except (requests.Timeout, requests.ConnectionError) as error:
            raise _Retry(ShopifyTransientError(f"answer lost: {error}"), True) from error
        return self._read(document, response, estimate)

    def _read(self, document: str, response: requests.Response, estimate: float) -> dict[str, Any]:
        status = response.status_code
        if status == 401:
            raise ShopifyUnauthorized(f"shop {self.shop_domain}: access token refused")
        if status in SHOP_GONE_STATUSES:
            raise ShopifyShopGone(status, f"shop {self.shop_domain}: HTTP {status}")
        if status == 429:
            seconds = _retry_after(response)
            self._bucket.pause(self.shop_domain, seconds)
            metrics.SHOPIFY_THROTTLES.labels(self.shop_domain).inc()
            raise _Retry(ShopifyThrottled(seconds), False, throttled=True)
        if status >= 500:
            raise _Retry(ShopifyTransientError(f"HTTP {status}"), True)
        if status != 200:
            raise ShopifyGraphQLError(f"HTTP {status}: {response.text[:200]}", [f"HTTP_{status}"])
        try:
            payload = response.json()
        except ValueError as error:
            raise _Retry(ShopifyTransientError("answer is not JSON"), True) from error
        if not isinstance(payload, dict):
            raise _Retry(ShopifyTransientError("answer is not a JSON object"), True)
        cost = QueryCost.from_extensions(payload.get("extensions"))
        if cost is not None:
            self._bucket.settle(self.shop_domain, estimate, cost)
            metrics.SHOPIFY_BUCKET.labels(self.shop_domain).set(cost.currently_available)
            self._estimates[document] = cost.requested
        errors = payload.get("errors")
        if errors:
            self._raise_errors(errors, cost)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise ShopifyGraphQLError("answer without data")
        return data

    def _raise_errors(self, errors: object, cost: QueryCost | None) -> None:
        if not isinstance(errors, list):
            raise ShopifyGraphQLError(str(errors))
        codes = [_error_code(error) for error in errors]
        message = "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict))
        if "THROTTLED" in codes:
            metrics.SHOPIFY_THROTTLES.labels(self.shop_domain).inc()
            wait = cost.throttled_wait() if cost else DEFAULT_RETRY_AFTER_SECONDS
            raise _Retry(ShopifyThrottled(wait), False, throttled=True)
        if "INTERNAL_SERVER_ERROR" in codes:
            raise _Retry(ShopifyTransientError(message), True)
        raise ShopifyGraphQLError(message or "GraphQL errors", [c for c in codes if c])


def _error_code(error: object) -> str | None:
    if isinstance(error, dict):
        extensions = error.get("extensions")
        if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
            return str(extensions["code"])
    return None


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER_SECONDS
