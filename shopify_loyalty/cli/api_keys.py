from __future__ import annotations

import click
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.db import utcnow
from shopify_loyalty.services.shops import api_keys as keys
from shopify_loyalty.services.shops.lookup import shop_by_domain


@click.group("api-keys", help="Keys for the external API (X-API-Key).", cls=AppGroup)
def api_keys() -> None:
    pass


@api_keys.command("create")
@click.argument("domain")
@click.option("--name", help="What the key is for, e.g. the ERP.")
def create(domain: str, name: str | None) -> None:
    """Print {"id", "key"}: the key is shown this once; only its hash is kept."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        row, key = keys.create_key(session, shop, name)
        emit({"id": row.id, "key": key})


@api_keys.command("revoke")
@click.argument("domain")
@click.argument("key_id", metavar="ID", type=click.IntRange(min=1))
def revoke(domain: str, key_id: int) -> None:
    """Revoke DOMAIN's key ID; requests with it are refused from now on."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        row = keys.revoke_key(session, shop, key_id, utcnow())
        emit({"id": row.id, "revokedAt": row.revoked_at})
