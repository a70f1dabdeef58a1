"""Settings read from the environment. No logic beyond parsing."""

from __future__ import annotations

import os
from dataclasses import dataclass

# A fixed development key so that a first run needs no setup; create_app warns loudly when it
# is in use, because anyone who reads this file can decrypt tokens stored with it.
DEV_TOKEN_ENCRYPTION_KEY = "ZGV2LW9ubHktbm90LWEtc2VjcmV0LWRldi1vbmx5LSE="
DEV_API_KEY = "dev-api-key"
DEV_API_SECRET = "dev-api-secret-not-for-production-0000"
DEFAULT_SCOPES = (
    "read_customers,write_customers,read_orders,write_discounts,write_store_credit_account_transactions"
)
# How long a task sent to the broker (or started by a worker) may take before the outbox relay
# takes it to be lost and sends it again. Longer than one fulfilment run (bounded to less than
# this, see services.rewards.fulfilment); with the relay's 5 s beat a lost task runs again
# within this + 5 s, under the 2-minute recovery bound. Tests shorten it.
DEFAULT_TASK_LEASE_SECONDS = 90


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _whole(name: str, default: int) -> int:
    value = _env(name)
    if value is None:
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of seconds, not {value!r}")
    return int(value)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///loyalty.db"
    redis_url: str | None = None
    # The Celery broker: Redis or RabbitMQ (amqp://); by default the Redis of REDIS_URL.
    celery_broker_url: str | None = None
    celery_queue: str = "celery"
    # Outbound event deliveries have their own queue, so that fulfilment never waits behind
    # a merchant's slow endpoint (see the README's events-out section for its worker).
    events_queue: str = "events"
    # Development and tests only: http:// and private addresses allowed for endpoints.
    event_endpoints_allow_private: bool = False
    # Attempts in flight at once to one endpoint, across every worker: a quarter of the
    # recommended 32-thread events worker, so a dead endpoint leaves three quarters free.
    event_endpoint_concurrency: int = 8
    task_lease_seconds: int = DEFAULT_TASK_LEASE_SECONDS
    shopify_api_key: str = DEV_API_KEY
    shopify_api_secret: str = DEV_API_SECRET
    shopify_api_secret_old: str | None = None
    shopify_scopes: str = DEFAULT_SCOPES
    shopify_api_version: str = "2026-10"
    shopify_admin_base_url: str = "https://{shop}"
    app_url: str = "http://127.0.0.1:5000"
    token_encryption_key: str = DEV_TOKEN_ENCRYPTION_KEY
    ratelimit_enabled: bool = True
    log_format: str = "json"

    @property
    def broker_url(self) -> str | None:
        return self.celery_broker_url or self.redis_url

    @property
    def tasks_eager(self) -> bool:
        """Without a broker, tasks run in-process right after the commit that queued them."""
        return self.broker_url is None

    @property
    def api_secrets(self) -> tuple[str, ...]:
        """The secrets a token or webhook may be signed with: current first, then the old one."""
        if self.shopify_api_secret_old:
            return (self.shopify_api_secret, self.shopify_api_secret_old)
        return (self.shopify_api_secret,)

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            database_url=_env("DATABASE_URL", cls.database_url) or cls.database_url,
            redis_url=_env("REDIS_URL"),
            celery_broker_url=_env("CELERY_BROKER_URL"),
            celery_queue=_env("CELERY_QUEUE", cls.celery_queue) or cls.celery_queue,
            events_queue=_env("EVENTS_QUEUE", cls.events_queue) or cls.events_queue,
            event_endpoints_allow_private=_flag("EVENT_ENDPOINTS_ALLOW_PRIVATE", False),
            event_endpoint_concurrency=_whole("EVENT_ENDPOINT_CONCURRENCY", 8),
            task_lease_seconds=_whole("TASK_LEASE_SECONDS", DEFAULT_TASK_LEASE_SECONDS),
            shopify_api_key=_env("SHOPIFY_API_KEY", DEV_API_KEY) or DEV_API_KEY,
            shopify_api_secret=_env("SHOPIFY_API_SECRET", DEV_API_SECRET) or DEV_API_SECRET,
            shopify_api_secret_old=_env("SHOPIFY_API_SECRET_OLD"),
            shopify_scopes=_env("SHOPIFY_SCOPES", DEFAULT_SCOPES) or DEFAULT_SCOPES,
            shopify_api_version=_env("SHOPIFY_API_VERSION", "2026-10") or "2026-10",
            shopify_admin_base_url=_env("SHOPIFY_ADMIN_BASE_URL", "https://{shop}")
            or "https://{shop}",
            app_url=(_env("APP_URL", cls.app_url) or cls.app_url).rstrip("/"),
            token_encryption_key=_env("TOKEN_ENCRYPTION_KEY", DEV_TOKEN_ENCRYPTION_KEY)
            or DEV_TOKEN_ENCRYPTION_KEY,
            ratelimit_enabled=_flag("RATELIMIT_ENABLED", True),
            log_format=(_env("LOG_FORMAT", "json") or "json").lower(),
        )
