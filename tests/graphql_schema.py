"""Shopify's Admin schema for tests: validate documents and coerce variables against it."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import graphql
from graphql.execution.values import get_variable_values

# Vendored (see tests/data/README.md): the tests read nothing outside the repository.
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "admin_schema.graphql.gz"


@cache
def schema() -> graphql.GraphQLSchema:
    """The Admin schema, built once per test session (it takes seconds)."""
    built = graphql.build_schema(gzip.decompress(SCHEMA_PATH.read_bytes()).decode("utf-8"))
    # graphql-core 3.3 rejects deprecations that Shopify's own dump contains.
    built._validation_errors = []
    return built


def assert_valid(document: str, variables: Mapping[str, Any] | None = None) -> None:
    """The document validates and `variables` coerce to its operation's variable types."""
    ast = graphql.parse(document)
    errors = graphql.validate(schema(), ast)
    assert not errors, [error.message for error in errors]
    operations = [d for d in ast.definitions if isinstance(d, graphql.OperationDefinitionNode)]
    assert len(operations) == 1, "one operation per document"
    definitions = operations[0].variable_definitions or ()
    inputs = dict(variables or {})
    declared = {definition.variable.name.value for definition in definitions}
    assert set(inputs) <= declared, f"undeclared variables: {set(inputs) - declared}"
    coerced = get_variable_values(schema(), definitions, inputs)
    assert not isinstance(coerced, list), [error.message for error in coerced]


def assert_bodies_valid(bodies: Iterable[bytes | str | None]) -> None:
    """Every JSON request body sent to the Admin API is a valid document with valid variables."""
    for body in bodies:
        assert body is not None
        payload = json.loads(body)
        assert_valid(payload["query"], payload.get("variables"))
