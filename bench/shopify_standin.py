"""A fast local stand-in for Shopify's Admin GraphQL endpoint, for benchmarks.

    python bench/shopify_standin.py --port 8765

Point SHOPIFY_ADMIN_BASE_URL at `http://127.0.0.1:8765/{shop}` (shop in the path) or at
`http://127.0.0.1:8765` with the shop as Host. Each shop has Shopify's leaky bucket (2000
points, 100 restored a second; 10 points a mutation, 1 a query); over budget the answer is
Shopify's THROTTLED shape. It dispatches on the first root field of the document without
parsing GraphQL, keeps created codes (a duplicate answers TAKEN, case-insensitively) and counts
requests, throttled answers and codes per shop at `GET /_stats`.

The customer sync's mutations (metafieldsSet, at most 25; metafieldsDelete; tagsAdd; tagsRemove;
metafieldDefinitionCreate) keep each shop's customer metafields and tags, counted at `/_stats`.

Faults, for the chaos run (`--faults` or `POST /_faults` with the same JSON): for every
mutation, with the given probabilities, answer HTTP 500 before applying it (`error`), apply it
and then answer 500 (`lost`: applied, answer lost), answer THROTTLED (`throttled`), or hold the
answer `hang_seconds` (`hang`: longer than the client's read timeout, a timeout).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MUTATION_COST = 10
QUERY_COST = 1
ROOT_FIELD = re.compile(r"^\s*(query|mutation)\b[^{]*\{\s*(\w+)", re.DOTALL)
PATH = re.compile(r"^/(?:(?P<shop>[^/]+)/)?admin/api/[^/]+/graphql\.json$")


@dataclass
class Faults:
    error: float = 0.0
    lost: float = 0.0
    throttled: float = 0.0
    hang: float = 0.0
    hang_seconds: float = 20.0

    def draw(self, rng: random.Random) -> str | None:
        roll = rng.random()
        for name in ("error", "lost", "throttled", "hang"):
            chance: float = getattr(self, name)
            if roll < chance:
                return name
            roll -= chance
        return None


@dataclass
class Shop:
    available: float = BUCKET_SIZE
    at: float = field(default_factory=time.monotonic)
    codes: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    throttled: int = 0
    credits: int = 0
    # Customer GID → its credits, oldest first: {"id", "createdAt", "expiresAt", "amount"}.
    credit_log: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    faults_injected: dict[str, int] = field(default_factory=dict)
    # The customer sync: (owner GID, key) → value, and owner GID → tags.
    metafields: dict[tuple[str, str], str] = field(default_factory=dict)
    tags: dict[str, set[str]] = field(default_factory=dict)
    # The discount nodes deactivated (discountCodeDeactivate), by GID.
    deactivated: set[str] = field(default_factory=set)
    # Cost charged in each whole second (time.monotonic()), for the scale-out bench.
    cost_by_second: dict[int, int] = field(default_factory=dict)


class StandIn:
    def __init__(self, faults: Faults | None = None) -> None:
        self.lock = threading.Lock()
        # Closed, the gate holds every mutation before it is applied (a hung Shopify); `held`
        # tells that one is waiting there. Tests kill a worker mid-call this way.
        self.gate = threading.Event()
        self.gate.set()
        self.held = threading.Event()
        self.faults = faults or Faults()
        self.rng = random.Random()
        self.shops: dict[str, Shop] = {}
        self.ids = itertools.count(1000)
        self.handlers: dict[str, Callable[[Shop, dict[str, Any]], dict[str, Any] | None]] = {
            "discountCodeBasicCreate": self.basic_create,
            "discountCodeFreeShippingCreate": self.free_shipping_create,
            "codeDiscountNodeByCode": self.node_by_code,
            "discountCodeDeactivate": self.deactivate,
            "storeCreditAccountCredit": self.credit,
            "productVariant": self.variant,
            "shop": self.shop_info,
            "customer": self.customer_credits,
            "metafieldsSet": self.metafields_set,
            "metafieldsDelete": self.metafields_delete,
            "tagsAdd": self.tags_add,
            "tagsRemove": self.tags_remove,
            "metafieldDefinitionCreate": self.definition_create,
        }

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/_stats":
            return self.json(self.stats())
        if request.method == "POST" and request.path == "/_faults":
            self.faults = Faults(**(request.get_json(silent=True) or {}))
            return self.json({"faults": self.faults.__dict__})
        match = PATH.match(request.path)
        if request.method != "POST" or match is None:
            return self.json({"errors": "Not Found"}, 404)
        domain = match["shop"] or (request.host or "").split(":")[0]
        body = request.get_json(silent=True) or {}
        found = ROOT_FIELD.match(body.get("query") or "")
        if found is None or found[2] not in self.handlers:
            return self.json({"errors": [{"message": "unsupported document"}]}, 400)
        kind, root = found[1], found[2]
        if kind == "mutation" and not self.gate.is_set():
            self.held.set()
            self.gate.wait()
        fault = self.faults.draw(self.rng) if kind == "mutation" else None
        if fault is not None:
            with self.lock:
                counts = self.shops.setdefault(domain, Shop()).faults_injected
                counts[fault] = counts.get(fault, 0) + 1
        if fault == "error":
            return self.json({"errors": [{"message": "Internal error"}]}, 500)
        if fault == "hang":
            time.sleep(self.faults.hang_seconds)
        if fault == "throttled":
            with self.lock:
                shop = self.shops.setdefault(domain, Shop())
                return self.json({
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": self.cost(MUTATION_COST, None, shop)})
        cost = MUTATION_COST if kind == "mutation" else QUERY_COST
        with self.lock:
            shop = self.shops.setdefault(domain, Shop())
            shop.requests += 1
            now = time.monotonic()
            shop.available = min(BUCKET_SIZE, shop.available + (now - shop.at) * RESTORE_RATE)
            shop.at = now
            if shop.available < cost:
                shop.throttled += 1
                return self.json(
                    {
                        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                        "extensions": self.cost(cost, None, shop),
                    }
                )
            shop.available -= cost
            second = int(now)
            shop.cost_by_second[second] = shop.cost_by_second.get(second, 0) + cost
            data = {root: self.handlers[root](shop, body.get("variables") or {})}
            if fault == "lost":
                return self.json({"errors": [{"message": "Internal error"}]}, 500)
            return self.json({"data": data, "extensions": self.cost(cost, cost, shop)})

    @staticmethod
    def cost(requested: int, actual: int | None, shop: Shop) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": BUCKET_SIZE,
                    "currentlyAvailable": shop.available,
                    "restoreRate": RESTORE_RATE,
                },
            }
        }

    @staticmethod
    def json(payload: Any, status: int = 200) -> Response:
        return Response(json.dumps(payload), status, content_type="application/json")

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                domain: {
                    "requests": s.requests,
                    "throttled": s.throttled,
                    "codes": len(s.codes),
                    "credits": s.credits,
                    "codeIds": sorted(s.codes.values()),
                    "creditIds": sorted(c["id"] for log in s.credit_log.values() for c in log),
                    "faults": dict(s.faults_injected),
                    "metafields": len(s.metafields),
                    "taggedCustomers": sum(1 for tags in s.tags.values() if tags),
                    "costBySecond": sorted(s.cost_by_second.items()),
                }
                for domain, s in self.shops.items()
            }

    def create_code(self, shop: Shop, discount: dict[str, Any], field_name: str) -> dict[str, Any]:
        code = str(discount.get("code", ""))
        if code.lower() in shop.codes:
            return {
                "codeDiscountNode": None,
                "userErrors": [
                    {
                        "field": [field_name, "code"],
                        "message": "Code must be unique. Please try a different code.",
                        "code": "TAKEN",
                    }
                ],
            }
        gid = f"gid://shopify/DiscountCodeNode/{next(self.ids)}"
        shop.codes[code.lower()] = gid
        return {"codeDiscountNode": {"id": gid}, "userErrors": []}

    def basic_create(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        return self.create_code(shop, variables.get("basicCodeDiscount") or {}, "basicCodeDiscount")

    def free_shipping_create(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        return self.create_code(
            shop, variables.get("freeShippingCodeDiscount") or {}, "freeShippingCodeDiscount"
        )

    def node_by_code(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any] | None:
        gid = shop.codes.get(str(variables.get("code", "")).lower())
        return {"id": gid} if gid else None

    def deactivate(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        shop.deactivated.add(str(variables.get("id")))
        return {"codeDiscountNode": {"id": variables.get("id")}, "userErrors": []}

    def credit(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        shop.credits += 1
        credit = variables.get("creditInput") or {}
        transaction = {
            "id": f"gid://shopify/StoreCreditAccountCreditTransaction/{next(self.ids)}",
            "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "expiresAt": _whole_seconds(credit.get("expiresAt")),
            "amount": credit.get("creditAmount"),
        }
        shop.credit_log.setdefault(str(variables.get("id")), []).append(transaction)
        return {"storeCreditAccountTransaction": transaction, "userErrors": []}

    def customer_credits(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        """The account's credits, newest first, as CustomerStoreCreditTransactions reads them."""
        log = shop.credit_log.get(str(variables.get("customerId")), [])
        nodes = [{"__typename": "StoreCreditAccountCreditTransaction", "event": "ADJUSTMENT",
                  **entry} for entry in reversed(log)][: int(variables.get("first") or 50)]
        return {"storeCreditAccounts": {"nodes": [{"id": "gid://shopify/StoreCreditAccount/1",
                                                   "transactions": {"nodes": nodes}}]}}

    def variant(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        return {"id": variables.get("id"), "price": "19.99"}

    def metafields_set(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        inputs = variables.get("metafields") or []
        if len(inputs) > 25:
            return {"metafields": None, "userErrors": [
                {"field": ["metafields"], "message": "At most 25",
                 "code": "LESS_THAN_OR_EQUAL_TO"}]}
        for m in inputs:
            shop.metafields[(m["ownerId"], m["key"])] = m["value"]
        return {"metafields": [{"key": m["key"], "namespace": m["namespace"]} for m in inputs],
                "userErrors": []}

    def metafields_delete(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        gone = [shop.metafields.pop((m["ownerId"], m["key"]), None) and m
                for m in variables.get("metafields") or []]
        return {"deletedMetafields": gone, "userErrors": []}

    def tags_add(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        shop.tags.setdefault(str(variables.get("id")), set()).update(variables.get("tags") or [])
        return {"node": {"id": variables.get("id")}, "userErrors": []}

    def tags_remove(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        shop.tags.setdefault(str(variables.get("id")), set()).difference_update(
            variables.get("tags") or [])
        return {"node": {"id": variables.get("id")}, "userErrors": []}

    def definition_create(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        return {"createdDefinition": {"id": f"gid://shopify/MetafieldDefinition/{next(self.ids)}"},
                "userErrors": []}

    def shop_info(self, shop: Shop, variables: dict[str, Any]) -> dict[str, Any]:
        return {"name": "Stand-in", "currencyCode": "USD", "myshopifyDomain": "standin",
                "ianaTimezone": "UTC"}


def _whole_seconds(value: str | None) -> str | None:
    """Shopify answers a DateTime in whole seconds, in UTC ("2019-09-07T15:50:00Z", the
    DateTime scalar of the Admin schema), whatever precision it was sent with."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--faults", default="{}", help='e.g. {"error": 0.05, "lost": 0.02}')
    args = parser.parse_args()
    run_simple(args.host, args.port, StandIn(Faults(**json.loads(args.faults))), threaded=True)


if __name__ == "__main__":
    main()
