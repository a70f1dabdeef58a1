"""Shopify session tokens (JWT, HS256 signed with the app's client secret).

A customer-account UI extension or theme widget sends a customer session token: ``aud`` is
the app's API key, ``dest`` the shop domain (with or without ``https://``), ``sub`` the
customer GID. See https://shopify.dev/docs/api/customer-account-ui-extensions (session
token) and https://shopify.dev/docs/apps/build/authentication-authorization/session-tokens.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

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


def decode_customer_token(token: str, *, api_key: str, secrets: Sequence[str]) -> CustomerClaims:
    """Verify a customer session token against the current and the old app secret.

    Raises SessionTokenError.
    """
    payload = None
    for secret in secrets:
        try:
            payload = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=api_key,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "aud", "sub", "dest"]},
            )
            break
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise SessionTokenError(str(exc)) from exc
    if payload is None:
        raise SessionTokenError("signature verification failed")
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
