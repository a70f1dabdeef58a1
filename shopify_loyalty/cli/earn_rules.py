from __future__ import annotations

from decimal import Decimal
from typing import Any

import click
from flask.cli import AppGroup

from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.cli.rules import DECIMAL
from shopify_loyalty.models import EarnRule, EarnRuleKind, RedeemRuleKind
from shopify_loyalty.services.program import earn_rules as service
from shopify_loyalty.services.shops.lookup import shop_by_domain


def earn_rule(rule: EarnRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind.value,
        "name": rule.name,
        "points": rule.points,
        "pointsPerUnit": rule.points_per_unit,
        "minOrder": rule.min_order,
        "includeShipping": rule.include_shipping,
        "includeTax": rule.include_tax,
        "pendingDays": rule.pending_days,
        "network": rule.network,
        "refereeValue": rule.referee_value,
        "refereeKind": rule.referee_kind.value if rule.referee_kind else None,
        "active": rule.active,
        "createdAt": rule.created_at,
    }


@click.group("earn-rules", help="How customers earn points. The newest active rule of a "
             "kind applies.", cls=AppGroup)
def earn_rules() -> None:
    pass


@earn_rules.command("add")
@click.argument("domain")
@click.option("--kind", required=True, type=click.Choice([k.value for k in EarnRuleKind]))
@click.option("--name")
@click.option("--points", type=click.IntRange(min=1),
              help="Every kind but PURCHASE: the points paid (REFERRAL: to the referrer).")
@click.option("--points-per-unit", type=click.IntRange(min=1),
              help="PURCHASE: points per currency unit of the eligible amount.")
@click.option("--min-order", type=DECIMAL, help="PURCHASE: smallest eligible amount that earns.")
@click.option("--include-shipping", is_flag=True, help="PURCHASE: shipping counts.")
@click.option("--include-tax", is_flag=True, help="PURCHASE: tax counts.")
@click.option("--pending-days", type=click.IntRange(min=0), default=0, show_default=True,
              help="Days before the points can be spent (0 = at once).")
@click.option("--network", help="SOCIAL_FOLLOW: facebook|instagram|tiktok|twitter|pinterest|"
              "youtube (x = twitter); SOCIAL_SHARE: facebook|x. One rule per network.")
@click.option("--referee-value", type=DECIMAL,
              help="REFERRAL: the friend's discount, an amount or a percentage.")
@click.option("--referee-kind", type=click.Choice(["FIXED_AMOUNT", "PERCENTAGE"]),
              help="REFERRAL: what --referee-value is.")
@click.option("--inactive", is_flag=True)
def add(domain: str, kind: str, name: str | None, points: int | None,
        points_per_unit: int | None, min_order: Decimal | None, include_shipping: bool,
        include_tax: bool, pending_days: int, network: str | None,
        referee_value: Decimal | None, referee_kind: str | None, inactive: bool) -> None:
    """Add an earn rule to DOMAIN's program."""
    spec = service.EarnRuleSpec(
        kind=EarnRuleKind(kind), name=name, points=points, points_per_unit=points_per_unit,
        min_order=min_order, include_shipping=include_shipping, include_tax=include_tax,
        pending_days=pending_days, network=network, referee_value=referee_value,
        referee_kind=RedeemRuleKind(referee_kind) if referee_kind else None,
        active=not inactive,
    )
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        emit(earn_rule(service.create_earn_rule(session, shop, spec)))


@earn_rules.command("list")
@click.argument("domain")
def list_(domain: str) -> None:
    """DOMAIN's earn rules, active or not."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        emit([earn_rule(rule) for rule in service.earn_rules(session, shop)])
