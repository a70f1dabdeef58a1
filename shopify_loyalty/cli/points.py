from __future__ import annotations

import click
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.shops.lookup import shop_by_domain


@click.group(help="Customers' points.", cls=AppGroup)
def points() -> None:
    pass


# Negative POINTS ("-100") must reach the argument, not be taken for an option.
@points.command("adjust", context_settings={"ignore_unknown_options": True})
@click.argument("domain")
@click.argument("customer_id", type=click.IntRange(min=1))
@click.argument("amount", metavar="POINTS", type=int)
@click.option("--reason", required=True, help="Why; kept in the ledger row.")
def adjust(domain: str, customer_id: int, amount: int, reason: str) -> None:
    """Add POINTS (or remove, when negative) for CUSTOMER_ID; never below zero."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        customer, row = adjustments.adjust_points(session, shop, customer_id, amount, reason)
        emit(
            {
                "customerId": customer.shopify_customer_id,
                "transactionId": row.id,
                "points": row.points,
                "availablePoints": row.available_after,
            }
        )
