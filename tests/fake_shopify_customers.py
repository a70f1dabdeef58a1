"""A stateful Shopify for the customer sync, behind `responses`: customers' metafields and
tags as the sync leaves them, every request validated against the vendored Admin schema
(document and variables), and a script of what the next requests get."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import graphql
import responses

from tests.graphql_schema import assert_valid

COST = {"requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0,
                           "restoreRate": 100.0}}


def gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


@dataclass
class FakeCustomers:
    mock: responses.RequestsMock
    # (customer gid, key) → (type, value)
    metafields: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    tags: dict[str, set[str]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Customers that do not exist in Shopify (deleted there): refused by every mutation.
    missing: set[str] = field(default_factory=set)
    script: deque[Any] = field(default_factory=deque)
    # Run before a mutation is applied (a change made while the write is under way).
    before_apply: Callable[[str], None] | None = None

    def serve(self, domain: str) -> FakeCustomers:
        self.mock.add_callback(responses.POST,
                               f"https://{domain}/admin/api/2026-10/graphql.json",
                               callback=self.handle, content_type="application/json")
        return self

    def then(self, *actions: Any) -> FakeCustomers:
        """The next requests get: "throttled", an HTTP status, or "user_error"."""
        self.script.extend(actions)
        return self

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def of(self, customer_id: int) -> dict[str, str]:
        return {key: value for (owner, key), (_t, value) in self.metafields.items()
                if owner == gid(customer_id)}

    def handle(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        assert_valid(body["query"], body.get("variables"))
        operation = graphql.parse(body["query"]).definitions[0]
        name = operation.name.value  # type: ignore[attr-defined]
        variables = body.get("variables") or {}
        self.calls.append((name, variables))
        action = self.script.popleft() if self.script else None
        if action == "throttled":
            cost = {**COST, "actualQueryCost": None, "throttleStatus": {
                **COST["throttleStatus"], "currentlyAvailable": 0.0, "restoreRate": 1.0}}
            return 200, {}, json.dumps({"errors": [{"message": "Throttled", "extensions": {
                "code": "THROTTLED"}}], "extensions": {"cost": cost}})
        if isinstance(action, int):
            return action, {}, json.dumps({"errors": "boom"})
        if self.before_apply is not None:
            self.before_apply(name)
        root = name[0].lower() + name[1:]
        if action == "user_error":
            return self.data({root: {"userErrors": [
                {"field": ["metafields", "0", "value"], "message": "Value is invalid",
                 "code": "INVALID_VALUE"}]}})
        return self.data({root: getattr(self, "_" + root)(variables)})

    def _metafieldsSet(self, variables: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        inputs = variables["metafields"]
        assert len(inputs) <= 25, "metafieldsSet takes at most 25"
        refused = [i for i, m in enumerate(inputs) if m["ownerId"] in self.missing]
        if refused:  # atomic: nothing is set
            return {"metafields": None, "userErrors": [
                {"field": ["metafields", str(i), "ownerId"], "message": "Owner does not exist",
                 "code": "INVALID", "elementIndex": i} for i in refused]}
        for m in inputs:
            assert m["value"] != "", "a blank value is refused"
            self.metafields[(m["ownerId"], m["key"])] = (m["type"], m["value"])
        return {"metafields": [{"key": m["key"], "namespace": m["namespace"]} for m in inputs],
                "userErrors": []}

    def _metafieldsDelete(self, variables: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        deleted = []
        for m in variables["metafields"]:
            found = self.metafields.pop((m["ownerId"], m["key"]), None)
            deleted.append(m if found else None)
        return {"deletedMetafields": deleted, "userErrors": []}

    def _tagsAdd(self, variables: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if variables["id"] in self.missing:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Not found"}]}
        self.tags.setdefault(variables["id"], set()).update(variables["tags"])
        return {"node": {"id": variables["id"]}, "userErrors": []}

    def _tagsRemove(self, variables: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if variables["id"] in self.missing:
            return {"node": None, "userErrors": [{"field": ["id"], "message": "Not found"}]}
        self.tags.setdefault(variables["id"], set()).difference_update(variables["tags"])
        return {"node": {"id": variables["id"]}, "userErrors": []}

    @staticmethod
    def data(data: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return 200, {}, json.dumps({"data": data, "extensions": {"cost": COST}})
