"""Redeem-points throughput: the app under gunicorn on PostgreSQL, against bare SQL.

    python -m bench.redeem [--clients 32] [--seconds 15] [--customers 3200] [--port 19010]
                           [--workers 4] [--threads 8] [--worker-class gthread]

Runs three measurements on the bench database (BENCH_DATABASE_URL), each bounded in time:
1. 32 clients through HTTP (gunicorn, REDIS_URL set so fulfilment tasks are published to
   Redis but not run: only the API is measured), each request for the next of 3,200
   customers (so each holds a few rewards, as real ones do) and with its own
   ``Idempotency-Key``;
2. the same with every client on one customer whose points run out mid-run: the row lock
   serialises them, and every answer must be a redemption or ``insufficient_points``;
3. the bare SQL of one redemption, the same statements from psycopg in 32 threads: the
   ceiling the app's own overhead is compared against.

For each: redeems per second, p50/p99, and the CPU time per request of the app's processes
and of PostgreSQL's backends (from /proc: far less sensitive to a loaded machine), with the
load average. Afterwards every balance is checked against the ledger and the batches.

A background thread marks rewards older than a second USED, as orders would, so that the
loyalty info (every UNUSED reward) stays the size a real customer's is.

``--pre-seeded`` keeps the database as it is (e.g. the million customers of
``bench.scale_seed``) instead of dropping it: the redemptions then go to the seeded shop's
customers 1…clients, among all the others' rows. ``--port`` for gunicorn.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from typing import Any

import psycopg
import redis

from bench.common import (
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    CpuMeter,
    children,
    cpu_line,
    fresh_database,
    gunicorn,
    load_average,
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


HOT_CUSTOMER = 10**6


def seed(customers: int, hot_points: int) -> int:
    """A shop (or the pre-seeded one), a rule costing COST points, customers with plenty of
    points, and the hot customer with ``hot_points``."""
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
        adjustments.adjust_points(session, shop, HOT_CUSTOMER, hot_points, "bench balance")
        rule_id = rule.id
    db.dispose()
    # The planner's statistics of the seeded tables: this machine's PostgreSQL runs with
    # autovacuum off, and without them the loyalty info's rewards query took the shop's
    # index (1.05 ms of PostgreSQL CPU a redemption instead of 0.12 ms).
    with psycopg.connect(BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql"),
                         autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return rule_id


def existing_rule() -> int | None:
    """The rule of an earlier run's seed, if the database holds one."""
    dsn = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT r.id FROM redeem_rules r JOIN shops s ON s.id = "
                               "r.shop_id WHERE s.domain = %s", (DOMAIN,)).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


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
            outcome = request()
            if outcome:
                latencies[i].append(time.perf_counter() - began)
            elif outcome is not None:
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


class Rotation:
    """The next customer for each request, round the whole list, across every client."""

    def __init__(self, customers: list[int]) -> None:
        self.customers = customers
        self.next = itertools.count()

    def __call__(self) -> int:
        return self.customers[next(self.next) % len(self.customers)]


