"""Redeem-points throughput: the app under gunicorn on PostgreSQL, against bare SQL.

    python bench/redeem.py [--clients 32] [--seconds 15] [--workers 4] [--threads 8]

Runs three measurements on the ``bench`` database (BENCH_DATABASE_URL), each bounded in time:
1. 32 clients, each redeeming for its own customer, through HTTP (gunicorn, REDIS_URL set
   so fulfilment tasks are published to Redis but not run: only the API is measured);
2. the same with every client on one customer (the row lock serialises them);
3. the bare SQL of one redemption, the same statements from psycopg in 32 threads: the
   ceiling the app's own overhead is compared against.

A background thread marks rewards older than a second USED, as orders would, so that the
loyalty info (every UNUSED reward) stays the size a real customer's is.

``--pre-seeded`` keeps the database as it is (e.g. the million customers of
``bench.scale_seed``) instead of dropping it: the redemptions then go to the seeded shop's
customers 1…clients, among all the others' rows. ``--port`` for gunicorn.
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import threading
import time
from typing import Any

import psycopg
import redis

from bench.common import (
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    fresh_database,
    gunicorn,
    summary,
)
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.models import RedeemRuleKind
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.program import redeem_rules
from shopify_loyalty.shopify.auth import issue_customer_token

DOMAIN = "bench-shop.myshopify.com"
SECRET = "shpss_bench_secret_0123456789abcdef0123"
API_KEY = "bench-api-key"
COST = 10
PLENTY = 10**9


def seed(customers: int) -> int:
    """A shop (or the seeded one), a rule costing COST points, customers with plenty of
    points."""
    settings = Settings(database_url=BENCH_DATABASE_URL)
    app = create_app(settings)
    db = app.extensions["loyalty_db"]
    with db.unit_of_work() as session:
        from sqlalchemy import select

        from shopify_loyalty.models import Shop

        shop = session.scalars(select(Shop).where(Shop.domain == DOMAIN)).first()
        if shop is None:
            shop = Shop(domain=DOMAIN, currency="USD")
            session.add(shop)
            session.flush()
        rule = redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
            name="Ten cents off", kind=RedeemRuleKind.FIXED_AMOUNT, points_cost=COST,
            value=__import__("decimal").Decimal("0.10")))
        for customer_id in range(1, customers + 1):
            adjustments.adjust_points(session, shop, customer_id, PLENTY, "bench balance")
        rule_id = rule.id
    db.dispose()
    return rule_id


def mark_used_forever(stop: threading.Event, rule_id: int) -> None:
    """Only the bench rule's rewards: a pre-seeded database keeps its own as they are."""
    dsn = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.wait(0.5):
            conn.execute("UPDATE rewards SET status = 'USED', used_at = now() "
                         "WHERE status = 'UNUSED' AND redeem_rule_id = %s "
                         "AND created_at < now() - interval '1 second'", (rule_id,))


