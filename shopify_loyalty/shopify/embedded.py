"""Where the app lives inside the Shopify admin.

After an install, the merchant is sent to the app's page in their admin,
``https://{decoded host}/apps/{api key}``, as Shopify's libraries do (shopify-api-js
``getEmbeddedAppUrl``, ShopifyAPI::Auth.embedded_app_url). ``host`` is the base64 admin host
Shopify adds to the (signed) callback; an unexpected one falls back to the shop's own admin
URL, which Shopify redirects to the same place.
"""

from __future__ import annotations

import base64
import binascii
import re

_ADMIN_HOST = re.compile(
    r"^(admin\.shopify\.com/store/[a-z0-9][a-z0-9-]*|[a-z0-9][a-z0-9-]*\.myshopify\.com/admin)$"
)


def admin_host(host: str | None) -> str | None:
    """The decoded admin host if it is Shopify's, else None."""
    if not host:
        return None
    try:
        decoded = base64.b64decode(host + "=" * (-len(host) % 4), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if _ADMIN_HOST.match(decoded) else None


def app_url(shop_domain: str, host: str | None, api_key: str) -> str:
    """The app's page in the shop's admin."""
    base = admin_host(host) or f"{shop_domain}/admin"
    return f"https://{base}/apps/{api_key}"
