"""OAuth with Shopify: the install URL, callback checks, signed state, token endpoint calls.

No ORM here: callers store what these functions return. Shopify's flow:
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant
Expiring offline tokens (``expiring=1``: a 60-minute access token and a rotating refresh
token): https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens
Token exchange (App Bridge session token, or a legacy token to migrate):
https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/token-exchange
and https://shopify.dev/docs/apps/build/authentication-authorization/migrate-to-expiring-offline-access-tokens
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from shopify.utils.shop_url import sanitize_shop_domain

from shopify_loyalty.errors import ShopifyUnavailableError

# (connect, read) seconds: a token call is one small POST; a worker must not hang on it.
TOKEN_TIMEOUT = (3.05, 10.0)
# Long enough for a merchant to read the permission screen, short enough that a leaked
# state is useless soon after.
STATE_TTL = timedelta(minutes=10)
# Shopify signs the callback's timestamp; an older callback is a replay.
CALLBACK_MAX_AGE = timedelta(minutes=10)
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE_TOKEN_TYPE = "urn:shopify:params:oauth:token-type:offline-access-token"


class OAuthCheckError(ValueError):
    """A callback parameter (HMAC, state, timestamp, shop) does not hold."""


class TokenRefusedError(Exception):
    """The token endpoint refused the grant (4xx): the code, refresh token or subject is dead."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    scope: str | None
    # None for a legacy non-expiring token.
    expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None


@dataclass(frozen=True)
class AppCredentials:
    api_key: str
    secrets: tuple[str, ...]  # current first, then the old one during a rotation
    admin_base_url: str  # "https://{shop}" or a local stand-in

    @property
    def secret(self) -> str:
        return self.secrets[0]

    def admin_url(self, shop_domain: str, path: str) -> str:
        return self.admin_base_url.format(shop=shop_domain).rstrip("/") + path


def valid_shop_domain(value: str | None) -> str | None:
    """``value`` if it is a bare ``*.myshopify.com`` host (ShopifyAPI's check), else None."""
    if not value or value != value.strip() or "/" in value or ":" in value:
        return None
    domain = value.lower()
    if not domain.endswith(".myshopify.com"):
        return None
    return domain if sanitize_shop_domain(domain) == domain else None


def authorize_url(app: AppCredentials, shop_domain: str, scopes: str, redirect_uri: str,
                  state: str) -> str:
    query = urlencode({
        "client_id": app.api_key,
        "scope": scopes,
        "redirect_uri": redirect_uri,
        "state": state,
    })
    return app.admin_url(shop_domain, "/admin/oauth/authorize") + "?" + query


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _state_mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())


def sign_state(secret: str, shop_domain: str, now: datetime) -> tuple[str, str]:
    """A state bound to the shop and expiring in STATE_TTL; returns (state, nonce)."""
    nonce = secrets.token_urlsafe(18)
    expires = int((now + STATE_TTL).timestamp())
    body = f"{nonce}.{expires}.{_b64(shop_domain.encode())}"
    return f"{body}.{_state_mac(secret, body)}", nonce


def verify_state(state: str, secrets_: Sequence[str], shop_domain: str, now: datetime) -> str:
    """The state's nonce, once its signature, shop and expiry hold. Raises OAuthCheckError."""
    parts = state.split(".")
    if len(parts) != 4:
        raise OAuthCheckError("malformed state")
    nonce, expires, shop_b64, mac = parts
    body = f"{nonce}.{expires}.{shop_b64}"
    if not any(hmac.compare_digest(mac, _state_mac(s, body)) for s in secrets_):
        raise OAuthCheckError("state signature does not match")
    if shop_b64 != _b64(shop_domain.encode()):
        raise OAuthCheckError("state was issued for another shop")
    if not expires.isdigit() or int(expires) < now.timestamp():
        raise OAuthCheckError("state has expired")
    return nonce


def query_hmac_valid(params: Mapping[str, str], secrets_: Sequence[str]) -> bool:
    """Shopify's HMAC over the other query parameters, sorted, as ``k=v`` joined by ``&``.

    https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant#step-1-verify-the-installation-request
    """
    given = params.get("hmac")
    if not given:
        return False
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    for secret in secrets_:
        digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(digest, given.lower()):
            return True
    return False


def check_timestamp(value: str | None, now: datetime) -> None:
    """Raises OAuthCheckError for a missing, stale or future callback timestamp."""
    if not value or not value.isdigit():
        raise OAuthCheckError("timestamp missing")
    age = now.timestamp() - int(value)
    if age > CALLBACK_MAX_AGE.total_seconds() or age < -60:
        raise OAuthCheckError("timestamp is too old or in the future")


def _token_set(body: Any, now: datetime) -> TokenSet:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise ShopifyUnavailableError("Shopify's token answer has no access_token.")

    def when(seconds: Any) -> datetime | None:
        return now + timedelta(seconds=int(seconds)) if seconds else None

    return TokenSet(
        access_token=body["access_token"],
        scope=body.get("scope"),
        expires_at=when(body.get("expires_in")),
        refresh_token=body.get("refresh_token"),
        refresh_token_expires_at=when(body.get("refresh_token_expires_in")),
    )


def _post_token(app: AppCredentials, shop_domain: str, form: dict[str, str],
                now: datetime) -> TokenSet:
    """Raises TokenRefusedError (4xx), ShopifyUnavailableError (network, 5xx, bad body)."""
    data = {"client_id": app.api_key, "client_secret": app.secret, **form}
    try:
        response = requests.post(
            app.admin_url(shop_domain, "/admin/oauth/access_token"),
            data=data, headers={"Accept": "application/json"}, timeout=TOKEN_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise ShopifyUnavailableError(f"token endpoint unreachable: {exc}") from exc
    if 400 <= response.status_code < 500 and response.status_code != 429:
        raise TokenRefusedError(f"{response.status_code}: {response.text[:200]}")
    if response.status_code != 200:
        raise ShopifyUnavailableError(f"token endpoint answered {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ShopifyUnavailableError("token endpoint answered non-JSON") from exc
    return _token_set(body, now)


def exchange_code(app: AppCredentials, shop_domain: str, code: str, now: datetime) -> TokenSet:
    """The callback's code for an expiring offline token pair."""
    return _post_token(app, shop_domain, {"code": code, "expiring": "1"}, now)


def refresh(app: AppCredentials, shop_domain: str, refresh_token: str,
            now: datetime) -> TokenSet:
    """A new pair for the refresh token; Shopify rotates the refresh token each time."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _post_token(app, shop_domain, form, now)


def exchange_session_token(app: AppCredentials, shop_domain: str, session_token: str,
                           now: datetime) -> TokenSet:
    """An expiring offline pair for an App Bridge session token (embedded first request)."""
    return _post_token(app, shop_domain, {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": session_token,
        "subject_token_type": ID_TOKEN_TYPE,
        "requested_token_type": OFFLINE_TOKEN_TYPE,
        "expiring": "1",
    }, now)


def migrate_legacy_token(app: AppCredentials, shop_domain: str, legacy_token: str,
                         now: datetime) -> TokenSet:
    """An expiring pair for a non-expiring offline token (the old token becomes invalid)."""
    return _post_token(app, shop_domain, {
        "grant_type": TOKEN_EXCHANGE_GRANT,
        "subject_token": legacy_token,
        "subject_token_type": OFFLINE_TOKEN_TYPE,
        "requested_token_type": OFFLINE_TOKEN_TYPE,
        "expiring": "1",
    }, now)
