from __future__ import annotations

import click

from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.services import program
from shopify_loyalty.services.customers import shop_by_domain


@click.group(help="Customers' points.")
def points() -> None:
    pass


@points.command("adjust")
@click.argument("domain")
@click.argument("customer_id", type=click.IntRange(min=1))
@click.argument("amount", metavar="POINTS", type=int)
@click.option("--reason", required=True, help="Why; kept in the ledger row.")
def adjust(domain: str, customer_id: int, amount: int, reason: str) -> None:
    """Add POINTS (or remove, when negative) for CUSTOMER_ID; never below zero."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        customer, row = program.adjust_points(session, shop, customer_id, amount, reason)
        emit({
            "customerId": customer.shopify_customer_id,
            "transactionId": row.id,
            "points": row.points,
            "availablePoints": row.available_after,
        })
