"""Rate limits: storefront 60 a minute per customer, external 20 a
second per API key (LoyaltyLion's figure), referral claims per address and per code, on
Redis, or in memory without ``REDIS_URL``.

The limiter fails open: if Redis is unreachable the request goes through and the error is
logged (``swallow_errors``), so an outage of Redis never blocks a redemption.
"""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from shopify_loyalty.api.context import customer_claims
from shopify_loyalty.config import Settings
from shopify_loyalty.errors import UnauthorizedError

STOREFRONT_LIMIT = "60/minute"
EXTERNAL_LIMIT = "20/second"
# A referral claim makes a discount code for whoever asks: one address may claim a few
# (a household, a shared office), not a code book; one referrer's link may bring many
# friends a day, not thousands. (Behind a proxy, set the app up to see the client's address.)
CLAIM_LIMIT_PER_ADDRESS = "10/hour"
CLAIM_LIMIT_PER_CODE = "50/day"
# A limit check must not hold a request up when Redis is slow; on timeout it fails open.
REDIS_TIMEOUT_SECONDS = 0.5


def customer_key() -> str:
    """The signed-in customer; a request without a valid token is limited by address."""
    try:
        claims = customer_claims()
    except UnauthorizedError:
        return f"addr:{get_remote_address()}"
    return f"customer:{claims.shop_domain}:{claims.customer_id}"


def api_key_key() -> str:
    key = request.headers.get("X-API-Key", "")
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:32]


def referral_code_key() -> str:
    args = request.view_args or {}
    shop, code = str(args.get("shop_domain", "")).lower(), str(args.get("code", "")).upper()
    return f"claims-of:{shop}:{code}"


def init_limiter(app: Flask, settings: Settings, storefront: Blueprint,
                 external: Blueprint) -> Limiter:
    """Attach the limiter and its limits to the two blueprints (before registration)."""
    app.config.update(
        RATELIMIT_ENABLED=settings.ratelimit_enabled,
        RATELIMIT_STORAGE_URI=settings.redis_url or "memory://",
        RATELIMIT_STORAGE_OPTIONS=(
            {"socket_timeout": REDIS_TIMEOUT_SECONDS,
             "socket_connect_timeout": REDIS_TIMEOUT_SECONDS} if settings.redis_url else {}
        ),
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="loyalty",
    )
    limiter = Limiter(key_func=get_remote_address, app=app)
    limiter.limit(STOREFRONT_LIMIT, key_func=customer_key)(storefront)
    limiter.limit(EXTERNAL_LIMIT, key_func=api_key_key)(external)
    return limiter


def limit_earning(limiter: Limiter, storefront_earning: Blueprint, claims: Blueprint) -> None:
    """The storefront's limit on its earning part, and the claim's two limits."""
    limiter.limit(STOREFRONT_LIMIT, key_func=customer_key)(storefront_earning)
    # POST only: a browser's CORS preflight before each claim must not count as a claim.
    limiter.limit(CLAIM_LIMIT_PER_ADDRESS, methods=["POST"],
                  key_func=lambda: f"claims-from:{get_remote_address()}")(claims)
    limiter.limit(CLAIM_LIMIT_PER_CODE, methods=["POST"], key_func=referral_code_key)(claims)
