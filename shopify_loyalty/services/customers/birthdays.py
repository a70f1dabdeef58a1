"""Birthday points: the ``birthdays`` job pays the BIRTHDAY rule once per customer and year.

A shop's day is its own: "today" is the date in the shop's time zone (Shopify's
``ianaTimezone``, read at install; UTC when unknown). A birthday is paid from the day itself
to ``CATCH_UP_DAYS`` after it, so a day the job did not run is made up; 29 February is the
28th in other years. The date of birth must have been given at least ``DOB_NOTICE_DAYS``
before the birthday (a customer cannot type today's date to be paid at once).

Every customer the job looks at gets ``birthday_year`` = the year of the birthday dealt
with, paid or not (excluded, a dob given too late): handled rows no longer match, a year is
dealt with once, and the ledger's source ("birthday", "<year>:<customer id>") is the
backstop. Customers are found through the (shop, birth_month_day) index, a few days' worth
at a time, and taken with ``FOR UPDATE SKIP LOCKED``, so two runs at once share the work.
"""

from __future__ import annotations

import calendar
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from shopify_loyalty.models import Customer, CustomerStatus, EarnRule, EarnRuleKind, Shop
from shopify_loyalty.services.customers.actions import earn
from shopify_loyalty.services.points import ledger

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 7
DOB_NOTICE_DAYS = 30
# Customers per batch: one transaction holds their rows until it commits.
BIRTHDAY_BATCH = 500
UTC = ZoneInfo("UTC")


def shop_zone(shop: Shop) -> ZoneInfo:
    try:
        return ZoneInfo(shop.iana_timezone) if shop.iana_timezone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("shop %s: unknown time zone %r, using UTC", shop.domain, shop.iana_timezone)
        return UTC


def birthday_days(today: date) -> list[date]:
    """The days whose birthdays are due today: today and the ``CATCH_UP_DAYS`` before."""
    return [today - timedelta(days=n) for n in range(CATCH_UP_DAYS + 1)]


def month_days(day: date) -> tuple[int, ...]:
    """The ``birth_month_day`` values whose birthday falls on ``day``."""
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        return 228, 229
    return (day.month * 100 + day.day,)


def due_on(days: Sequence[date]) -> ColumnElement[bool]:
    return or_(false(), *(
        and_(Customer.birth_month_day.in_(month_days(day)),
             or_(Customer.birthday_year.is_(None), Customer.birthday_year < day.year))
        for day in days
    ))


def birthday_batch(session: Session, now: datetime, limit: int) -> int:
    """Deal with up to ``limit`` due birthdays of the shops with an active BIRTHDAY rule;
    returns how many customers it dealt with."""
    rules = _rules_by_shop(session)
    zones: dict[ZoneInfo, list[Shop]] = defaultdict(list)
    for shop in rules:
        zones[shop_zone(shop)].append(shop)
    handled = 0
    for zone, shops in zones.items():
        if handled >= limit:
            break
        days = birthday_days(now.astimezone(zone).date())
        due = session.scalars(
            select(Customer)
            .where(Customer.shop_id.in_([shop.id for shop in shops]), due_on(days))
            # No ORDER BY: sorting by id would walk the primary key past every customer
            # who is not due; unordered, the (shop, birth_month_day) index finds the day's
            # few. SKIP LOCKED never waits, so the lock order cannot deadlock.
            .limit(limit - handled)
            .with_for_update(skip_locked=True)
        ).all()
        by_id = {shop.id: shop for shop in shops}
        for customer in due:
            _celebrate(session, customer, rules[by_id[customer.shop_id]], zone, days, now)
        handled += len(due)
    return handled


def _rules_by_shop(session: Session) -> dict[Shop, EarnRule]:
    """Each installed shop's BIRTHDAY rule that applies (the newest active one)."""
    rows = session.execute(
        select(Shop, EarnRule)
        .join(EarnRule, EarnRule.shop_id == Shop.id)
        .where(EarnRule.kind == EarnRuleKind.BIRTHDAY, EarnRule.active.is_(True),
               Shop.uninstalled_at.is_(None))
        .order_by(EarnRule.id)
    ).all()
    return {shop: rule for shop, rule in rows}  # the newest rule of a shop comes last


def _celebrate(session: Session, customer: Customer, rule: EarnRule, zone: ZoneInfo,
               days: Sequence[date], now: datetime) -> None:
    birthday = next(day for day in days if customer.birth_month_day in month_days(day)
                    and (customer.birthday_year or 0) < day.year)
    customer.birthday_year = birthday.year
    given = customer.dob_set_at.astimezone(zone).date() if customer.dob_set_at else None
    if given is not None and given > birthday - timedelta(days=DOB_NOTICE_DAYS):
        return
    if customer.status is not CustomerStatus.ACTIVE or not rule.points:
        return
    source = ledger.Source("birthday", f"{birthday.year}:{customer.shopify_customer_id}")
    earn(session, customer, rule, source, f"Birthday {birthday.year}", now)
