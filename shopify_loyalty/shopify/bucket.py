"""Per-shop estimate of Shopify's cost-based leaky bucket.

Shopify charges every GraphQL Admin call its calculated query cost from a bucket per
(app, shop) that refills at a restore rate; an answer carries `extensions.cost` with the
requested and actual cost and the bucket's `throttleStatus`
(https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits).

Before a request the client reserves its estimated cost here. If the estimate says the bucket
cannot pay, nothing is sent and the caller gets the wait `(cost - available) / restoreRate`.
After an answer the estimate is settled: the unused part of the reservation is refunded
(`reserved - actualQueryCost`) and the result is capped by the server's `currentlyAvailable`.
Taking the minimum, not the server's figure alone, keeps the reservations of requests still in
flight (which the server has not seen yet) out of the estimate; the estimate never claims more
than the server has, and it refills on its own, so erring low only costs a short wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import redis

# Shopify's Standard plan restores 100 points a second
# (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits); the bucket holds 20
# seconds of restore, i.e. 2000 points. These are only the assumption before the first answer
# for a shop: every answer's throttleStatus replaces them with the shop's real figures.
DEFAULT_BUCKET_SIZE = 2000.0
DEFAULT_RESTORE_RATE = 100.0

# Long enough to keep a shop's learned bucket between bursts of work, short enough that
# uninstalled shops do not pile up keys; an expired key only means the defaults apply again.
REDIS_KEY_TTL_SECONDS = 3600
REDIS_KEY_PREFIX = "shopify:bucket:"
# Refill is computed in floating point; a shortfall below this is rounding, not a wait.
ROUNDING_POINTS = 1e-6


@dataclass(frozen=True, slots=True)
class QueryCost:
    """`extensions.cost` of one answer."""

    requested: float
    actual: float | None
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_extensions(cls, extensions: Mapping[str, Any] | None) -> QueryCost | None:
        """Parse `extensions`; None when the answer carries no usable cost."""
        cost = (extensions or {}).get("cost")
        if not isinstance(cost, Mapping):
            return None
        status = cost.get("throttleStatus")
        if not isinstance(status, Mapping):
            return None
        try:
            actual = cost.get("actualQueryCost")
            return cls(
                requested=float(cost["requestedQueryCost"]),
                actual=None if actual is None else float(actual),
                maximum_available=float(status["maximumAvailable"]),
                currently_available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def throttled_wait(self) -> float:
        """Seconds until the bucket can pay the requested cost."""
        missing = self.requested - self.currently_available
        return max(0.0, missing / self.restore_rate) if self.restore_rate > 0 else 0.0


class CostBucket(Protocol):
    """The client's view of each shop's bucket."""

    def reserve(self, shop: str, cost: float) -> float:
        """Take `cost` points and return 0.0, or take nothing and return the seconds to wait."""
        ...

    def settle(self, shop: str, reserved: float, cost: QueryCost) -> None:
        """Refund `reserved - actual` and cap the estimate by the server's figures."""
        ...

    def pause(self, shop: str, seconds: float) -> None:
        """Make the bucket look empty for `seconds` (HTTP 429 with Retry-After)."""
        ...


@dataclass(slots=True)
class _State:
    available: float
    maximum: float
    rate: float
    at: float

    def refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self.at) * self.rate)
        self.at = now


