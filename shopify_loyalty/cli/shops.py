from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from shopify_loyalty.cli.output import emit, transaction, word_list
from shopify_loyalty.config import Settings
from shopify_loyalty.models import Shop
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.services.shops.lookup import shop_by_domain
from shopify_loyalty.token_cipher import TokenCipher


def _shop(shop: Shop) -> dict[str, object]:
    return {
        "id": shop.id,
        "domain": shop.domain,
        "currency": shop.currency,
        "installed": shop.installed,
        "settings": {n: shop.setting(n) for n in ("code_prefix", "exclusion_tags", "earn_on")},
    }


@click.group(help="Shops using the app.", cls=AppGroup)
def shops() -> None:
    pass


@shops.command("add", help="Register a shop with a custom app's Admin API access token.")
@click.argument("domain")
@click.option("--access-token", required=True, help="The custom app's Admin API token.")
@click.option("--currency", default="USD", show_default=True)
def add(domain: str, access_token: str, currency: str) -> None:
    settings: Settings = current_app.extensions["loyalty_settings"]
    cipher = TokenCipher(settings.token_encryption_key)
    domain = domain.strip().lower()
    with transaction() as session:
        shop = session.scalars(select(Shop).where(Shop.domain == domain)).first()
        if shop is None:
            shop = Shop(domain=domain)
            session.add(shop)
        shop.access_token_enc = cipher.encrypt(access_token)
        shop.refresh_token_enc = None
        shop.token_expires_at = None
        shop.currency = currency.upper()
        shop.uninstalled_at = None
        shop.needs_reauth = False
        session.flush()
        emit(_shop(shop))


@shops.command("set", help="Change a shop's settings.")
@click.argument("domain")
@click.option("--code-prefix", help="Prefix of generated discount codes, e.g. LOY-.")
@click.option("--exclusion-tags", help="Customer tags that exclude from the program: a,b.")
@click.option("--earn-on", type=click.Choice(shop_settings.EARN_EVENTS))
def set_(
    domain: str, code_prefix: str | None, exclusion_tags: str | None, earn_on: str | None
) -> None:
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        shop_settings.update_settings(
            shop,
            code_prefix=code_prefix,
            exclusion_tags=word_list(exclusion_tags) if exclusion_tags is not None else None,
            earn_on=earn_on,
        )
        emit(_shop(shop))
