"""Single-use marks (OAuth state nonces, the admin's one-time sign-in links): Redis
``SET NX EX`` across processes, or a process-local table when ``REDIS_URL`` is unset (a
first run is one process)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Protocol

import redis

from shopify_loyalty.errors import LoyaltyError


class SingleUseUnavailableError(LoyaltyError):
    status = 503
    code = "service_unavailable"
    message = "Cannot check this one-time request right now; try again."


class SingleUse(Protocol):
    def claim(self, key: str, ttl: timedelta) -> bool:
        """True the first time ``key`` is claimed within ``ttl``, False afterwards."""
        ...


class MemorySingleUse:
    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, ttl: timedelta) -> bool:
        now = time.monotonic()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if t > now}
            if key in self._seen:
                return False
            self._seen[key] = now + ttl.total_seconds()
            return True


class RedisSingleUse:
    # A callback must answer even if Redis stalls; one second is plenty for a SET.
    TIMEOUT_SECONDS = 1.0

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=self.TIMEOUT_SECONDS, socket_connect_timeout=self.TIMEOUT_SECONDS
        )

    def claim(self, key: str, ttl: timedelta) -> bool:
        """Raises SingleUseUnavailableError when Redis cannot say (fail closed: an install
        can be retried, a replayed state must not pass)."""
        try:
            return bool(self._redis.set(f"loyalty:oauth-state:{key}", b"1", nx=True,
                                        ex=max(1, int(ttl.total_seconds()))))
        except redis.RedisError as exc:
            raise SingleUseUnavailableError() from exc


def single_use_for(redis_url: str | None) -> SingleUse:
    return RedisSingleUse(redis_url) if redis_url else MemorySingleUse()
