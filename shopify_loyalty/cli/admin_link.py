from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from shopify_loyalty.cli.output import transaction
from shopify_loyalty.config import Settings
from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import ConflictError
from shopify_loyalty.services.shops import admin_sessions
from shopify_loyalty.services.shops.lookup import shop_by_domain


@click.command("admin-link")
@with_appcontext
@click.argument("domain")
def admin_link(domain: str) -> None:
    """Print a one-time link to DOMAIN's admin pages, good for 10 minutes (self-hosted shops,
    outside the Shopify admin). Opening it signs the browser in for 12 hours."""
    settings: Settings = current_app.extensions["loyalty_settings"]
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        if not shop.installed:
            raise ConflictError(f"{shop.domain} has uninstalled the app.")
        token = admin_sessions.sign_link(settings.shopify_api_secret, shop.domain, utcnow())
    click.echo(f"{settings.app_url}/app/login?token={token}")
