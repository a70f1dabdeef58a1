"""The shop's tier metric and period: what progress counts, over which days, for how long.

Days are UTC days. A CALENDAR_YEAR tier is kept until the end of the next calendar year
(reached in 2026: held through 2027); a ROLLING_12_MONTHS tier for 365 days from when it
was reached or renewed; a LIFETIME tier for good.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from shopify_loyalty.models import Shop, TierMetric, TierPeriod

ROLLING_DAYS = 365


def metric_of(shop: Shop) -> TierMetric:
    return TierMetric(shop.setting("tier_metric"))


def period_of(shop: Shop) -> TierPeriod:
    return TierPeriod(shop.setting("tier_period"))


def day_of(at: datetime) -> date:
    return at.astimezone(UTC).date()


def year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def window(period: TierPeriod, now: datetime) -> tuple[date, date | None] | None:
    """The days that count now, ``[first, end)``; None for LIFETIME (every day counts).

    CALENDAR_YEAR is this year's days. ROLLING_12_MONTHS is today and the 364 days before
    it (an order stops counting on the 365th day after its own), and has no end: an order
    Shopify dates a moment ahead of our clock counts at once.
    """
    today = day_of(now)
    if period is TierPeriod.CALENDAR_YEAR:
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    if period is TierPeriod.ROLLING_12_MONTHS:
        return today - timedelta(days=ROLLING_DAYS - 1), None
    return None


def held_until(period: TierPeriod, reached_at: datetime) -> datetime | None:
    """When a tier reached (or renewed) at ``reached_at`` expires; None: never."""
    if period is TierPeriod.CALENDAR_YEAR:
        return year_start(day_of(reached_at).year + 2)
    if period is TierPeriod.ROLLING_12_MONTHS:
        return reached_at + timedelta(days=ROLLING_DAYS)
    return None
