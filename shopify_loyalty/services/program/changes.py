"""Changing a rule in place: validated as a whole, as it will be after the change."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, Protocol, TypeVar

from shopify_loyalty.errors import ValidationError


class _Rule(Protocol):
    kind: Any


R = TypeVar("R", bound=_Rule)
S = TypeVar("S")


def apply_changes(
    rule: R,
    spec_type: type[S],
    errors_of: Callable[[S], Mapping[str, list[str]]],
    changes: Mapping[str, Any],
) -> R:
    """Apply ``changes`` (spec field names) if the whole changed rule is valid.

    A rule's kind never changes: rewards and ledger rows already refer to it as it is.
    Raises ValidationError.
    """
    if "kind" in changes and changes["kind"] is not rule.kind:
        raise ValidationError(errors={"kind": ["A rule's kind cannot change; add a new rule."]})
    current = {f.name: getattr(rule, f.name) for f in fields(spec_type)}  # type: ignore[arg-type]
    errors = errors_of(spec_type(**{**current, **changes}))
    if errors:
        raise ValidationError(errors=dict(errors))
    for name, value in changes.items():
        setattr(rule, name, value)
    return rule
