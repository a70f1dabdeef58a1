"""Installing the app on a shop: OAuth callback or token exchange, then the shop's record.

The Shopify calls run before the one short transaction that stores the result, so no
transaction waits on Shopify, and a failed call stores nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.errors import ShopifyUnavailableError
from shopify_loyalty.models import FulfillmentStatus, Reward, Shop
from shopify_loyalty.services import outbox
from shopify_loyalty.services.shops.tokens import context_of, store_tokens
from shopify_loyalty.shopify import install_calls, oauth
from shopify_loyalty.token_cipher import TokenCipher


def record_install(session: Session, domain: str, tokens: oauth.TokenSet, cipher: TokenCipher,
                   info: install_calls.ShopInfo | None, now: datetime) -> Shop:
    """Create or update the shop with its new tokens; a re-install clears the uninstalled
    and needs-reauth marks and queues the rewards that waited for it."""
    shop = session.scalars(select(Shop).where(Shop.domain == domain)).first()
    if shop is None:
        shop = Shop(domain=domain, installed_at=now, settings={})
        session.add(shop)
    elif not shop.installed:
        shop.installed_at = now
    store_tokens(shop, tokens, cipher)
    shop.uninstalled_at = None
    if info is not None:
        shop.name = info.name
        shop.currency = info.currency
        shop.iana_timezone = info.iana_timezone or shop.iana_timezone
    session.flush()
    waiting = session.scalars(
        select(Reward.id).where(
            Reward.shop_id == shop.id, Reward.fulfillment_status == FulfillmentStatus.PENDING
        ).order_by(Reward.id)
    ).all()
    for reward_id in waiting:
        outbox.enqueue(session, shop.id, outbox.FULFIL_REWARD, reward_id)
    return shop


def complete_install(db: Database, domain: str, code: str, webhook_url: str,
                     now: datetime) -> int:
    """Exchange the callback's code, read the shop, subscribe the webhooks, define the
    sync's customer metafields, store; the shop id.

    Raises oauth.TokenRefusedError (a bad or used code), ShopifyUnavailableError.
    """
    ctx = context_of(db)
    tokens = oauth.exchange_code(ctx.app, domain, code, now)
    try:
        info = install_calls.shop_info(ctx.admin, domain, tokens.access_token)
        for topic in install_calls.WEBHOOK_TOPICS:
            install_calls.create_webhook_subscription(
                ctx.admin, domain, tokens.access_token, topic, webhook_url
            )
        install_calls.create_metafield_definitions(ctx.admin, domain, tokens.access_token)
    except (install_calls.AdminCallError, install_calls.AdminUnauthorizedError) as exc:
        # Nothing is stored: the merchant installs again once Shopify accepts the calls.
        raise ShopifyUnavailableError(f"Shopify refused an install call: {exc}") from exc
    with db.unit_of_work() as session:
        return record_install(session, domain, tokens, ctx.cipher, info, now).id


def install_by_token_exchange(db: Database, domain: str, session_token: str,
                              now: datetime) -> int:
    """An embedded shop without a stored token gets one from its session token.

    Webhooks come from shopify.app.toml here (Shopify-managed installation).
    Raises oauth.TokenRefusedError, ShopifyUnavailableError.
    """
    ctx = context_of(db)
    tokens = oauth.exchange_session_token(ctx.app, domain, session_token, now)
    try:
        info = install_calls.shop_info(ctx.admin, domain, tokens.access_token)
        install_calls.create_metafield_definitions(ctx.admin, domain, tokens.access_token)
    except (install_calls.AdminCallError, install_calls.AdminUnauthorizedError) as exc:
        raise ShopifyUnavailableError(f"Shopify refused the shop query: {exc}") from exc
    with db.unit_of_work() as session:
        return record_install(session, domain, tokens, ctx.cipher, info, now).id


def uninstall(shop: Shop, now: datetime) -> None:
    """Forget the tokens (they are revoked anyway) and mark the shop uninstalled."""
    shop.access_token_enc = None
    shop.refresh_token_enc = None
    shop.token_expires_at = None
    shop.refresh_token_expires_at = None
    if shop.uninstalled_at is None:
        shop.uninstalled_at = now
