"""A shop's public links on this app: the referral link and where it lands.

Pure functions (no database), so any package can build them: the storefront's loyalty
info, the referrals list, the Shopify customer sync.
"""

from __future__ import annotations

from urllib.parse import quote

# The storefront query parameter a referral link lands with (the widget reads it).
REFERRAL_PARAMETER = "loyalty_ref"


def referral_link(app_url: str, shop_domain: str, code: str) -> str:
    """``{APP_URL}/r/{shop domain}/{code}``: the link a customer shares."""
    return f"{app_url.rstrip('/')}/r/{quote(shop_domain)}/{quote(code)}"


def referral_landing(shop_domain: str, code: str) -> str:
    """The shop's storefront, where the referral link redirects."""
    return f"https://{shop_domain}/?{REFERRAL_PARAMETER}={quote(code)}"
