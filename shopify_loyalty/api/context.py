"""What every request needs: the database, the settings, and who is calling (a customer,
the embedded admin of a shop, or a shop's external API key)."""

from __future__ import annotations

import hmac
import time

from flask import current_app, g, request
from sqlalchemy import select

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.errors import ForbiddenError, UnauthorizedError
from shopify_loyalty.models import AdminSession, Shop
from shopify_loyalty.services.shops import admin_sessions, api_keys, installation
from shopify_loyalty.shopify import oauth
from shopify_loyalty.shopify.app_proxy import ProxyRequest, ProxySignatureError, verify_proxy_query
from shopify_loyalty.shopify.auth import (
    CustomerClaims,
    SessionTokenError,
    decode_admin_token,
    decode_customer_token,
)

# The standalone admin's session cookie (api.admin_ui.sign_in sets it) and the header its
# page sends the CSRF token in.
ADMIN_COOKIE = "loyalty_admin"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def database() -> Database:
    db: Database = current_app.extensions["loyalty_db"]
    return db


def settings() -> Settings:
    value: Settings = current_app.extensions["loyalty_settings"]
    return value


# The storefront API is served twice: at /loyalty/cp/api with a customer session token, and
# under these blueprint names at /proxy/cp/api for Shopify's app proxy (create_app).
PROXY_PREFIX = "proxy_"


def proxy_name(storefront_blueprint: str) -> str:
    return PROXY_PREFIX + storefront_blueprint


def customer_claims() -> CustomerClaims:
    """Who is calling the storefront API, verified once a request: the session token's
    customer, or through the app proxy the customer Shopify signed for. Raises
    UnauthorizedError.

    The rate limiter and the view both need them; a token is checked once.
    """
    claims: CustomerClaims | None = g.get("customer_claims")
    if claims is None:
        proxied = (request.blueprint or "").startswith(PROXY_PREFIX)
        verify = _verify_proxy if proxied else _verify_customer_token
        claims = g.customer_claims = verify()
    return claims


def proxy_request() -> ProxyRequest:
    """The app proxy's signed shop and customer (None for a guest). Raises UnauthorizedError."""
    found: ProxyRequest | None = g.get("proxy_request")
    if found is None:
        try:
            found = verify_proxy_query(list(request.args.lists()), settings().api_secrets,
                                       time.time())
        except ProxySignatureError as exc:
            raise UnauthorizedError(f"Not a request from the shop's app proxy: {exc}.") from exc
        g.proxy_request = found
    return found


def _verify_proxy() -> CustomerClaims:
    found = proxy_request()
    if found.customer_id is None:
        raise UnauthorizedError("Sign in to the shop to see your points.")
    return CustomerClaims(shop_domain=found.shop_domain, customer_id=found.customer_id)


def _verify_customer_token() -> CustomerClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Send the customer session token as 'Authorization: Bearer …'.")
    config = settings()
    try:
        return decode_customer_token(
            token.strip(), api_key=config.shopify_api_key, secrets=config.api_secrets
        )
    except SessionTokenError as exc:
        raise UnauthorizedError(f"Invalid session token: {exc}.") from exc


def bearer_token() -> str:
    """Raises UnauthorizedError."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Send the session token as 'Authorization: Bearer …'.")
    return token.strip()


def admin_shop_id() -> int:
    """The admin's shop: from the App Bridge session token (``Authorization: Bearer``), or,
    in the standalone admin of a self-hosted shop, from its session cookie.

    Raises UnauthorizedError, ForbiddenError (a cookie call without its CSRF token),
    ShopifyUnavailableError.
    """
    if "admin_shop_id" in g:
        return int(g.admin_shop_id)
    if "Authorization" not in request.headers and ADMIN_COOKIE in request.cookies:
        shop_id = _shop_from_admin_cookie()
    else:
        shop_id = _shop_from_session_token()
    g.admin_shop_id = shop_id
    return shop_id


def admin_cookie_session() -> AdminSession | None:
    """The live standalone-admin session of this request's cookie, if any."""
    token = request.cookies.get(ADMIN_COOKIE)
    if not token:
        return None
    with database().unit_of_work() as session:
        try:
            row = admin_sessions.session_for(session, token, utcnow())
        except UnauthorizedError:
            return None
        session.expunge(row)
        return row


def _shop_from_admin_cookie() -> int:
    """A cookie travels with any request the browser makes, so every call that changes
    something must also carry the page's CSRF token (SameSite=Lax stops most cross-site
    posts already; the token stops the rest)."""
    with database().unit_of_work() as session:
        row = admin_sessions.session_for(session, request.cookies[ADMIN_COOKIE], utcnow())
        shop_id, csrf = row.shop_id, row.csrf_token
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf.encode()):
            raise ForbiddenError(f"Send the page's CSRF token as '{CSRF_HEADER}'.")
    return shop_id


def _shop_from_session_token() -> int:
    """The embedded admin's shop, from its App Bridge session token.

    A shop with no usable stored token gets one by token exchange on this first request
    (https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange).
    Raises UnauthorizedError, ShopifyUnavailableError.
    """
    token = bearer_token()
    config = settings()
    try:
        claims = decode_admin_token(token, api_key=config.shopify_api_key,
                                    secrets=config.api_secrets)
    except SessionTokenError as exc:
        raise UnauthorizedError(f"Invalid session token: {exc}.") from exc
    db = database()
    with db.unit_of_work() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == claims.shop_domain)).first()
        ready = shop is not None and shop.installed and shop.access_token_enc is not None \
            and not shop.needs_reauth
        shop_id = shop.id if shop is not None and ready else None
    if shop_id is None:
        try:
            shop_id = installation.install_by_token_exchange(
                db, claims.shop_domain, token, utcnow()
            )
        except oauth.TokenRefusedError as exc:
            raise UnauthorizedError("Shopify refused the session token.") from exc
    return shop_id


def external_shop_id() -> int:
    """The shop whose ``X-API-Key`` this is. Raises UnauthorizedError."""
    key = request.headers.get("X-API-Key", "").strip()
    if not key:
        raise UnauthorizedError("Send your API key as 'X-API-Key'.")
    with database().unit_of_work() as session:
        return api_keys.shop_for_key(session, key).id