class InMemoryBucket:
    """Thread-safe estimate for a single process (tests, the eager first-run mode)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[str, _State] = {}

    def _state(self, shop: str) -> _State:
        now = self._clock()
        state = self._states.get(shop)
        if state is None:
            state = _State(DEFAULT_BUCKET_SIZE, DEFAULT_BUCKET_SIZE, DEFAULT_RESTORE_RATE, now)
            self._states[shop] = state
        state.refill(now)
        return state

    def reserve(self, shop: str, cost: float) -> float:
        with self._lock:
            state = self._state(shop)
            cost = min(cost, state.maximum)
            if state.available + ROUNDING_POINTS < cost:
                return (cost - state.available) / state.rate
            state.available -= cost
            return 0.0

    def settle(self, shop: str, reserved: float, cost: QueryCost) -> None:
        refund = reserved - (cost.actual or 0.0)
        with self._lock:
            state = self._state(shop)
            state.available = min(state.available + refund, cost.currently_available)
            state.maximum = cost.maximum_available
            if cost.restore_rate > 0:
                state.rate = cost.restore_rate

    def pause(self, shop: str, seconds: float) -> None:
        with self._lock:
            state = self._state(shop)
            state.available = min(state.available, -seconds * state.rate)

    def available(self, shop: str) -> float:
        """The current estimate (for tests and logs)."""
        with self._lock:
            return self._state(shop).available


# Shared by the three scripts: the refilled state of KEYS[1] at Redis' own clock, so that
# workers on hosts with skewed clocks agree.
_LUA_STATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local s = redis.call('HMGET', KEYS[1], 'available', 'maximum', 'rate', 'at')
local maximum = tonumber(s[2]) or tonumber(ARGV[1])
local rate = tonumber(s[3]) or tonumber(ARGV[2])
local available = maximum
if s[1] then
  available = math.min(maximum, tonumber(s[1]) + (now - tonumber(s[4])) * rate)
end
local function save()
  redis.call('HSET', KEYS[1], 'available', tostring(available), 'maximum', tostring(maximum),
    'rate', tostring(rate), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
end
"""

# ARGV[4] = cost, ARGV[5] = ROUNDING_POINTS. Floats go back to Python as strings: Redis
# truncates Lua numbers to integers.
_LUA_RESERVE = (
    _LUA_STATE
    + """
local cost = math.min(tonumber(ARGV[4]), maximum)
if available + tonumber(ARGV[5]) < cost then
  return tostring((cost - available) / rate)
end
available = available - cost
save()
return '0'
"""
)

# ARGV[4] = refund, ARGV[5..7] = server's currentlyAvailable, maximumAvailable, restoreRate.
_LUA_SETTLE = (
    _LUA_STATE
    + """
available = math.min(available + tonumber(ARGV[4]), tonumber(ARGV[5]))
maximum = tonumber(ARGV[6])
if tonumber(ARGV[7]) > 0 then rate = tonumber(ARGV[7]) end
save()
return '0'
"""
)

# ARGV[4] = seconds.
_LUA_PAUSE = (
    _LUA_STATE
    + """
available = math.min(available, -tonumber(ARGV[4]) * rate)
save()
return '0'
"""
)


class RedisBucket:
    """Estimate shared by every worker process; each operation is one atomic Lua script."""

    def __init__(self, client: redis.Redis, *, key_prefix: str = REDIS_KEY_PREFIX) -> None:
        self._client = client
        self._prefix = key_prefix
        self._reserve = client.register_script(_LUA_RESERVE)
        self._settle = client.register_script(_LUA_SETTLE)
        self._pause = client.register_script(_LUA_PAUSE)

    def key(self, shop: str) -> str:
        return f"{self._prefix}{shop}"

    def _run(self, script: Any, shop: str, *args: float) -> float:
        defaults = (DEFAULT_BUCKET_SIZE, DEFAULT_RESTORE_RATE, REDIS_KEY_TTL_SECONDS)
        answer = script(keys=[self.key(shop)], args=[repr(float(a)) for a in defaults + args])
        return float(answer.decode() if isinstance(answer, bytes) else answer)

    def reserve(self, shop: str, cost: float) -> float:
        return self._run(self._reserve, shop, cost, ROUNDING_POINTS)

    def settle(self, shop: str, reserved: float, cost: QueryCost) -> None:
        refund = reserved - (cost.actual or 0.0)
        self._run(
            self._settle,
            shop,
            refund,
            cost.currently_available,
            cost.maximum_available,
            cost.restore_rate,
        )

    def pause(self, shop: str, seconds: float) -> None:
        self._run(self._pause, shop, seconds)
