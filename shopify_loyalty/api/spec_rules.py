"""Rules of a request body that span fields, stated in the OpenAPI spec as well as checked.

marshmallow fields say what each field may hold; some rules are about several at once (name a
customer by id or by email, not both; a rule's kind decides which settings it needs). Those are
checked in code (``validates_schema``, the services), and a schema class states them for the
spec in ``OPENAPI_RULES``: JSON Schema (``oneOf``, ``anyOf``, ``required``) merged into its
component by ``SpecRulesPlugin``. The fuzz test (tests/api/test_fuzz.py) holds the two to each
other: what the spec allows is accepted, what it forbids is refused.

Only a class's own ``OPENAPI_RULES`` count, never an inherited one: a response schema built
on a request schema describes what the API answers, not what it accepts.
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import fields

Json = dict[str, Any]

# A field that is absent or null (OpenAPI 3.0.3: a nullable enum lists null itself).
NULL: Json = {"nullable": True, "enum": [None]}


def given(**fields: Json) -> Json:
    """Every one of ``fields`` present, not null, and as its JSON Schema says."""
    return {"required": sorted(fields), "properties": fields}


def left_out(*names: str) -> Json:
    """None of ``names`` given (absent or null)."""
    return {"properties": {name: NULL for name in names}}


def exactly_one(**fields: Json) -> Json:
    """One of ``fields`` given (present and not null), never two."""
    return {"oneOf": [given(**{name: schema}) for name, schema in fields.items()]}


def both_or_neither(**fields: Json) -> Json:
    return {"anyOf": [given(**fields), left_out(*fields)]}


# No text holds a NUL character: api.input_guard refuses one anywhere in a request.
NO_NUL = r"^[^\x00]*$"


def text_without_nul(self: Any, field: fields.Field[Any], ret: Json, **_kwargs: Any) -> Json:
    """An apispec attribute function: every plain text field's schema says what
    api.input_guard enforces for all of them. A field with a pattern of its own says it
    there; formats (dates, emails) and enums have no NUL anyway."""
    if (isinstance(field, fields.String) and ret.get("type") == "string"
            and not {"pattern", "format", "enum"} & set(ret)):
        return {"pattern": NO_NUL}
    return {}


class SpecRulesPlugin(BasePlugin):  # type: ignore[misc]
    """Merges a schema class's own ``OPENAPI_RULES`` into its component, after the
    marshmallow plugin has described its fields."""

    def schema_helper(self, name: str, definition: Json, **kwargs: Any) -> Json | None:
        schema = kwargs.get("schema")
        if schema is None:
            return None
        rules = vars(resolve_schema_cls(schema)).get("OPENAPI_RULES")
        if not rules:
            return None
        merged = {**definition}
        for key, value in rules.items():
            if key == "description" and merged.get("description"):
                merged["description"] = f"{merged['description']}\n\n{value}"
            else:
                merged[key] = value
        return merged
