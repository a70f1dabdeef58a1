"""Finding a shop by its domain (the CLI and operator commands name shops this way)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.errors import NotFoundError
from shopify_loyalty.models import Shop


def shop_by_domain(session: Session, domain: str) -> Shop:
    """Any shop with this domain, installed or not. Raises NotFoundError."""
    shop = session.scalars(select(Shop).where(Shop.domain == domain)).first()
    if shop is None:
        raise NotFoundError(f"No shop {domain}.")
    return shop
