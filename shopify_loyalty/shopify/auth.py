"""Shopify session tokens (JWT, HS256 signed with the app's client secret).

A customer-account UI extension or theme widget sends a customer session token: ``aud`` is
the app's API key, ``dest`` the shop domain (with or without ``https://``), ``sub`` the
customer GID. See https://shopify.dev/docs/api/customer-account-ui-extensions (session
token) and https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens.
"""

from __future__ import annotations

import re
import secrets as secrets_module
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from shopify.utils.shop_url import sanitize_shop_domain

# Shopify's clocks and ours may disagree by a few seconds.
LEEWAY_SECONDS = 10
_CUSTOMER_GID = re.compile(r"^gid://shopify/Customer/([1-9][0-9]{0,18})$")


class SessionTokenError(ValueError):
    """The token is missing, forged, expired, or lacks a claim we need."""


@dataclass(frozen=True)
class CustomerClaims:
    shop_domain: str
    customer_id: int


def shop_domain_from_dest(dest: str) -> str:
    domain = dest.strip().lower()
    for prefix in ("https://", "http://"):
        if domain.startswith(prefix):
            domain = domain[len(prefix) :]
    return domain.rstrip("/")


def _verified(
    token: str, api_key: str, secrets: Sequence[str], required: list[str]
) -> dict[str, Any]:
    """The claims of an HS256 token signed with any of ``secrets``. Raises SessionTokenError."""
    for secret in secrets:
        try:
            payload: dict[str, Any] = jwt.decode(
                token, secret, algorithms=["HS256"], audience=api_key, leeway=LEEWAY_SECONDS,
                options={"require": required},
            )
            return payload
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise SessionTokenError(str(exc)) from exc
    raise SessionTokenError("signature verification failed")


def decode_customer_token(token: str, *, api_key: str, secrets: Sequence[str]) -> CustomerClaims:
    """Verify a customer session token against the current and the old app secret.

    Raises SessionTokenError.
    """
    payload = _verified(token, api_key, secrets, ["exp", "aud", "sub", "dest"])
    match = _CUSTOMER_GID.match(str(payload["sub"]))
    if match is None:
        raise SessionTokenError("sub is not a customer GID")
    dest = payload["dest"]
    if not isinstance(dest, str) or not dest.strip():
        raise SessionTokenError("dest is not a shop domain")
    return CustomerClaims(shop_domain=shop_domain_from_dest(dest), customer_id=int(match[1]))


def issue_customer_token(
    shop_domain: str, customer_id: int, *, api_key: str, secret: str, ttl: int = 3600
) -> str:
    """A customer session token as Shopify would sign it, for local testing and widgets."""
    now = int(time.time())
    payload = {
        "iss": f"https://{shop_domain}",
        "dest": f"https://{shop_domain}",
        "aud": api_key,
        "sub": f"gid://shopify/Customer/{customer_id}",
        "exp": now + ttl,
        "nbf": now,
        "iat": now,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


@dataclass(frozen=True)
class AdminClaims:
    shop_domain: str
    user_id: str | None


def decode_admin_token(token: str, *, api_key: str, secrets: Sequence[str]) -> AdminClaims:
    """Verify an App Bridge session token (embedded admin) against the current and old secret.

    HS256 only (``alg: none`` and others are refused), ``aud`` is our API key, ``iss`` is
    ``https://<shop>/admin`` on the same host as ``dest``, and the host is a myshopify.com
    domain (ShopifyAPI's check). Shopify issues these for one minute; ``exp`` and ``nbf``
    are enforced with LEEWAY_SECONDS.
    https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens
    Raises SessionTokenError.
    """
    payload = _verified(token, api_key, secrets, ["exp", "nbf", "aud", "iss", "dest"])
    iss, dest = payload["iss"], payload["dest"]
    if not isinstance(iss, str) or not isinstance(dest, str):
        raise SessionTokenError("iss and dest must be URLs")
    try:
        issuer_host = urlsplit(iss).hostname or ""
        dest_host = urlsplit(dest).hostname or ""
        shop_host = sanitize_shop_domain(dest_host)
    except ValueError as exc:
        # urlsplit refuses malformed URLs ("https://[::1", ports out of range): not ours.
        raise SessionTokenError("iss and dest must be plain URLs") from exc
    if not issuer_host or issuer_host != dest_host:
        raise SessionTokenError("iss and dest name different hosts")
    if shop_host != dest_host:
        raise SessionTokenError("dest is not a myshopify.com shop")
    sub = payload.get("sub")
    return AdminClaims(shop_domain=dest_host, user_id=str(sub) if sub is not None else None)


def issue_admin_token(shop_domain: str, *, api_key: str, secret: str, ttl: int = 60,
                      **overrides: object) -> str:
    """An App Bridge session token as Shopify would sign it (tests, local development)."""
    now = int(time.time())
    payload: dict[str, object] = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": api_key,
        "sub": "42",
        "exp": now + ttl,
        "nbf": now,
        "iat": now,
        "jti": secrets_module.token_hex(8),
        "sid": secrets_module.token_hex(8),
    }
    payload.update(overrides)
    return jwt.encode(payload, secret, algorithm="HS256")
