from __future__ import annotations

import click
from flask.cli import AppGroup

from shopify_loyalty.api.admin.referrals import referral
from shopify_loyalty.cli.output import emit, transaction
from shopify_loyalty.models import ReferralState
from shopify_loyalty.services.customers import referrals as service
from shopify_loyalty.services.shops.lookup import shop_by_domain

# The CLI prints one page: an operator looking at referrals wants the latest ones.
LIST_SIZE = 100


@click.group(help="Refer-a-friend: claims, completions, refusals.", cls=AppGroup)
def referrals() -> None:
    pass


@referrals.command("list")
@click.argument("domain")
@click.option("--state", type=click.Choice([s.value for s in ReferralState]))
@click.option("--page", type=click.IntRange(min=0), default=0, show_default=True)
def list_(domain: str, state: str | None, page: int) -> None:
    """DOMAIN's referrals, newest first (100 a page), with state, reason and emails."""
    with transaction() as session:
        shop = shop_by_domain(session, domain.strip().lower())
        found = service.shop_referrals(session, shop, ReferralState(state) if state else None,
                                       page, LIST_SIZE)
        emit([referral(view) for view in found.items])
