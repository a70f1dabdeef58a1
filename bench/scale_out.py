"""Scale-out: one, then two app groups (gunicorn + Celery worker) on one PostgreSQL and Redis.

    python -m bench.scale_out [--broker redis] [--broker amqp] [--groups 1 --groups 2]
                              [--shops 4] [--clients 16] [--seconds 20] [--port-base 20040]

For each broker (Redis DB of BENCH_REDIS_URL, or RabbitMQ at --amqp-url with a queue of its
own) and each number of groups: BENCH_DATABASE_URL is dropped and re-migrated, --shops shops
are seeded (a rule of 10 points, customers with plenty), the Admin API stand-in
(bench/shopify_standin.py: Shopify's bucket, 2000 points, 100 a second, 10 a mutation) starts
on --port-base, and each group is a gunicorn (2 workers × 4 threads) on --port-base + 1 + n
and a ``celery worker`` (prefork, 4). The groups share the database, Redis (so each shop's
Shopify cost bucket, shared.RedisBucket) and the broker. --clients clients, spread over the
groups and shops, redeem for --seconds; then the workers drain the fulfilments. --backlog
rewards per shop are queued before the groups start (published to the broker), so that every
shop's bucket is spent whatever the machine's speed: 200 codes of burst, then 10 a second.

It prints redeems a second (each group's and the total) with p50/p99, codes a second made in
Shopify, and per shop: codes, THROTTLED answers, and the worst window of the stand-in's
per-second cost against the bucket (cost in any run of seconds minus 100 a second restored,
which must stay within the 2000 the bucket holds: "bucket respected").
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import redis
from kombu import Connection
from sqlalchemy import select, text

from bench.common import (
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    ROOT,
    fresh_database,
    gunicorn,
    summary,
)
from bench.redeem import run_clients
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.db import utcnow
from shopify_loyalty.jobs.lanes import worker_queues
from shopify_loyalty.models import Customer, RedeemRuleKind, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.program import redeem_rules
from shopify_loyalty.services.rewards import redemption
from shopify_loyalty.token_cipher import TokenCipher

SECRET = "shpss_bench_secret_0123456789abcdef0123"
API_KEY = "bench-api-key"
BUCKET, RESTORE = 2000.0, 100.0


def seed(shops: int, customers: int, backlog: int, env: dict[str, str]) -> list[tuple[str, int]]:
    """(domain, rule id) of each shop; ``backlog`` rewards each, sent to the broker."""
    settings = Settings(database_url=BENCH_DATABASE_URL, redis_url=env["REDIS_URL"],
                        celery_broker_url=env["CELERY_BROKER_URL"],
                        celery_queue=env["CELERY_QUEUE"])
    db = create_app(settings).extensions["loyalty_db"]
    cipher = TokenCipher(settings.token_encryption_key)
    made = []
    with db.unit_of_work() as session:
        for n in range(shops):
            shop = Shop(domain=f"scale-{n}.myshopify.com", currency="USD",
                        access_token_enc=cipher.encrypt("shpat_bench"))
            session.add(shop)
            session.flush()
            rule = redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
                name="Ten cents off", kind=RedeemRuleKind.FIXED_AMOUNT, points_cost=10,
                value=Decimal("0.10")))
            for customer in range(1, customers + 1):
                adjustments.adjust_points(session, shop, customer, 10**9, "bench balance")
            made.append((shop.domain, rule.id))
    with db.unit_of_work() as session:  # its commit publishes every fulfilment
        for domain, rule_id in made:
            shop = session.scalars(select(Shop).where(Shop.domain == domain)).one()
            customer = session.scalars(select(Customer).where(
                Customer.shop_id == shop.id, Customer.shopify_customer_id == 1)).one()
            for _ in range(backlog):
                redemption.redeem_points(session, shop, customer,
                                         redemption.RedeemCommand(rule_id), utcnow())
    db.dispose()
    return made


@contextmanager
def worker(env: dict[str, str], name: str) -> Iterator[None]:
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "workers.celery_app", "worker",
         "--pool", "prefork", "--concurrency", "4", "--loglevel", "WARNING", "-n",
         f"{name}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env={**os.environ, **env}, cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)


def stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats", timeout=30) as answer:
        found: dict[str, Any] = json.load(answer)
        return found


def worst_window(cost_by_second: list[list[int]]) -> float:
    """Max over runs of seconds of (cost charged - RESTORE × seconds): within BUCKET when the
    bucket was respected."""
    costs = {second: cost for second, cost in cost_by_second}
    if not costs:
        return 0.0
    seconds = range(min(costs), max(costs) + 1)
    worst, best_tail = 0.0, 0.0
    for second in seconds:  # Kadane over (cost - RESTORE) per second
        best_tail = max(0.0, best_tail) + costs.get(second, 0) - RESTORE
        worst = max(worst, best_tail)
    return worst


def pending(db_url: str) -> int:
    db = create_app(Settings(database_url=db_url)).extensions["loyalty_db"]
    with db.engine.connect() as conn:
        count = int(conn.execute(text(
            "SELECT count(*) FROM rewards WHERE fulfillment_status = 'PENDING'")).scalar() or 0)
    db.dispose()
    return count


def run(broker: str, groups: int, args: argparse.Namespace) -> None:
    fresh_database()
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    per_shop = max(1, args.clients // args.shops)
    queue = f"scale-bench-{uuid.uuid4().hex[:8]}"
    broker_url = BENCH_REDIS_URL if broker == "redis" else args.amqp_url
    standin_port = args.port_base
    env: dict[str, str] = {"DATABASE_URL": BENCH_DATABASE_URL, "REDIS_URL": BENCH_REDIS_URL,
           "CELERY_BROKER_URL": broker_url, "CELERY_QUEUE": queue, "RATELIMIT_ENABLED": "0",
           "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": SECRET, "LOG_FORMAT": "text",
           "SHOPIFY_ADMIN_BASE_URL": f"http://127.0.0.1:{standin_port}/{{shop}}"}
    shops = seed(args.shops, per_shop, args.backlog, env)
    standin = subprocess.Popen([sys.executable, str(ROOT / "bench/shopify_standin.py"),
                                "--port", str(standin_port)], stderr=subprocess.DEVNULL)
    try:
        with ExitStack() as stack:
            bases = []
            for n in range(groups):
                bases.append(stack.enter_context(
                    gunicorn(args.port_base + 1 + n, env, workers=2, threads=4)))
                stack.enter_context(worker(env, f"scale-{n}"))
            began = time.monotonic()
            latencies, errors, seconds, per_group = load(bases, shops, per_shop, args)
            codes_at_end_of_load = sum(s["codes"] for s in stats(standin_port).values())
            deadline = time.monotonic() + args.drain_timeout
            while pending(BENCH_DATABASE_URL) and time.monotonic() < deadline:
                time.sleep(1)
            drained = time.monotonic() - began
            left = pending(BENCH_DATABASE_URL)
        every = stats(standin_port)
    finally:
        standin.terminate()
        standin.wait(10)
        if broker == "amqp":
            with Connection(args.amqp_url) as connection:
                for name in worker_queues(queue):
                    try:
                        connection.default_channel.queue_delete(name)
                    except Exception:  # never declared
                        pass
        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    print(f"== broker {broker}, {groups} group(s): {len(shops)} shops, {args.clients} clients "
          f"== load average {os.getloadavg()[0]:.1f}")
    for n, (lat, errs, secs) in enumerate(per_group):
        print("  " + summary(f"group {n}", lat, secs, errs))
    print("  " + summary("all groups", latencies, seconds, errors))
    codes = sum(s["codes"] for s in every.values())
    print(f"  codes made: {codes_at_end_of_load} during the load "
          f"({codes_at_end_of_load / seconds:.1f}/s), {codes} in all after {drained:.0f} s "
          f"({codes / drained:.1f}/s); still PENDING {left}")
    for domain, _ in shops:
        shop = every.get(domain, {})
        worst = worst_window(shop.get("costBySecond", []))
        print(f"  {domain}: codes {shop.get('codes', 0)}, requests {shop.get('requests', 0)}, "
              f"THROTTLED {shop.get('throttled', 0)}, worst window {worst:.0f} of {BUCKET:.0f} "
              f"points ({'respected' if worst <= BUCKET + 1e-6 else 'OVER'})")


def load(bases: list[str], shops: list[tuple[str, int]], per_shop: int,
         args: argparse.Namespace) -> tuple[list[float], int, float,
                                            list[tuple[list[float], int, float]]]:
    """Client i redeems through group i % groups, for shop i % shops."""
    from shopify_loyalty.shopify.auth import issue_customer_token

    per_client: dict[int, list[float]] = {}
    failures: dict[int, int] = {}

    def make_client(i: int) -> Any:
        base = bases[i % len(bases)]
        domain, rule_id = shops[i % len(shops)]
        customer = (i // len(shops)) % per_shop + 1
        token = issue_customer_token(domain, customer, api_key=API_KEY, secret=SECRET,
                                     ttl=3600)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        host, port = base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        body = json.dumps({"redeemRuleId": rule_id})
        mine = per_client.setdefault(i, [])

        def request() -> bool:
            began = time.perf_counter()
            try:
                conn.request("POST", "/loyalty/cp/api/redeem-points", body, headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                ok = False
            if ok:
                mine.append(time.perf_counter() - began)
            else:
                failures[i] = failures.get(i, 0) + 1
            return ok

        return request

    latencies, errors, seconds = run_clients(args.clients, args.seconds, make_client)
    per_group = []
    for n in range(len(bases)):
        lat = [x for i, xs in per_client.items() if i % len(bases) == n for x in xs]
        errs = sum(e for i, e in failures.items() if i % len(bases) == n)
        per_group.append((lat, errs, seconds))
    return latencies, errors, seconds, per_group


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", action="append", choices=("redis", "amqp"))
    parser.add_argument("--groups", action="append", type=int)
    parser.add_argument("--shops", type=int, default=2)
    parser.add_argument("--backlog", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--drain-timeout", type=float, default=240)
    parser.add_argument("--port-base", type=int, default=20040)
    parser.add_argument("--amqp-url", default=os.environ.get(
        "BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//"))
    args = parser.parse_args()
    for broker in args.broker or ["redis"]:
        for groups in args.groups or [1, 2]:
            run(broker, groups, args)


if __name__ == "__main__":
    main()
