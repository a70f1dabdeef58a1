"""``tiers add|list|assign``: the shop's VIP tiers, and a customer's tier by hand."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click
from flask.cli import AppGroup

from shopify_loyalty.api.presenters import vip_tier
from shopify_loyalty.cli.output import emit, instant, transaction
from shopify_loyalty.db import utcnow
from shopify_loyalty.models import VipTier
from shopify_loyalty.services.customers import admin as customers_admin
from shopify_loyalty.services.program import tiers as service
from shopify_loyalty.services.shops.lookup import shop_by_domain


class _Number(click.ParamType[Decimal]):
    name = "number"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Decimal:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            self.fail(f"a decimal number, not {value!r}", param, ctx)


NUMBER = _Number()


def _tier(row: VipTier) -> dict[str, Any]:
    return {**vip_tier(row), "active": row.active}


@click.group(help="VIP tiers: thresholds in the shop's tier metric (shops set --tier-metric).",
             cls=AppGroup)
def tiers() -> None:
    pass


@tiers.command("add")
@click.argument("domain")
@click.option("--name", required=True)
@click.option("--threshold", required=True, type=NUMBER,
              help="Progress that reaches it: money (SPENT), points or orders.")
@click.option("--multiplier", type=NUMBER, default=Decimal("1"), show_default=True,
              help="Purchase points are multiplied by it (at least 1).")
@click.option("--entry-points", type=click.IntRange(min=0), default=0, show_default=True,
              help="Paid once per customer, the first time they reach it.")
@click.option("--perks", help="Shown to customers.")
def add(domain: str, name: str, threshold: Decimal, multiplier: Decimal, entry_points: int,
        perks: str | None) -> None:
    """Add a tier to DOMAIN's ladder."""
    spec = service.TierSpec(name=name, threshold=threshold, earn_multiplier=multiplier,
                            entry_points=entry_points, perks=perks)
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        emit(_tier(service.create_tier(session, shop, spec)))


@tiers.command("list")
@click.argument("domain")
def list_(domain: str) -> None:
    """DOMAIN's tiers, active or not, lowest first."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        emit([_tier(row) for row in service.tiers(session, shop)])


@tiers.command("assign")
@click.argument("domain")
@click.argument("customer_id", type=click.IntRange(min=1))
@click.argument("tier_id", type=click.IntRange(min=1))
@click.option("--until", "until_text",
              help="ISO 8601 (UTC if no offset); default: the tier period, from now.")
def assign(domain: str, customer_id: int, tier_id: int, until_text: str | None) -> None:
    """Give CUSTOMER_ID tier TIER_ID by hand (no entry points); re-evaluated after --until."""
    until = instant(until_text) if until_text is not None else None
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        customer = customers_admin.assign_tier(session, shop, customer_id, tier_id, until,
                                               utcnow())
        emit({"customerId": customer.shopify_customer_id, "vipTierId": customer.vip_tier_id,
              "vipTierExpiredAt": customer.vip_tier_expires_at})
