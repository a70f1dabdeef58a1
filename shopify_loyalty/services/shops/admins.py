"""Builds the `ShopifyAdmin` of a shop for the worker, over a cost bucket shared per process.

With ``REDIS_URL`` every worker process shares one estimate of each shop's bucket in Redis, so
N processes together stay under the shop's limit; without it (the in-process first run) one
in-memory estimate per process is enough.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import redis
import requests

from shopify_loyalty.config import Settings
from shopify_loyalty.shopify.admin import AdminClient
from shopify_loyalty.shopify.bucket import CostBucket, InMemoryBucket, RedisBucket
from shopify_loyalty.shopify.shop_admin import ShopifyAdmin


def bucket_for(settings: Settings) -> CostBucket:
    if settings.redis_url:
        return RedisBucket(redis.Redis.from_url(settings.redis_url))
    return InMemoryBucket()


class ShopAdmins:
    """One per process: hands out a `ShopifyAdmin` for a shop domain and access token."""

    def __init__(
        self,
        settings: Settings,
        bucket: CostBucket,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base_url = settings.shopify_admin_base_url
        self._api_version = settings.shopify_api_version
        self.bucket = bucket
        self._sleep = sleep
        # requests.Session is not documented thread-safe; threads (the in-process mode under a
        # threaded server) each keep their own, and so their own kept-alive connections.
        self._local = threading.local()

    @classmethod
    def from_settings(cls, settings: Settings) -> ShopAdmins:
        return cls(settings, bucket_for(settings))

    def for_shop(self, domain: str, access_token: str,
                 deadline: float | None = None) -> ShopifyAdmin:
        """``deadline`` (time.monotonic()) bounds the calls: no attempt starts that might end
        after it."""
        return ShopifyAdmin(self.client_for(domain, access_token, deadline))

    def client_for(self, domain: str, access_token: str,
                   deadline: float | None = None) -> AdminClient:
        """The shop's cost-aware client itself, for adapters beside ``ShopifyAdmin``."""
        http: requests.Session | None = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = requests.Session()
        return AdminClient(
            domain,
            access_token,
            base_url=self._base_url,
            api_version=self._api_version,
            bucket=self.bucket,
            http=http,
            sleep=self._sleep,
            deadline=deadline,
        )
