"""Per-shop keys for the external API. Only a key's SHA-256 is stored; the key is shown once.

A plain SHA-256 (not a slow password hash) is right here: the keys are 256 random bits, so
there is nothing to brute-force, and every external request must look one up quickly.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError, UnauthorizedError, ValidationError
from shopify_loyalty.models import ApiKey, Shop

KEY_PREFIX = "lk_"
MAX_NAME = 255


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, shop: Shop, name: str | None) -> tuple[ApiKey, str]:
    """A new key for the shop: (row, the key itself, to show once). Raises ValidationError."""
    if name is not None and len(name) > MAX_NAME:
        raise ValidationError(errors={"name": [f"At most {MAX_NAME} characters."]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(shop_id=shop.id, name=name, key_hash=key_hash(key),
                 key_hint=f"{key[:3]}…{key[-4:]}")
    session.add(row)
    session.flush()
    return row, key


def list_keys(session: Session, shop: Shop) -> Sequence[ApiKey]:
    return session.scalars(
        select(ApiKey).where(ApiKey.shop_id == shop.id).order_by(ApiKey.id)
    ).all()


def revoke_key(session: Session, shop: Shop, key_id: int, now: datetime) -> ApiKey:
    """Revoke one of the shop's keys (again is a no-op). Raises NotFoundError."""
    row = session.get(ApiKey, key_id)
    if row is None or row.shop_id != shop.id:
        raise NotFoundError("No such API key.")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def shop_for_key(session: Session, key: str) -> Shop:
    """The installed shop whose live key this is. Raises UnauthorizedError."""
    row = session.scalars(
        select(ApiKey).where(ApiKey.key_hash == key_hash(key), ApiKey.revoked_at.is_(None))
    ).first()
    shop = session.get(Shop, row.shop_id) if row is not None else None
    if shop is None or not shop.installed:
        raise UnauthorizedError("Unknown or revoked API key.")
    return shop
