from __future__ import annotations

import click
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.services.customers import privacy as service
from shopify_loyalty.services.shops.lookup import shop_by_domain


@click.group(help="Customers' data requests.", cls=AppGroup)
def privacy() -> None:
    pass


@privacy.command("export")
@click.argument("domain")
@click.argument("customer_id", type=click.IntRange(min=1))
def export(domain: str, customer_id: int) -> None:
    """Print CUSTOMER_ID's loyalty data: the export made for their latest data request,
    or, if they never made one, the data as it is now."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        stored = service.latest_export(session, shop, customer_id)
        if stored is not None:
            emit({"dataRequestId": stored.data_request_id, "exportedAt": stored.created_at,
                  "data": stored.data})
            return
        emit({"dataRequestId": None, "exportedAt": None,
              "data": service.export_customer(session, shop, customer_id)})
