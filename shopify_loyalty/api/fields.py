"""marshmallow fields for the JSON API's numbers: whole, bounded, never a boolean."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import fields, validate
from werkzeug.routing import IntegerConverter

# Shopify ids are 64-bit; anything larger cannot name a row and must not reach the database.
MAX_ID = 2**63 - 1
# Far above any real balance, far below what a BIGINT holds even after summing.
MAX_POINTS = 1_000_000_000
# Any amount of money the API takes, in the shop's currency.
MAX_MONEY = 10**9


class WholeNumber(fields.Integer):
    """An integer given as a JSON integer (or an integral number such as ``100.0``).

    marshmallow's Integer takes ``true`` as 1 and, unless strict, ``"5"`` as 5; a JSON API
    that documents integers should refuse both.
    """

    default_error_messages = {"invalid": "Not a valid integer."}

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return int(value)


class Flag(fields.Boolean):
    """A JSON ``true`` or ``false``: marshmallow's Boolean would also take 1, 0, "yes" or
    "on", which the spec (a boolean) forbids."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class DecimalText(fields.Decimal):
    """A decimal amount given as a JSON string written as ``pattern`` says (``"0.005"``,
    exact), never as a number; the pattern goes into the spec."""

    def __init__(self, pattern: str, **kwargs: Any) -> None:
        metadata = {**kwargs.pop("metadata", {}), "pattern": pattern}
        super().__init__(metadata=metadata, **kwargs)
        self.pattern = re.compile(pattern)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not self.pattern.match(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def shopify_id(**kwargs: Any) -> WholeNumber:
    return WholeNumber(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


def points(**kwargs: Any) -> WholeNumber:
    return WholeNumber(validate=validate.Range(min=1, max=MAX_POINTS), **kwargs)


class BoundedInt(IntegerConverter):
    """``<int:…>`` in a URL, at most ``MAX_ID``: a larger id matches no route (a 404)
    instead of reaching a BIGINT column and failing there (a 500)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(*args, **kwargs)
