"""The shop's program settings, declared once: storage key, API name, kind and bounds.

The CLI (``shops set``), the admin API (``GET|PATCH /api/admin/settings``) and this module's
validation are all made from ``SETTINGS``, so a new setting is one entry here (and its
default in models.shop.DEFAULT_SETTINGS) and shows up everywhere with the same rules.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import ValidationError
from shopify_loyalty.models import Shop, TierMetric, TierPeriod
from shopify_loyalty.models.shop import DEFAULT_SETTINGS

CODE_PREFIX = re.compile(r"^[A-Z0-9_-]{0,16}$")
EARN_EVENTS = ("created", "paid", "fulfilled")
POINTS_EXPIRY = ("NONE", "INACTIVITY", "PER_EARNING")
# Ten years: longer is "never", which is NONE.
MAX_EXPIRY_DAYS = 3650
MAX_TAGS = 100
MAX_DAYS_LIST = 10


class Kind(enum.StrEnum):
    TEXT = "text"
    TAGS = "tags"  # a list of words
    CHOICE = "choice"
    WHOLE = "whole"  # an integer within [low, high]
    DAYS = "days"  # a list of whole numbers of days within [low, high]
    SWITCH = "switch"  # on / off
    MONEY = "money"  # a non-negative decimal


@dataclass(frozen=True)
class Setting:
    key: str  # in shops.settings, and the CLI flag (--code-prefix)
    api: str  # the admin API's camelCase name
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # CHOICE: how a page names each choice, in order
    group: str = ""  # the section of the Settings page it shows in
    low: int = 0
    high: int = 10**9
    check: Callable[[str], str | None] | None = None  # TEXT: a message when wrong
    upper: bool = False  # TEXT: stored upper-case
    pattern: str | None = None  # TEXT: what ``check`` accepts, as the API's spec states it

    @property
    def default(self) -> Any:
        return DEFAULT_SETTINGS[self.key]

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")


def _code_prefix(text: str) -> str | None:
    return None if CODE_PREFIX.match(text) else "Up to 16 letters, digits, '-' or '_'."


SETTINGS: tuple[Setting, ...] = (
    Setting("code_prefix", "codePrefix", Kind.TEXT,
            "Prefix of generated discount codes, e.g. LOY-.", check=_code_prefix, upper=True,
            pattern=r"^[A-Za-z0-9_-]{0,16}$", group="Discount codes"),
    Setting("exclusion_tags", "exclusionTags", Kind.TAGS,
            "Customer tags that exclude from the program: a,b.", group="Earning"),
    Setting("earn_on", "earnOn", Kind.CHOICE, "The order event that earns points.",
            choices=EARN_EVENTS, labels=("Order created", "Order paid", "Order fulfilled"),
            group="Earning"),
    Setting("referral_weekly_cap", "referralWeeklyCap", Kind.WHOLE,
            "Referrals a referrer is paid for in any 7 days (more complete unpaid).",
            low=0, high=1000, group="Referrals"),
    Setting("tier_metric", "tierMetric", Kind.CHOICE,
            "What VIP tier progress counts (tier thresholds are in it).",
            choices=tuple(m.value for m in TierMetric),
            labels=("Money spent", "Points earned", "Paid orders"), group="VIP tiers"),
    Setting("tier_period", "tierPeriod", Kind.CHOICE,
            "Over which time VIP tier progress counts, and how long a tier is kept.",
            choices=tuple(p.value for p in TierPeriod),
            labels=("All time", "Calendar year", "Last 12 months"), group="VIP tiers"),
    Setting("point_value", "pointValue", Kind.MONEY,
            "What one point is worth in the shop's currency, for the dashboard; empty: the "
            "best rate among the active amount-off, store-credit and variable rules.",
            group="Dashboard"),
    Setting("points_expiry", "pointsExpiry", Kind.CHOICE,
            "When points expire: never, after inactivity, or each earning after its days.",
            choices=POINTS_EXPIRY, labels=("Never", "After inactivity", "Per earning"),
            group="Expiry and reminders"),
    Setting("points_expiry_days", "pointsExpiryDays", Kind.WHOLE,
            "Days of inactivity, or days after each earning, before points expire.",
            low=1, high=MAX_EXPIRY_DAYS, group="Expiry and reminders"),
    Setting("expiry_reminder_days", "expiryReminderDays", Kind.DAYS,
            "Days before points expire to remind the customer: 30,7.", low=1, high=365,
            group="Expiry and reminders"),
    Setting("reward_reminder_days", "rewardReminderDays", Kind.DAYS,
            "Days before an unused reward expires to remind the customer: 7,1.",
            low=1, high=365, group="Expiry and reminders"),
    Setting("refund_expired_rewards", "refundExpiredRewards", Kind.SWITCH,
            "Give the points of an unused discount code back when it expires.",
            group="Expiry and reminders"),
    Setting("shopify_sync", "shopifySync", Kind.SWITCH,
            "Write each customer's balance, tier and referral link to Shopify (metafields "
            "loyalty.*, a tier tag).", group="Shopify"),
)
BY_KEY = {setting.key: setting for setting in SETTINGS}
BY_API = {setting.api: setting for setting in SETTINGS}


def settings_of(shop: Shop) -> dict[str, Any]:
    """Every setting's value (stored or default), by storage key."""
    return {setting.key: shop.setting(setting.key) for setting in SETTINGS}


