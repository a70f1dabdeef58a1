"""``ledger verify [DOMAIN]``: every invariant of the books, as a JSON report; exit 1 on any
violation."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import click
from flask.cli import AppGroup

from shopify_loyalty.cli.output import transaction
from shopify_loyalty.services.points.verify import Violation, customer_violations
from shopify_loyalty.services.points.verify_rewards import reward_violations
from shopify_loyalty.services.shops.lookup import shop_by_domain

# A broken database could have millions; the report lists this many and counts them all.
MAX_LISTED = 1000


@click.group(help="The points ledger.", cls=AppGroup)
def ledger() -> None:
    pass


@ledger.command("verify")
@click.argument("domain", required=False)
def verify(domain: str | None) -> None:
    """Check the books of one shop, or of all; exit status 1 when anything is wrong."""
    listed: list[dict[str, object]] = []
    by_check: Counter[str] = Counter()
    customers = 0
    with transaction() as session:
        shop_id = shop_by_domain(session, domain.strip().lower()).id if domain else None
        found = itertools.chain(customer_violations(session, shop_id),
                                reward_violations(session, shop_id))
        for item in found:
            if not isinstance(item, Violation):
                customers += 1
                continue
            by_check[item.check] += 1
            if len(listed) < MAX_LISTED:
                listed.append(item.to_dict())
    click.echo(json.dumps({"shop": domain, "customers": customers,
                           "violationCounts": dict(by_check), "violations": listed}))
    if by_check:
        raise SystemExit(1)
