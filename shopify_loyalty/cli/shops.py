from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from shopify_loyalty.cli.output import emit, transaction
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
        "settings": shop_settings.settings_of(shop),
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


def _setting_options(command: Callable[..., None]) -> Callable[..., None]:
    for setting in reversed(shop_settings.SETTINGS):
        choices = f" ({'|'.join(setting.choices)})" if setting.choices else ""
        on_off = " (on|off)" if setting.kind is shop_settings.Kind.SWITCH else ""
        command = click.option(setting.flag, setting.key,
                               help=setting.help + choices + on_off)(command)
    return command


@shops.command("set", help="Change a shop's settings.")
@click.argument("domain")
@_setting_options
def set_(domain: str, **texts: str | None) -> None:
    changes = {}
    for key, text in texts.items():
        if text is None:
            continue
        setting = shop_settings.BY_KEY[key]
        try:
            changes[key] = shop_settings.from_text(setting, text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=setting.flag) from exc
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        shop_settings.update_settings(shop, **changes)
        emit(_shop(shop))
