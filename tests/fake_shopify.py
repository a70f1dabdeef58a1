"""A stateful Shopify Admin GraphQL endpoint behind `responses`, for the fulfilment tests.

It keeps the codes and store credits it created, so a test can count what exists in "Shopify"
(exactly one discount per reward), and it can be told what to do with the next requests:
answer 5xx, time out before or after applying the mutation, throttle, refuse the token.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
import responses

OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
COST = {
    "requestedQueryCost": 10,
    "actualQueryCost": 10,
    "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0,
                       "restoreRate": 100.0},
}
CODE_PAYLOADS = {
    "DiscountCodeBasicCreate": ("discountCodeBasicCreate", "basicCodeDiscount"),
    "DiscountCodeFreeShippingCreate": ("discountCodeFreeShippingCreate",
                                       "freeShippingCodeDiscount"),
}
UNIT_PRICE = "19.99"


@dataclass
class Call:
    operation: str
    variables: dict[str, Any]


@dataclass
class FakeShopify:
    mock: responses.RequestsMock
    codes: dict[str, str] = field(default_factory=dict)
    deactivated: list[str] = field(default_factory=list)
    credits: list[dict[str, Any]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    script: deque[Any] = field(default_factory=deque)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def serve(self, domain: str) -> None:
        self.mock.add_callback(
            responses.POST,
            f"https://{domain}/admin/api/2026-10/graphql.json",
            callback=self.handle,
            content_type="application/json",
        )

    def then(self, *actions: Any) -> FakeShopify:
        """Queue what the next requests get: "lost" (applied, answer lost), "timeout" (not
        applied), "throttled", an HTTP status, or ("user_error", code, message)."""
        self.script.extend(actions)
        return self

    def operations(self) -> list[str]:
        return [call.operation for call in self.calls]

    def handle(self, request: Any) -> Any:
        body = json.loads(request.body)
        match = OPERATION.match(body["query"])
        assert match, body["query"]
        operation, variables = match[1], body.get("variables") or {}
        self.calls.append(Call(operation, variables))
        action = self.script.popleft() if self.script else None
        if action == "timeout":
            return requests.ReadTimeout("read timed out")
        if action == "throttled":
            cost = {**COST, "actualQueryCost": None,
                    "throttleStatus": {**COST["throttleStatus"], "currentlyAvailable": 0.0,
                                       "restoreRate": 1.0}}
            return self.answer({"errors": [{"message": "Throttled",
                                            "extensions": {"code": "THROTTLED"}}],
                                "extensions": {"cost": cost}})
        if isinstance(action, int):
            return (action, {}, json.dumps({"errors": "boom"}))
        if isinstance(action, tuple):
            _, code, message = action
            field_name = CODE_PAYLOADS.get(operation, ("storeCreditAccountCredit", "id"))
            return self.data({field_name[0]: {"userErrors": [
                {"field": [field_name[1]], "message": message, "code": code}]}})
        data = self.apply(operation, variables)
        if action == "lost":
            return requests.ReadTimeout("answer lost after the mutation was applied")
        return self.data(data)

    def apply(self, operation: str, variables: dict[str, Any]) -> dict[str, Any]:
        if operation in CODE_PAYLOADS:
            root, name = CODE_PAYLOADS[operation]
            code = variables[name]["code"].lower()
            if code in self.codes:
                return {root: {"codeDiscountNode": None, "userErrors": [
                    {"field": [name, "code"], "message": "Code must be unique.",
                     "code": "TAKEN"}]}}
            self.codes[code] = f"gid://shopify/DiscountCodeNode/{next(self.ids)}"
            return {root: {"codeDiscountNode": {"id": self.codes[code]}, "userErrors": []}}
        if operation == "DiscountCodeDeactivate":
            self.deactivated.append(variables["id"])
            return {"discountCodeDeactivate": {"codeDiscountNode": {"id": variables["id"]},
                                               "userErrors": []}}
        if operation == "CodeDiscountNodeByCode":
            gid = self.codes.get(variables["code"].lower())
            return {"codeDiscountNodeByCode": {"id": gid} if gid else None}
        if operation == "ProductVariantPrice":
            return {"productVariant": {"id": variables["id"], "price": UNIT_PRICE}}
        if operation == "StoreCreditAccountCredit":
            credit = variables["creditInput"]
            transaction = {
                "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{next(self.ids)}",
                "createdAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expiresAt": _whole_seconds(credit["expiresAt"]),
                "amount": credit["creditAmount"],
            }
            self.credits.append(transaction)
            return {"storeCreditAccountCredit": {"storeCreditAccountTransaction": transaction,
                                                 "userErrors": []}}
        if operation == "CustomerStoreCreditTransactions":
            nodes = [{"__typename": "StoreCreditAccountCreditTransaction", "event": "ADJUSTMENT",
                      **credit} for credit in reversed(self.credits)]
            return {"customer": {"storeCreditAccounts": {"nodes": [
                {"id": "gid://shopify/StoreCreditAccount/1", "transactions": {"nodes": nodes}}
            ]}}}
        raise AssertionError(f"unexpected operation {operation}")

    @staticmethod
    def data(data: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return FakeShopify.answer({"data": data, "extensions": {"cost": COST}})

    @staticmethod
    def answer(payload: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return (200, {}, json.dumps(payload))


def _whole_seconds(value: str | None) -> str | None:
    """Shopify keeps timestamps to the second."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
