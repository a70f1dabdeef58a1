from __future__ import annotations

from decimal import Decimal

import click
from flask.cli import AppGroup

from shopify_loyalty.api.presenters import redeem_rule
from shopify_loyalty.cli.output import emit, id_list, transaction, word_list
from shopify_loyalty.models import LimitInterval, RedeemRuleKind
from shopify_loyalty.services.program import redeem_rules as rules
from shopify_loyalty.services.shops.lookup import shop_by_domain

DECIMAL = click.types.FuncParamType(Decimal)
DECIMAL.name = "decimal"


@click.group("redeem-rules", help="What customers can redeem points for.", cls=AppGroup)
def redeem_rules() -> None:
    pass


@redeem_rules.command("add")
@click.argument("domain")
@click.option("--name", required=True)
@click.option("--kind", required=True, type=click.Choice([k.value for k in RedeemRuleKind]))
@click.option("--points", type=click.IntRange(min=1), help="Points cost (fixed-cost kinds).")
@click.option("--value", type=DECIMAL, help="Amount off, percent off, or store credit.")
@click.option("--description")
@click.option("--min-subtotal", type=DECIMAL)
@click.option("--expires-in-days", type=click.IntRange(min=1))
@click.option("--variant-ids", help="FREE_PRODUCT: variant ids, 1,2.")
@click.option("--product-ids", help="Limit the discount to these products: 1,2.")
@click.option("--collection-ids", help="Limit the discount to these collections: 1,2.")
@click.option(
    "--points-per-unit",
    type=click.IntRange(min=1),
    help="VARIABLE_AMOUNT: points that buy one currency unit.",
)
@click.option("--min-points", type=click.IntRange(min=1))
@click.option("--max-points", type=click.IntRange(min=1))
@click.option("--increment", type=click.IntRange(min=1))
@click.option("--max-shipping", type=DECIMAL, help="FREE_SHIPPING: highest shipping price.")
@click.option("--limit-count", type=click.IntRange(min=1))
@click.option("--limit-interval", type=click.Choice([i.value for i in LimitInterval]))
@click.option("--required-tier", type=int, help="VIP tier id needed to redeem.")
@click.option("--combines-with", help="order,product,shipping")
@click.option("--inactive", is_flag=True)
def add(
    domain: str,
    name: str,
    kind: str,
    points: int | None,
    value: Decimal | None,
    description: str | None,
    min_subtotal: Decimal | None,
    expires_in_days: int | None,
    variant_ids: str | None,
    product_ids: str | None,
    collection_ids: str | None,
    points_per_unit: int | None,
    min_points: int | None,
    max_points: int | None,
    increment: int | None,
    max_shipping: Decimal | None,
    limit_count: int | None,
    limit_interval: str | None,
    required_tier: int | None,
    combines_with: str | None,
    inactive: bool,
) -> None:
    """Add a redeem rule to DOMAIN's program."""
    spec = rules.RedeemRuleSpec(
        name=name,
        kind=RedeemRuleKind(kind),
        points_cost=points,
        value=value,
        description=description,
        min_subtotal=min_subtotal,
        expires_in_days=expires_in_days,
        variant_ids=id_list(variant_ids),
        product_ids=id_list(product_ids),
        collection_ids=id_list(collection_ids),
        points_per_unit=points_per_unit,
        min_points=min_points,
        max_points=max_points,
        increment=increment,
        max_shipping=max_shipping,
        limit_count=limit_count,
        limit_interval=LimitInterval(limit_interval) if limit_interval else None,
        required_tier_id=required_tier,
        combines_with=word_list(combines_with),
        active=not inactive,
    )
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        emit(redeem_rule(rules.create_redeem_rule(session, shop, spec)))


@redeem_rules.command("list")
@click.argument("domain")
def list_(domain: str) -> None:
    """DOMAIN's redeem rules, active or not."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        emit([redeem_rule(rule) for rule in rules.redeem_rules(session, shop)])
