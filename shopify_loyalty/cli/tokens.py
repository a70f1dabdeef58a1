from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from shopify_loyalty.config import Settings
from shopify_loyalty.shopify.auth import issue_customer_token


@click.command("customer-token")
@with_appcontext
@click.argument("domain")
@click.argument("customer_id", type=click.IntRange(min=1))
@click.option(
    "--ttl",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    help="Seconds the token lives.",
)
def customer_token(domain: str, customer_id: int, ttl: int) -> None:
    """Print a customer session token for DOMAIN's CUSTOMER_ID, signed with the app secret."""
    settings: Settings = current_app.extensions["loyalty_settings"]
    click.echo(
        issue_customer_token(
            domain.strip().lower(),
            customer_id,
            api_key=settings.shopify_api_key,
            secret=settings.shopify_api_secret,
            ttl=ttl,
        )
    )
