"""``GET /healthz``: 200 when the database (and Redis and the broker, when configured)
answer, else 503."""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, jsonify
from kombu.connection import Connection
from sqlalchemy import text

from shopify_loyalty.api.context import database, settings

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)

# A health check must answer before the load balancer's own timeout gives up on it.
# (Redis and the broker alike.)
REDIS_TIMEOUT_SECONDS = 1.0


@blp.get("/healthz")
def healthz() -> Response:
    checks: dict[str, str] = {}
    try:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        log.warning("health: database unreachable: %s", exc)
        checks["database"] = "unreachable"
    redis_url = settings().redis_url
    if redis_url:
        try:
            client = redis.Redis.from_url(
                redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            client.ping()
            client.close()
            checks["redis"] = "ok"
        except Exception as exc:
            log.warning("health: redis unreachable: %s", exc)
            checks["redis"] = "unreachable"
    broker_url = settings().celery_broker_url
    if broker_url and broker_url != redis_url:
        checks["broker"] = _broker(broker_url)
    healthy = all(value == "ok" for value in checks.values())
    response = jsonify({"status": "ok" if healthy else "unavailable", "checks": checks})
    response.status_code = 200 if healthy else 503
    return response


def _broker(url: str) -> str:
    try:
        with Connection(url, connect_timeout=REDIS_TIMEOUT_SECONDS) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, timeout=REDIS_TIMEOUT_SECONDS)
        return "ok"
    except Exception as exc:
        log.warning("health: broker unreachable: %s", exc)
        return "unreachable"
