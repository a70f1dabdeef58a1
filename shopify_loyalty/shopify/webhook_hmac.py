"""Shopify webhook signatures: HMAC-SHA256 of the raw body, base64, with the app secret.

Verified over the bytes as received, before any parsing: re-serialised JSON would not match.
A rotated secret keeps working while ``SHOPIFY_API_SECRET_OLD`` is set.
See https://shopify.dev/docs/apps/build/webhooks/subscribe/https (verify the webhook).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence


def sign_webhook(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value Shopify sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_webhook(body: bytes, signature: str | None, secrets: Sequence[str]) -> bool:
    """True when ``signature`` is ``body``'s signature under one of ``secrets``.

    Compared in constant time, and against every secret, so that the answer's timing says
    nothing about which secret (or how much of the signature) matched.
    """
    if not signature:
        return False
    given = signature.strip().encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(sign_webhook(body, secret).encode(), given)
    return matched