def update_settings(shop: Shop, **changes: Any) -> dict[str, Any]:
    """Change the given settings (storage keys) and return them all; None puts a setting
    back to its default (the API accepts null only for settings whose default is empty).

    Raises ValidationError, with the errors under the API names; nothing is changed then.
    """
    errors: dict[str, list[str]] = {}
    stored = dict(shop.settings or {})
    for key, value in changes.items():
        setting = BY_KEY[key]
        if value is None:
            stored.pop(key, None)
            continue
        try:
            stored[key] = _valid(setting, value)
        except ValueError as exc:
            errors[setting.api] = [str(exc)]
    if errors:
        raise ValidationError(errors=errors)
    if _expiry_may_come_sooner(shop, stored):
        shop.points_expiry_since = utcnow()
    shop.settings = stored
    return settings_of(shop)


def _expiry_may_come_sooner(shop: Shop, stored: dict[str, Any]) -> bool:
    """Whether the new expiry policy could set a deadline earlier than the old one did: a
    new policy, or fewer days. Points earned before such a change count as earned at it
    (services.points.expiry), so no change ever expires points without notice; more days
    under the same policy only move deadlines later, and keep the earlier change time."""
    def policy(settings: dict[str, Any]) -> tuple[str, int]:
        return (settings.get("points_expiry", DEFAULT_SETTINGS["points_expiry"]),
                settings.get("points_expiry_days", DEFAULT_SETTINGS["points_expiry_days"]))

    (old, old_days), (new, new_days) = policy(shop.settings or {}), policy(stored)
    return new != "NONE" and (new != old or new_days < old_days)


def _valid(setting: Setting, value: Any) -> Any:
    """The value as stored. Raises ValueError with the message for the user."""
    kind = setting.kind
    if kind is Kind.TEXT:
        text = str(value).strip()
        text = text.upper() if setting.upper else text
        problem = setting.check(text) if setting.check else None
        if problem:
            raise ValueError(problem)
        return text
    if kind is Kind.TAGS:
        tags = sorted({str(t).strip() for t in value if str(t).strip()})
        if len(tags) > MAX_TAGS:
            raise ValueError(f"At most {MAX_TAGS} tags.")
        return tags
    if kind is Kind.CHOICE:
        if value not in setting.choices:
            raise ValueError(f"One of {', '.join(setting.choices)}.")
        return value
    if kind is Kind.WHOLE:
        return _whole(setting, value)
    if kind is Kind.DAYS:
        days = sorted({_whole(setting, day) for day in value}, reverse=True)
        if len(days) > MAX_DAYS_LIST:
            raise ValueError(f"At most {MAX_DAYS_LIST} values.")
        return days
    if kind is Kind.SWITCH:
        if not isinstance(value, bool):
            raise ValueError("true or false.")
        return value
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("A decimal amount.") from exc
    if not amount.is_finite() or not 0 <= amount <= setting.high:
        raise ValueError(f"A decimal amount from 0 to {setting.high}.")
    return str(amount)


def _whole(setting: Setting, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) \
            or not setting.low <= value <= setting.high:
        raise ValueError(f"A whole number from {setting.low} to {setting.high}.")
    return value


def from_text(setting: Setting, text: str) -> Any:
    """A CLI word as the value ``update_settings`` takes. Raises ValueError."""
    kind = setting.kind
    if kind is Kind.TAGS:
        return [part.strip() for part in text.split(",") if part.strip()]
    if kind is Kind.WHOLE:
        return _number(text)
    if kind is Kind.DAYS:
        return [_number(part) for part in text.split(",") if part.strip()]
    if kind is Kind.SWITCH:
        if text.lower() not in ("on", "off"):
            raise ValueError("on or off.")
        return text.lower() == "on"
    return text


def _number(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"a whole number, not {text!r}.")
    return int(text)
