"""A usable Admin API access token for a shop.

Placeholder for the fulfilment branch: the install branch brings the real module (refresh of
expiring tokens under a lock). This one only decrypts the stored token and never refreshes.
"""

from __future__ import annotations

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.errors import LoyaltyError
from shopify_loyalty.models import Shop
from shopify_loyalty.token_cipher import TokenCipher


class ShopNeedsReauthError(LoyaltyError):
    """The shop's tokens are gone or refused: only a new install (OAuth) brings them back."""

    status = 401
    code = "shop_needs_reauth"
    message = "The shop must re-authorise the app."


def fresh_access_token(db: Database, shop_id: int) -> str:
    """The shop's access token in clear.

    Raises ShopNeedsReauthError when the shop has no token, is uninstalled or needs reauth.
    """
    with db.unit_of_work() as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not shop.installed or shop.needs_reauth or not shop.access_token_enc:
            raise ShopNeedsReauthError()
        ciphertext = shop.access_token_enc
    # The placeholder reads the key from the environment, as create_app does by default.
    return TokenCipher(Settings.from_env().token_encryption_key).decrypt(ciphertext)


def force_refresh(db: Database, shop_id: int, rejected_token: str) -> str:
    """A new token after Shopify refused ``rejected_token``. Raises ShopNeedsReauthError."""
    raise ShopNeedsReauthError()
