"""Event deliveries under chaos: an endpoint that fails often, and the check "every event
delivered or visibly FAILED" (invariant 10): on by default, ``bench.chaos --no-events``
leaves it out. The deliveries run on their own worker (``--queues events``, threads), as in
production.

The endpoint answers 500 to half the deliveries while the run's faults are on and 200 once
they are off; it verifies each delivery's Standard Webhooks signature (``v1,`` base64
HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{body}`` with the endpoint's ``whsec_``
secret) and keeps the ids it acknowledged. After the drain every delivery must be DELIVERED
(and its id acknowledged by the endpoint), FAILED, or PENDING with attempts made and a next
attempt scheduled (a retry waiting, which ``events deliveries --failed`` shows); a PENDING
delivery never attempted, or an event with no delivery to an endpoint that existed when it was
written, is a violation. The drain (chaos_checks.wait_drained) waits for open outbox rows
except delivery retries due minutes later (the schedule's 5 min, 30 min…).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from bench.chaos_setup import ShopPlan
from bench.chaos_stack import ROOT, Stack

FAILURE_RATE = 0.5


@dataclass
class Endpoints:
    secrets: dict[str, bytes] = field(default_factory=dict)  # endpoint URL → HMAC key
    acknowledged: set[str] = field(default_factory=set)
    bad_signatures: int = 0
    failure_rate: float = FAILURE_RATE
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data()
        webhook_id = request.headers.get("webhook-id", "")
        stamp = request.headers.get("webhook-timestamp", "")
        key = self.secrets.get(request.base_url)
        signed = f"{webhook_id}.{stamp}.".encode() + body
        expected = "v1," + base64.b64encode(
            hmac.new(key or b"", signed, hashlib.sha256).digest()).decode()
        offered = request.headers.get("webhook-signature", "").split()
        with self.lock:
            if key is None or expected not in offered:
                self.bad_signatures += 1
                return Response("bad signature", 400)(environ, start_response)
            if self.rng.random() < self.failure_rate:
                return Response("chaos", 500)(environ, start_response)
            self.acknowledged.add(webhook_id)
        return Response("ok", 200)(environ, start_response)

    def calm(self) -> None:
        self.failure_rate = 0.0


def start(stack: Stack, shops: list[ShopPlan]) -> Endpoints:
    """Serve the endpoint on the port after the stand-in's and register it for each shop."""
    endpoints = Endpoints()
    port = stack.ports.standin + 1
    server = make_server("127.0.0.1", port, endpoints, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for shop in shops:
        url = f"http://127.0.0.1:{port}/{shop.domain}"
        answer = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "events", "endpoints", "add",
             shop.domain, url], cwd=ROOT, env=stack.env("cli"), capture_output=True,
            text=True, timeout=120, check=True)
        secret = str(json.loads(answer.stdout)["secret"])
        endpoints.secrets[url] = base64.b64decode(secret.removeprefix("whsec_"))
    return endpoints


def check(engine: Engine, endpoints: Endpoints) -> list[dict[str, str]]:
    with engine.connect() as connection:
        missing = connection.execute(text(
            "SELECT count(*) FROM events e JOIN event_endpoints p ON p.shop_id = e.shop_id"
            " AND p.created_at <= e.created_at LEFT JOIN event_deliveries d"
            " ON d.event_id = e.id AND d.endpoint_id = p.id WHERE d.id IS NULL")).scalar_one()
        rows = list(connection.execute(text(
            "SELECT d.id, d.status, d.attempts, d.next_attempt_at, e.public_id"
            " FROM event_deliveries d JOIN events e ON e.id = d.event_id")))
    found = [{"check": "event_without_delivery", "detail": f"{missing} events"}] if missing else []
    if endpoints.bad_signatures:
        found.append({"check": "event_bad_signature",
                      "detail": f"{endpoints.bad_signatures} deliveries"})
    for delivery_id, status, attempts, next_at, public_id in rows:
        if status == "DELIVERED" and public_id not in endpoints.acknowledged:
            found.append({"check": "event_delivered_not_received",
                          "detail": f"delivery {delivery_id} ({public_id})"})
        elif status == "PENDING" and (not attempts or next_at is None):
            found.append({"check": "event_pending_invisible",
                          "detail": f"delivery {delivery_id}: {attempts} attempts"})
    return found


def summary(engine: Engine) -> dict[str, int]:
    """Deliveries by status (PENDING ones are waiting for a retry) and their attempts."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT status, count(*), coalesce(sum(attempts), 0) FROM event_deliveries"
            " GROUP BY status")).all()
    found = {f"deliveries:{status}": int(count) for status, count, _ in rows}
    found["attempts"] = sum(int(attempts) for _, _, attempts in rows)
    return found
