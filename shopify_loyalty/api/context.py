"""What every request needs: the database, the settings, and the signed-in customer."""

from __future__ import annotations

from flask import current_app, request

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database
from shopify_loyalty.errors import UnauthorizedError
from shopify_loyalty.shopify.auth import CustomerClaims, SessionTokenError, decode_customer_token


def database() -> Database:
    db: Database = current_app.extensions["loyalty_db"]
    return db


def settings() -> Settings:
    value: Settings = current_app.extensions["loyalty_settings"]
    return value


def customer_claims() -> CustomerClaims:
    """The customer session token's claims. Raises UnauthorizedError."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Send the customer session token as 'Authorization: Bearer …'.")
    config = settings()
    try:
        return decode_customer_token(
            token.strip(), api_key=config.shopify_api_key, secrets=config.api_secrets
        )
    except SessionTokenError as exc:
        raise UnauthorizedError(f"Invalid session token: {exc}.") from exc
