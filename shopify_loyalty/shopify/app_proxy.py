"""Shopify's app proxy: requests a theme makes to ``https://{shop}/apps/loyalty/…`` reach us as
``{APP_URL}/proxy/…`` with ``shop``, ``logged_in_customer_id``, ``path_prefix``, ``timestamp``
and ``signature`` added to the query.

The signature is the hex HMAC-SHA256, with the app's secret, of every other query parameter
sorted by name and written ``key=value`` with nothing between them, a repeated key's values
joined by commas
(https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies).
It covers the query only: the body of a POST is the customer's input, validated like any other.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shopify_loyalty.shopify.oauth import valid_shop_domain

# Shopify signs each forwarded request afresh; an old one is a replay.
MAX_CLOCK_SKEW_SECONDS = 300


class ProxySignatureError(Exception):
    """Not a request Shopify forwarded (or not a recent one)."""


@dataclass(frozen=True)
class ProxyRequest:
    shop_domain: str
    # None for a guest: the theme shows a sign-in prompt.
    customer_id: int | None


def proxy_message(params: Iterable[tuple[str, Sequence[str]]]) -> str:
    return "".join(f"{key}={','.join(values)}"
                   for key, values in sorted(params) if key != "signature")


def sign_proxy_query(params: Iterable[tuple[str, Sequence[str]]], secret: str) -> str:
    return hmac.new(secret.encode(), proxy_message(params).encode(), hashlib.sha256).hexdigest()


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` is true of "²", which ``int`` cannot read."""
    return 0 < len(text) <= 20 and text.isascii() and text.isdigit()


def verify_proxy_query(params: Sequence[tuple[str, Sequence[str]]], secrets: Sequence[str],
                       now: float) -> ProxyRequest:
    """The shop and customer of a request Shopify forwarded. Raises ProxySignatureError."""
    values = dict(params)
    given = (values.get("signature") or [""])[0].encode()
    matched = False
    for secret in secrets:  # every secret, in constant time: the timing tells nothing
        matched |= hmac.compare_digest(sign_proxy_query(params, secret).encode(), given)
    if not given or not matched:
        raise ProxySignatureError("the app proxy signature does not match")
    stamp = (values.get("timestamp") or [""])[0]
    if not _digits(stamp) or abs(now - int(stamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise ProxySignatureError("the app proxy request is not recent")
    shop = valid_shop_domain((values.get("shop") or [""])[0])
    if shop is None:
        raise ProxySignatureError("the app proxy request names no shop")
    customer = (values.get("logged_in_customer_id") or [""])[0]
    if customer and not (_digits(customer) and 0 < int(customer) < 2**63):
        raise ProxySignatureError("logged_in_customer_id is not a customer id")
    return ProxyRequest(shop, int(customer) if customer else None)
