"""Benchmark: the ``tiers`` job over many expired customers, and the loyalty-info progress read.

Seeds one ROLLING_12_MONTHS shop with N customers whose tier expired yesterday, each with
three days of progress in the last year (a third keep Gold, a third step down to Silver, a
third lose their tier), runs every batch of the job in this process as ``jobs run tiers``
does, and prints the wall time, customers per second, the process's peak RSS before and
after, and the plans (EXPLAIN ANALYZE) of one customer's progress read and of one batch's
due-customers query.

    .venv/bin/python -m bench.tiers [--customers 1000000]

The bench database (BENCH_DATABASE_URL) is dropped and re-migrated first.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import timedelta

from sqlalchemy import text

from bench.common import BENCH_DATABASE_URL, fresh_database
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.services.customers.tier_review import REVIEW_BATCH

SEED = """
INSERT INTO shops (id, domain, currency, needs_reauth, installed_at, settings, created_at)
VALUES (1, 'bench-tiers.myshopify.com', 'USD', false, now(),
        '{"tier_metric": "SPENT", "tier_period": "ROLLING_12_MONTHS"}', now());
INSERT INTO vip_tiers (id, shop_id, name, threshold, earn_multiplier, entry_points, active,
                       created_at)
VALUES (1, 1, 'Silver', 50, 1, 100, true, now()), (2, 1, 'Gold', 100, 1.5, 500, true, now()),
       (3, 1, 'Platinum', 1000, 2, 1000, true, now());
INSERT INTO customers (shop_id, shopify_customer_id, email, tags, status, available_points,
    pending_points, credited_points, spent_points, spent_amount, store_credit_balance,
    vip_tier_id, vip_tier_expires_at, referred_completed, rewarded_for, signup_rewarded,
    lifetime_earned_points, lifetime_orders, created_at, updated_at)
SELECT 1, 10000000 + g, 'c' || g || '@example.com', '[]', 'ACTIVE', 0, 0, 0, 0, 0, 0,
       2, now() - interval '1 day', 0, '{}', false, 0, 0, now(), now()
FROM generate_series(1, :n) AS g;
INSERT INTO tier_progress_days (customer_id, day, shop_id, spent, points, orders)
SELECT c.id, CAST(timezone('UTC', now()) AS DATE) - CAST(d * 100 + c.id % 50 AS INTEGER), 1,
       CASE c.id % 3 WHEN 0 THEN 40 WHEN 1 THEN 20 ELSE 5 END, 0, 1
FROM customers c CROSS JOIN generate_series(0, 2) AS d;
ANALYZE;
"""


def seed(db: Database, customers: int) -> None:
    with db.engine.begin() as connection:
        for statement in SEED.split(";"):
            if statement.strip():
                connection.execute(text(statement), {"n": customers})


def explain(db: Database, sql: str, **params: object) -> str:
    with db.engine.begin() as connection:
        rows = connection.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql), params).all()
    return "\n".join("    " + row[0] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    fresh_database(BENCH_DATABASE_URL)
    db = Database(BENCH_DATABASE_URL)
    started = time.perf_counter()
    seed(db, args.customers)
    print(f"seeded {args.customers} customers in {time.perf_counter() - started:.1f} s")
    # What services.customers.progress.current sends for one customer (loyalty info's
    # second query, after the tiers; the customer row is already loaded by then).
    print("loyalty info's progress read (one customer, ROLLING_12_MONTHS):")
    print(explain(db, "SELECT coalesce(sum(spent), 0) FROM tier_progress_days"
                      " WHERE customer_id = :c AND shop_id = 1 AND day >= :first",
                  c=args.customers // 2, first=(utcnow() - timedelta(days=364)).date()))
    print("loyalty info's tiers read:")
    print(explain(db, "SELECT * FROM vip_tiers WHERE shop_id = 1 ORDER BY threshold, id"))
    print("one batch's due customers:")
    print(explain(db, "SELECT id FROM customers WHERE vip_tier_id IS NOT NULL"
                      " AND vip_tier_expires_at <= now() ORDER BY vip_tier_expires_at"
                      " LIMIT :n FOR UPDATE OF customers SKIP LOCKED", n=REVIEW_BATCH))

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    report = scheduled.run_now(db, "tiers", utcnow())
    seconds = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"tiers job: {report.handled} customers in {report.batches} batches of "
          f"{REVIEW_BATCH}, {seconds:.1f} s → {report.handled / seconds:.0f}/s; "
          f"peak RSS {rss_before / 1024:.0f} MB before, {rss_after / 1024:.0f} MB after")
    with db.engine.connect() as connection:
        placed = connection.execute(text(
            "SELECT coalesce(t.name, 'none'), count(*) FROM customers c LEFT JOIN vip_tiers t"
            " ON t.id = c.vip_tier_id GROUP BY 1 ORDER BY 1")).all()
        events = connection.execute(text(
            "SELECT count(*) FROM events WHERE type = 'tier.changed'")).scalar()
        renewed = connection.execute(text(
            "SELECT count(*) FROM customers WHERE vip_tier_expires_at > :t"),
            {"t": utcnow() + timedelta(days=364)}).scalar()
    print(f"placed: {dict(placed)}; tier.changed events: {events}; renewed: {renewed}")
    again = scheduled.run_now(db, "tiers", utcnow())
    print(f"second run: {again.handled} customers")
    db.dispose()


if __name__ == "__main__":
    main()