def http_load(base: str, rule_id: int, next_customer: Rotation, clients: int, seconds: float,
              accept: frozenset[str] = frozenset()) -> tuple[list[float], int, float, Counter[str]]:
    """Latencies of the 200s, errors, time, and the count of every answer by its code
    (``ok`` for a 200); a refusal whose code is in ``accept`` is neither a latency nor an
    error."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"redeemRuleId": rule_id})
    tokens = {c: issue_customer_token(DOMAIN, c, api_key=API_KEY, secret=SECRET, ttl=3600)
              for c in set(next_customer.customers)}
    codes: Counter[str] = Counter()

    def make_client(i: int) -> Any:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)

        def request() -> bool | None:
            customer = next_customer()
            headers = {"Authorization": f"Bearer {tokens[customer]}",
                       "Content-Type": "application/json",
                       "Idempotency-Key": uuid.uuid4().hex}
            try:
                conn.request("POST", "/loyalty/cp/api/redeem-points", body, headers)
                response = conn.getresponse()
                answer = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                codes[type(exc).__name__] += 1
                return False
            if response.status == 200:
                codes["ok"] += 1
                return True
            try:
                code = str(json.loads(answer).get("code"))
            except ValueError:
                code = f"http {response.status}"
            codes[code] += 1
            return None if code in accept else False

        return request

    latencies, errors, took = run_clients(clients, seconds, make_client)
    return latencies, errors, took, codes


def bare_sql_load(rule_id: int, next_customer: Rotation, clients: int, seconds: float,
                  opened: list[psycopg.Connection[Any]]) -> tuple[list[float], int, float]:
    """The statements of one redemption, straight from psycopg: the ceiling."""
    dsn = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")

    def make_client(i: int) -> Any:
        conn = psycopg.connect(dsn)
        opened.append(conn)  # closed by the caller, after its CPU meter has read them
        shop_id = conn.execute("SELECT id FROM shops WHERE domain = %s",
                               (DOMAIN,)).fetchone()[0]  # type: ignore[index]
        conn.commit()

        def request() -> bool:
            try:
                redeem_once(conn, shop_id, rule_id, next_customer())
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


EVENT = ("INSERT INTO events (public_id, shop_id, customer_id, type, body, created_at) "
         "VALUES (%s, %s, %s, %s, %s, now())")


def redeem_once(conn: psycopg.Connection[Any], shop_id: int, rule_id: int,
                shopify_customer_id: int) -> None:
    """The redemption's minimal statements: the key's claim (its own transaction, as the
    app's), then one transaction of the debit, its ledger row, batches, reward, two events,
    outbox row and answer, and the outbox row marked sent after the commit."""
    with conn.transaction():
        customer_id, key_id = conn.execute(
            "INSERT INTO idempotency_keys (shop_id, customer_id, key, request_hash, "
            "locked_at, created_at) SELECT s.id, c.id, %s, 'h', now(), now() FROM shops s "
            "JOIN customers c ON c.shop_id = s.id WHERE s.domain = %s "
            "AND c.shopify_customer_id = %s RETURNING customer_id, id",
            (uuid.uuid4().hex, DOMAIN, shopify_customer_id)).fetchone()  # type: ignore[misc]
    with conn.transaction():
        conn.execute("SELECT * FROM redeem_rules WHERE id = %s", (rule_id,))
        after = conn.execute(
            "UPDATE customers SET available_points = available_points - %s, "
            "spent_points = spent_points + %s, last_activity_at = now() "
            "WHERE id = %s AND available_points >= %s "
            "RETURNING available_points", (COST, COST, customer_id, COST)).fetchone()[0]  # type: ignore[index]
        reward_id = conn.execute(
            "INSERT INTO rewards (shop_id, customer_id, redeem_rule_id, reward_type, points, "
            "discount_code, amount, status, fulfillment_status, attempts, created_at, "
            "updated_at) VALUES (%s, %s, %s, 'DISCOUNT_CODE', %s, %s, 0.10, 'UNUSED', "
            "'PENDING', 0, now(), now()) RETURNING id",
            (shop_id, customer_id, rule_id, COST, "B-" + secrets.token_hex(6).upper()),
        ).fetchone()[0]  # type: ignore[index]
        ledger_id = conn.execute(
            "INSERT INTO point_transactions (shop_id, customer_id, kind, status, points, "
            "available_after, source_type, source_id, note, created_at) VALUES "
            "(%s, %s, 'REDEEMED', 'APPROVED', %s, %s, 'reward', %s, 'bench', now()) "
            "RETURNING id", (shop_id, customer_id, -COST, after, str(reward_id))).fetchone()[0]  # type: ignore[index]
        conn.execute(SPEND_OLDEST_FIRST, {"customer": customer_id, "points": COST})
        conn.execute("UPDATE rewards SET point_transaction_id = %s WHERE id = %s",
                     (ledger_id, reward_id))
        body = json.dumps({"data": {"availablePoints": after, "rewardId": reward_id}})
        conn.cursor().executemany(EVENT, [
            ("evt_" + secrets.token_hex(16), shop_id, customer_id, "points.redeemed", body),
            ("evt_" + secrets.token_hex(16), shop_id, customer_id, "reward.created", body)])
        outbox_id = conn.execute(
            "INSERT INTO outbox (shop_id, task_name, args, created_at, due_at) VALUES "
            "(%s, 'loyalty.fulfil_reward', %s, now(), now() + interval '5 seconds') "
            "RETURNING id",
            (shop_id, json.dumps([reward_id]))).fetchone()[0]  # type: ignore[index]
        rewards = conn.execute(
            "SELECT * FROM rewards WHERE id IN ("
            "(SELECT id FROM rewards WHERE customer_id = %(c)s AND status = 'UNUSED' "
            "ORDER BY id DESC LIMIT 100) UNION ALL "
            "(SELECT id FROM rewards WHERE customer_id = %(c)s AND status != 'UNUSED' "
            "ORDER BY id DESC LIMIT 20)) ORDER BY id DESC", {"c": customer_id}).fetchall()
        conn.execute("UPDATE idempotency_keys SET response_status = 200, response_body = %s, "
                     "locked_at = NULL WHERE id = %s",
                     (json.dumps({"rewards": [r[0] for r in rewards]}), key_id))
    conn.execute("UPDATE outbox SET sent_at = now() WHERE id = %s", (outbox_id,))
    conn.commit()


def check_balances() -> str:
    """Every customer's balance against the ledger and the batches; the hot customer's
    rewards against what it spent."""
    dsn = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        off_ledger = conn.execute(
            "SELECT count(*) FROM customers c WHERE available_points <> (SELECT "
            "coalesce(sum(points), 0) FROM point_transactions p WHERE p.customer_id = c.id "
            "AND p.status = 'APPROVED')").fetchone()[0]  # type: ignore[index]
        off_batches = conn.execute(
            "SELECT count(*) FROM customers c WHERE available_points <> (SELECT "
            "coalesce(sum(remaining), 0) FROM point_batches b WHERE b.customer_id = c.id)"
        ).fetchone()[0]  # type: ignore[index]
        hot = conn.execute(
            "SELECT c.available_points, (SELECT count(*) FROM rewards r "
            "WHERE r.customer_id = c.id) FROM customers c WHERE shopify_customer_id = %s",
            (HOT_CUSTOMER,)).fetchone()
    assert hot is not None
    return (f"balances: {off_ledger} customers off their ledger, {off_batches} off their "
            f"batches; hot customer {hot[1]} rewards, {hot[0]} points left")


def rate_line(codes: Counter[str], seconds: float) -> str:
    return ", ".join(f"{code} {count} ({count / seconds:.0f}/s)"
                     for code, count in codes.most_common())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--customers", type=int, default=3200)
    parser.add_argument("--hot-redemptions", type=int, default=1500,
                        help="the hot customer's points, in redemptions")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--worker-class", default=None)
    parser.add_argument("--port", type=int, default=19010)
    parser.add_argument("--only", choices=["app", "hot", "bare"], action="append")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the seeded database of an earlier run (comparing settings)")
    parser.add_argument("--pre-seeded", action="store_true",
                        help="keep the database (bench.scale_seed's) instead of a fresh one")
    args = parser.parse_args()
    only = set(args.only or ["app", "hot", "bare"])

    rule_id = existing_rule() if args.reuse else None
    if rule_id is None:
        if not args.pre_seeded:
            fresh_database()
        rule_id = seed(args.customers, args.hot_redemptions * COST)
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    env = {
        "DATABASE_URL": BENCH_DATABASE_URL,
        "REDIS_URL": BENCH_REDIS_URL,
        "RATELIMIT_ENABLED": "0",
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": SECRET,
    }
    everyone = Rotation(list(range(1, args.customers + 1)))
    stop = threading.Event()
    marker = threading.Thread(target=mark_used_forever, args=(stop, rule_id), daemon=True)
    marker.start()
    app_rate = bare_rate = 0.0
    print(f"{args.workers} workers × {args.threads} threads "
          f"({args.worker_class or 'gthread'}), {args.clients} clients; {load_average()}")
    try:
        with gunicorn(args.port, env, args.workers, args.threads, args.worker_class) as base:
            meter = CpuMeter(lambda: children(base.process.pid), BENCH_DATABASE_URL)
            if "app" in only:
                meter.start()
                own, errors, took, codes = http_load(base, rule_id, everyone, args.clients,
                                                     args.seconds)
                app_cpu = meter.stop()
                app_rate = len(own) / took
                print(summary(f"app, {args.clients} clients, next of {args.customers} "
                              "customers", own, took, errors))
                print("  answers: " + rate_line(codes, took))
                print("  " + cpu_line("app", *app_cpu, len(own) + errors))
                print(f"  {load_average()}")
            if "hot" in only:
                meter.start()
                hot, errors, took, codes = http_load(
                    base, rule_id, Rotation([HOT_CUSTOMER]), args.clients, args.seconds,
                    accept=frozenset({"insufficient_points"}))
                hot_cpu = meter.stop()
                print(summary(f"app, {args.clients} clients, one customer", hot, took, errors))
                print("  answers: " + rate_line(codes, took))
                print("  " + cpu_line("hot", *hot_cpu, sum(codes.values())))
                print(f"  {load_average()}")
        if "bare" in only:
            bare_meter = CpuMeter(lambda: [os.getpid()], BENCH_DATABASE_URL)
            opened: list[psycopg.Connection[Any]] = []
            # The bare connections' backends start after this: their whole CPU is the run's.
            bare_meter.start()
            bare = bare_sql_load(rule_id, everyone, args.clients, args.seconds, opened)
            bare_cpu = bare_meter.stop()
            for conn in opened:
                conn.close()
            bare_rate = len(bare[0]) / bare[2]
            print(summary(f"bare SQL, {args.clients} connections, next of {args.customers} "
                          "customers", bare[0], bare[2], bare[1]))
            print("  " + cpu_line("bare (client is the psycopg process)", *bare_cpu,
                                  len(bare[0])))
            print(f"  {load_average()}")
    finally:
        stop.set()
        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    print(check_balances())
    if app_rate and bare_rate:
        print(f"app / bare SQL = {app_rate / bare_rate:.2f} "
              f"({app_rate:.0f}/s of {bare_rate:.0f}/s)")


if __name__ == "__main__":
    main()
