"""The shop's program settings (code prefix, exclusion tags, which order event earns)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from shopify_loyalty.errors import ValidationError
from shopify_loyalty.models import Shop

CODE_PREFIX = re.compile(r"^[A-Z0-9_-]{0,16}$")


EARN_EVENTS = ("created", "paid", "fulfilled")


def update_settings(
    shop: Shop,
    code_prefix: str | None = None,
    exclusion_tags: Sequence[str] | None = None,
    earn_on: str | None = None,
) -> dict[str, Any]:
    """Change the given settings and return them all. Raises ValidationError."""
    errors: dict[str, list[str]] = {}
    settings = dict(shop.settings or {})
    if code_prefix is not None:
        if not CODE_PREFIX.match(code_prefix.upper()):
            errors["codePrefix"] = ["Up to 16 letters, digits, '-' or '_'."]
        settings["code_prefix"] = code_prefix.upper()
    if exclusion_tags is not None:
        settings["exclusion_tags"] = sorted({t.strip() for t in exclusion_tags if t.strip()})
    if earn_on is not None:
        if earn_on not in EARN_EVENTS:
            errors["earnOn"] = [f"One of {', '.join(EARN_EVENTS)}."]
        settings["earn_on"] = earn_on
    if errors:
        raise ValidationError(errors=errors)
    shop.settings = settings
    return {name: shop.setting(name) for name in ("code_prefix", "exclusion_tags", "earn_on")}
