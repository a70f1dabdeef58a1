"""The chaos run's traffic: a seeded plan of operations, split into lanes (one thread each,
every customer in one lane, so that a customer's operations are in order), sent over HTTP to
gunicorn as the storefront, the admin and Shopify's webhooks would.

A lane resends what got no answer (connection refused while gunicorn restarts, a 5xx, a
request still in progress) with the same idempotency key or webhook id, as the widget and
Shopify do, for up to RESEND_SECONDS; those resends are counted, not as operations.
Deliberate repeats (a retried idempotency key, a duplicated delivery) are operations.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests

from bench.chaos_payloads import customer_body, order_body, refund_body
from bench.chaos_setup import FREE_PRODUCT_VARIANTS, ShopPlan
from bench.chaos_stack import API_KEY, SECRET
from shopify_loyalty.models import RedeemRuleKind
from shopify_loyalty.shopify.auth import issue_admin_token, issue_customer_token
from shopify_loyalty.shopify.webhook_hmac import sign_webhook

RESEND_SECONDS = 180.0
REQUEST_TIMEOUT = (3.05, 30.0)
DUPLICATED = 0.30
REFUNDED = 0.25
REFUND_FIRST = 0.20
KEY_RETRIED = 0.15
KINDS = list(RedeemRuleKind)


@dataclass
class Op:
    kind: str  # redeem, adjust, webhook
    domain: str
    customer_id: int
    path: str
    body: dict[str, Any]
    key: str = ""
    topic: str = ""
    order_id: int = 0


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    operations: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    resends: int = 0
    server_errors: list[str] = field(default_factory=list)
    # Idempotency key → the reward ids its 200 answers named.
    redeemed: dict[str, set[int]] = field(default_factory=dict)
    # (domain, key) → whether an adjustment was answered 200.
    adjusted: dict[tuple[str, str], bool] = field(default_factory=dict)
    # (domain, order id) → acknowledged; (domain, refund id) → (order id, acknowledged).
    orders: dict[tuple[str, int], bool] = field(default_factory=dict)
    refunds: dict[tuple[str, int], tuple[int, bool]] = field(default_factory=dict)
    unanswered: list[str] = field(default_factory=list)
    driver_errors: list[str] = field(default_factory=list)
    sent: int = 0


@dataclass
class Plan:
    lanes: list[list[Op]]

    @property
    def total(self) -> int:
        return sum(len(lane) for lane in self.lanes)


def _place(lane: list[Op], op: Op, rng: random.Random, spread: int = 6) -> None:
    """Append ``op`` a few operations from the end (later deliveries overtake it)."""
    lane.insert(max(0, len(lane) - rng.randint(0, spread)), op)


def _webhook(domain: str, customer_id: int, topic: str, body: dict[str, Any],
             order_id: int = 0, webhook_id: str | None = None) -> Op:
    return Op("webhook", domain, customer_id, "/webhooks", body,
              key=webhook_id or str(uuid.uuid4()), topic=topic, order_id=order_id)


def _orders(lane: list[Op], rng: random.Random, shop: ShopPlan, customer_id: int,
            order_id: int) -> None:
    lines = [Decimal(rng.randint(500, 9000)) / 100, Decimal(rng.randint(500, 9000)) / 100]
    paid = _webhook(shop.domain, customer_id, "orders/paid",
                    order_body(order_id, customer_id, lines), order_id)
    lane.append(paid)
    if rng.random() < DUPLICATED:
        again = paid if rng.random() < 0.5 else _webhook(
            shop.domain, customer_id, "orders/updated", paid.body, order_id)
        _place(lane, Op(**{**again.__dict__}), rng)
    if rng.random() < REFUNDED:
        refund_id = order_id + 500_000_000
        refund = _webhook(shop.domain, customer_id, "refunds/create",
                          refund_body(refund_id, order_id, lines[0]), order_id)
        if rng.random() < REFUND_FIRST:
            lane.insert(lane.index(paid), refund)  # out of order: the refund comes first
        else:
            _place(lane, refund, rng)
        if rng.random() < DUPLICATED:
            _place(lane, Op(**{**refund.__dict__}), rng)


def _redeem(lane: list[Op], rng: random.Random, shop: ShopPlan, customer_id: int,
            kind: RedeemRuleKind) -> None:
    body: dict[str, Any] = {"redeemRuleId": shop.rules[kind]}
    if kind is RedeemRuleKind.VARIABLE_AMOUNT:
        body["points"] = rng.choice([100, 200, 300, 400, 500])
    if kind is RedeemRuleKind.FREE_PRODUCT:
        body["variantId"] = rng.choice(FREE_PRODUCT_VARIANTS)
    op = Op("redeem", shop.domain, customer_id, "/loyalty/cp/api/redeem-points", body,
            key=str(uuid.uuid4()))
    lane.append(op)
    if rng.random() < KEY_RETRIED:
        _place(lane, Op(**{**op.__dict__}), rng, spread=2)


def _adjust(lane: list[Op], rng: random.Random, shop: ShopPlan, customer_id: int) -> None:
    points = rng.randint(50, 500) if rng.random() < 0.8 else -rng.randint(50, 200)
    op = Op("adjust", shop.domain, customer_id,
            f"/api/admin/customers/{customer_id}/adjust-points",
            {"points": points, "reason": "chaos adjustment"}, key=str(uuid.uuid4()))
    lane.append(op)
    if rng.random() < KEY_RETRIED:
        _place(lane, Op(**{**op.__dict__}), rng, spread=2)


def make_plan(shops: list[ShopPlan], operations: int, lanes: int, seed: int) -> Plan:
    """At least ``operations`` requests, deterministic for a seed."""
    rng = random.Random(seed)
    plan = Plan([[] for _ in range(lanes)])
    next_order = 5_500_000_000_000 + seed * 10_000_000
    next_customer = 8_100_000_000_000 + seed * 10_000_000
    redeemed = 0
    while plan.total < operations:
        shop = rng.choice(shops)
        customer_id = rng.choice(shop.customers)
        lane = plan.lanes[customer_id % lanes]
        roll = rng.random()
        if roll < 0.32:
            _redeem(lane, rng, shop, customer_id, KINDS[redeemed % len(KINDS)])
            redeemed += 1
        elif roll < 0.62:
            next_order += 1
            _orders(lane, rng, shop, customer_id, next_order)
        elif roll < 0.80:
            _adjust(lane, rng, shop, customer_id)
        elif roll < 0.88:
            next_customer += 1
            shop.customers.append(next_customer)
            plan.lanes[next_customer % lanes].append(_webhook(
                shop.domain, next_customer, "customers/create",
                customer_body(next_customer, f"new{next_customer}@example.com")))
        else:
            lane.append(_webhook(shop.domain, customer_id, "customers/update",
                                 customer_body(customer_id, f"c{customer_id}-{rng.randint(1, 9)}"
                                               "@example.com")))
    return plan


class Lane:
    """One sender thread; its requests go one after the other."""

    def __init__(self, base: str, ops: list[Op], results: Results, stop: threading.Event,
                 pace: Callable[[], None]) -> None:
        self.base, self.ops, self.results, self.stop = base, ops, results, stop
        self.pace = pace
        self.http = requests.Session()
        self.tokens: dict[tuple[str, int], str] = {}

    def run(self) -> None:
        for op in self.ops:
            self.pace()
            if self.stop.is_set():
                return
            try:
                self.send(op)
            except Exception as exc:  # the driver's own bug: reported, the lane goes on
                with self.results.lock:
                    self.results.driver_errors.append(f"{op.kind} {op.key}: {exc!r}")

    def headers(self, op: Op, raw: bytes) -> dict[str, str]:
        if op.kind == "webhook":
            return {"Content-Type": "application/json", "X-Shopify-Topic": op.topic,
                    "X-Shopify-Shop-Domain": op.domain, "X-Shopify-Webhook-Id": op.key,
                    "X-Shopify-API-Version": "2026-10",
                    "X-Shopify-Hmac-Sha256": sign_webhook(raw, SECRET)}
        if op.kind == "adjust":
            token = issue_admin_token(op.domain, api_key=API_KEY, secret=SECRET)
        else:
            token = self.tokens.get((op.domain, op.customer_id)) or issue_customer_token(
                op.domain, op.customer_id, api_key=API_KEY, secret=SECRET, ttl=6 * 3600)
            self.tokens[(op.domain, op.customer_id)] = token
        return {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                "Idempotency-Key": op.key}

    def send(self, op: Op) -> None:
        raw = json.dumps(op.body).encode()
        deadline = time.monotonic() + RESEND_SECONDS
        answer: requests.Response | None = None
        first = True
        while time.monotonic() < deadline and not self.stop.is_set():
            if not first:
                with self.results.lock:
                    self.results.resends += 1
                time.sleep(0.5)
            first = False
            try:
                # A fresh admin token each time: App Bridge tokens live a minute.
                answer = self.http.post(self.base + op.path, data=raw,
                                        headers=self.headers(op, raw), timeout=REQUEST_TIMEOUT)
            except requests.RequestException:
                continue
            if answer.status_code >= 500:
                with self.results.lock:
                    self.results.server_errors.append(
                        f"{op.kind} {answer.status_code}: {answer.text[:200]}")
                continue
            if answer.status_code == 409:
                continue  # request_in_progress: the first attempt is still running
            break
        self.record(op, answer)

    def record(self, op: Op, answer: requests.Response | None) -> None:
        status = answer.status_code if answer is not None else 0
        ok = status == 200
        code = ""
        if answer is not None and not ok:
            try:
                code = str(answer.json().get("code"))
            except ValueError:
                code = answer.text[:40]
        name = op.topic or op.kind
        with self.results.lock:
            results = self.results
            results.sent += 1
            results.operations[name] += 1
            results.answers[f"{name} {status} {code}".strip()] += 1
            if answer is None or status >= 500 or status == 409:
                results.unanswered.append(f"{name} {op.key}")
            if op.kind == "redeem":
                ids = results.redeemed.setdefault(op.key, set())
                if ok:
                    ids.add(int(answer.json()["rewards"][0]["id"]))  # type: ignore[union-attr]
            elif op.kind == "adjust":
                earlier = results.adjusted.get((op.domain, op.key), False)
                results.adjusted[(op.domain, op.key)] = earlier or ok
            elif op.topic.startswith("orders/"):
                earlier = results.orders.get((op.domain, op.order_id), False)
                results.orders[(op.domain, op.order_id)] = earlier or ok
            elif op.topic == "refunds/create":
                refund_id = int(op.body["id"])
                earlier_ack = results.refunds.get((op.domain, refund_id), (0, False))[1]
                results.refunds[(op.domain, refund_id)] = (op.order_id, earlier_ack or ok)


def drive(base: str, plan: Plan, results: Results, stop: threading.Event,
          progress: Callable[[float], None], seconds: float) -> None:
    """Send the plan from one thread per lane, spread over ``seconds`` at least (so that the
    faults fall among the operations); ``progress`` hears the share sent so far."""
    started = time.monotonic()

    def pace() -> None:
        while not stop.is_set():
            wait = started + results.sent / max(1, plan.total) * seconds - time.monotonic()
            if wait <= 0:
                return
            time.sleep(min(wait, 0.2))

    threads = [threading.Thread(target=Lane(base, ops, results, stop, pace).run, daemon=True)
               for ops in plan.lanes]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        progress(results.sent / max(1, plan.total))
        time.sleep(0.2)
    progress(1.0)
