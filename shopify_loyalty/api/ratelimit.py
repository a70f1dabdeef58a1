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

from shopify_loyalty.api.context import PROXY_PREFIX, customer_claims, proxy_request
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
    code = str(args.get("code", "")).upper()
    return f"claims-of:{_claim_shop(args)}:{code}"


def _claim_shop(args: dict[str, object]) -> str:
    if "shop_domain" in args:
        return str(args["shop_domain"]).lower()
    try:  # behind the app proxy the shop is the signed one; an unsigned call is refused later
        return proxy_request().shop_domain
    except UnauthorizedError:
        return "unsigned"


def claimant_address() -> str:
    """The friend's address. Behind Shopify's app proxy every request comes from Shopify's
    servers, which pass the visitor's address in ``X-Forwarded-For``
    (https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies):
    keyed on Shopify's own address, one shop's guests would share ten claims an hour."""
    if (request.blueprint or "").startswith(PROXY_PREFIX):
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return get_remote_address()


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


def limit_earning(limiter: Limiter, storefront_earning: Blueprint,
                  *claims: Blueprint) -> None:
    """The storefront's limit on its earning part, and the claims' two limits (the public
    claim and its app proxy twin)."""
    limiter.limit(STOREFRONT_LIMIT, key_func=customer_key)(storefront_earning)
    for blueprint in claims:
        # POST only: a browser's CORS preflight before each claim must not count as a claim.
        limiter.limit(CLAIM_LIMIT_PER_ADDRESS, methods=["POST"],
                      key_func=lambda: f"claims-from:{claimant_address()}")(blueprint)
        limiter.limit(CLAIM_LIMIT_PER_CODE, methods=["POST"],
                      key_func=referral_code_key)(blueprint)