def run_clients(clients: int, seconds: float,
                make_client: Any) -> tuple[list[float], int, float]:
    """Run ``clients`` threads for ``seconds``; each calls ``make_client(i)`` once for a
    request function (its setup), then calls that until time is up. Latencies, errors, time."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start_line = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(i: int) -> None:
        request = make_client(i)
        start_line.wait()
        while time.monotonic() < deadline[0]:
            began = time.perf_counter()
            if request():
                latencies[i].append(time.perf_counter() - began)
            else:
                errors[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.monotonic()
    start_line.wait()
    for thread in threads:
        thread.join()
    return [x for per in latencies for x in per], sum(errors), time.monotonic() - began


def http_load(base: str, rule_id: int, customer_of: Any, clients: int,
              seconds: float) -> tuple[list[float], int, float]:
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"redeemRuleId": rule_id})

    def make_client(i: int) -> Any:
        token = issue_customer_token(DOMAIN, customer_of(i), api_key=API_KEY, secret=SECRET,
                                     ttl=3600)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn = http.client.HTTPConnection(host, int(port), timeout=30)

        def request() -> bool:
            try:
                conn.request("POST", "/loyalty/cp/api/redeem-points", body, headers)
                response = conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                return response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                return False

        return request

    return run_clients(clients, seconds, make_client)


def bare_sql_load(rule_id: int, customer_of: Any, clients: int,
                  seconds: float) -> tuple[list[float], int, float]:
    """The statements of one redemption, straight from psycopg: the ceiling."""
    dsn = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")

    def make_client(i: int) -> Any:
        conn = psycopg.connect(dsn)
        shop_id = conn.execute("SELECT id FROM shops WHERE domain = %s",
                               (DOMAIN,)).fetchone()[0]  # type: ignore[index]
        conn.commit()

        def request() -> bool:
            try:
                redeem_once(conn, shop_id, rule_id, customer_of(i))
                return True
            except psycopg.Error:
                conn.rollback()
                return False

        return request

    return run_clients(clients, seconds, make_client)


# services.points.batches.consume: the debit's points taken from the oldest batches first.
SPEND_OLDEST_FIRST = """
    UPDATE point_batches SET remaining = CASE WHEN w.running <= %(points)s THEN 0
                                              ELSE w.running - %(points)s END
    FROM (SELECT id, remaining AS had, sum(remaining) OVER (ORDER BY earned_at, id) AS running
          FROM point_batches WHERE customer_id = %(customer)s AND remaining > 0) AS w
    WHERE point_batches.id = w.id AND w.running - w.had < %(points)s"""


def redeem_once(conn: psycopg.Connection[Any], shop_id: int, rule_id: int,
                shopify_customer_id: int) -> None:
    with conn.transaction():
        conn.execute("SELECT * FROM shops WHERE domain = %s", (DOMAIN,))
        customer_id = conn.execute(
            "SELECT id FROM customers WHERE shop_id = %s AND shopify_customer_id = %s",
            (shop_id, shopify_customer_id)).fetchone()[0]  # type: ignore[index]
        conn.execute("SELECT * FROM redeem_rules WHERE id = %s", (rule_id,))
        reward_id = conn.execute(
            "INSERT INTO rewards (shop_id, customer_id, redeem_rule_id, reward_type, points, "
            "discount_code, amount, status, fulfillment_status, attempts, created_at, "
            "updated_at) VALUES (%s, %s, %s, 'DISCOUNT_CODE', %s, %s, 0.10, 'UNUSED', "
            "'PENDING', 0, now(), now()) RETURNING id",
            (shop_id, customer_id, rule_id, COST, "B-" + secrets.token_hex(6).upper()),
        ).fetchone()[0]  # type: ignore[index]
        after = conn.execute(
            "UPDATE customers SET available_points = available_points - %s, "
            "spent_points = spent_points + %s, last_activity_at = now() "
            "WHERE id = %s AND available_points >= %s "
            "RETURNING available_points", (COST, COST, customer_id, COST)).fetchone()[0]  # type: ignore[index]
        ledger_id = conn.execute(
            "INSERT INTO point_transactions (shop_id, customer_id, kind, status, points, "
            "available_after, source_type, source_id, note, created_at) VALUES "
            "(%s, %s, 'REDEEMED', 'APPROVED', %s, %s, 'reward', %s, 'bench', now()) "
            "RETURNING id", (shop_id, customer_id, -COST, after, str(reward_id))).fetchone()[0]  # type: ignore[index]
        conn.execute(SPEND_OLDEST_FIRST, {"customer": customer_id, "points": COST})
        conn.execute("UPDATE rewards SET point_transaction_id = %s WHERE id = %s",
                     (ledger_id, reward_id))
        outbox_id = conn.execute(
            "INSERT INTO outbox (shop_id, task_name, args, created_at, due_at) VALUES "
            "(%s, 'loyalty.fulfil_reward', %s, now(), now() + interval '5 seconds') "
            "RETURNING id",
            (shop_id, json.dumps([reward_id]))).fetchone()[0]  # type: ignore[index]
        conn.execute("SELECT * FROM rewards WHERE customer_id = %s AND status = 'UNUSED' "
                     "ORDER BY id DESC", (customer_id,)).fetchall()
        conn.execute("SELECT * FROM rewards WHERE customer_id = %s AND status != 'UNUSED' "
                     "ORDER BY id DESC LIMIT 20", (customer_id,)).fetchall()
        conn.execute("SELECT * FROM vip_tiers WHERE shop_id = %s", (shop_id,)).fetchall()
    conn.execute("UPDATE outbox SET sent_at = now() WHERE id = %s", (outbox_id,))
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--pre-seeded", action="store_true",
                        help="keep the database (bench.scale_seed's) instead of a fresh one")
    args = parser.parse_args()

    if not args.pre_seeded:
        fresh_database()
    rule_id = seed(args.clients)
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    env = {
        "DATABASE_URL": BENCH_DATABASE_URL,
        "REDIS_URL": BENCH_REDIS_URL,
        "RATELIMIT_ENABLED": "0",
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": SECRET,
    }
    stop = threading.Event()
    marker = threading.Thread(target=mark_used_forever, args=(stop, rule_id), daemon=True)
    marker.start()
    results = {}
    try:
        with gunicorn(args.port, env, args.workers, args.threads) as base:
            own = http_load(base, rule_id, lambda i: i + 1, args.clients, args.seconds)
            results["app"] = own
            print(summary(f"app, {args.clients} clients, own customers", own[0], own[2], own[1]))
            hot = http_load(base, rule_id, lambda i: 1, args.clients, args.seconds)
            print(summary(f"app, {args.clients} clients, one customer", hot[0], hot[2], hot[1]))
        bare = bare_sql_load(rule_id, lambda i: i + 1, args.clients, args.seconds)
        print(summary(f"bare SQL, {args.clients} connections, own customers", *bare[::2],
                      bare[1]))
    finally:
        stop.set()
        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    app_rate = len(own[0]) / own[2]
    bare_rate = len(bare[0]) / bare[2]
    print(f"app / bare SQL = {app_rate / bare_rate:.2f} ({app_rate:.0f}/s of {bare_rate:.0f}/s)")


if __name__ == "__main__":
    main()
