"""The expiry jobs over a big shop: wall time and peak memory.

    python -m bench.expiry [--customers 1000000] [--rewards 200000] [--tracemalloc]

Seeds the ``bench`` database (BENCH_DATABASE_URL, dropped and re-migrated) with SQL alone
(INSERT … SELECT generate_series): one shop on PER_EARNING, 365 days, reminders at 30 and 7
days; per customer five ledger rows (four earnings of 100 points, 500+r, 370+r, 340+r and 20
days ago, r = id % 20, then a redemption of 150 ten days ago) and the four batches FIFO leaves
(0, 50, 100, 100); ``--rewards`` UNUSED codes made in Shopify, half past their expiry, half
expiring within a week. Then it runs, in this process, each job to its end as ``jobs run``
does (bounded batches, one transaction each):

- ``points-expiry``: every customer's 370+r-day-old batch is due: 1M EXPIRED rows and events;
- ``expiry-reminders``: every customer's 340+r-day-old batch expires in 6 to 25 days: a
  30-day or a 7-day ``points.expiring`` each, and the rewards' ``reward.expiring``;
- ``rewards-expiry``: half the rewards, each with a deactivation queued in the outbox (not
  sent: no broker, and the dispatcher is off).

Wall time per job, the process's peak RSS after each (``ru_maxrss``, which only grows), and
with ``--tracemalloc`` the peak of Python allocations during each job (slower: tracing).
Finally it checks that every customer's batches add up to its balance.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc
from datetime import timedelta

import psycopg
from sqlalchemy import text

from bench.common import BENCH_DATABASE_URL, fresh_database
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs import scheduled

DOMAIN = "bench-expiry.myshopify.com"
SETTINGS = ('{"points_expiry": "PER_EARNING", "points_expiry_days": 365, '
            '"expiry_reminder_days": [30, 7], "reward_reminder_days": [7, 1]}')
# (points, age in days before r) of each customer's rows, oldest first.
EARNINGS = ((100, 500), (100, 370), (100, 340), (100, 20))
SPENT, SPENT_AGO = 150, 10
SEED = [
    """INSERT INTO shops (id, domain, needs_reauth, currency, installed_at, settings, created_at,
                          points_expiry_since)
       VALUES (1, %(domain)s, false, 'USD', now(), %(settings)s, now(),
               now() - interval '10 years')""",
    """INSERT INTO customers (id, shop_id, shopify_customer_id, tags, status, available_points,
           pending_points, credited_points, spent_points, spent_amount, store_credit_balance,
           referred_completed, rewarded_for, signup_rewarded, created_at, updated_at,
           last_activity_at)
       SELECT n, 1, 100000 + n, '[]', 'ACTIVE', 250, 0, 400, 150, 0, 0, 0, '{}', false,
              now() - interval '600 days', now(), now() - interval '10 days'
       FROM generate_series(1, %(customers)s) AS n""",
]


def _ledger_and_batches() -> list[str]:
    """Each earning and its batch in one statement (the batch needs the row's id)."""
    statements = []
    for k, (points, age) in enumerate(EARNINGS, start=1):
        left = {1: 0, 2: 50}.get(k, points)  # what FIFO leaves once 150 are spent
        statements.append(f"""
            WITH earned AS (
                INSERT INTO point_transactions (shop_id, customer_id, kind, status, points,
                    available_after, source_type, source_id, created_at)
                SELECT 1, n, 'EARNED', 'APPROVED', {points}, {points * k}, 'order',
                       n || ':{k}', now() - ({age} + n %% 20) * interval '1 day'
                FROM generate_series(1, %(customers)s) AS n
                RETURNING id, customer_id, points, created_at)
            INSERT INTO point_batches (shop_id, customer_id, transaction_id, points, remaining,
                                       earned_at)
            SELECT 1, customer_id, id, points, {left}, created_at FROM earned""")
    statements.append(f"""
        INSERT INTO point_transactions (shop_id, customer_id, kind, status, points,
            available_after, source_type, source_id, created_at)
        SELECT 1, n, 'REDEEMED', 'APPROVED', -{SPENT}, 250, 'reward', n::text,
               now() - interval '{SPENT_AGO} days'
        FROM generate_series(1, %(customers)s) AS n""")
    return statements


REWARDS = """
    INSERT INTO rewards (shop_id, customer_id, reward_type, description, points, discount_code,
        discount_code_id, amount, status, fulfillment_status, attempts, expires_at, created_at,
        updated_at)
    SELECT 1, 1 + (n * 7919) %% %(customers)s, 'DISCOUNT_CODE', '$5 off', 500,
           'LOY-BENCH' || n, 'gid://shopify/DiscountCodeNode/' || n, 5.00, 'UNUSED', 'DONE', 0,
           CASE WHEN n %% 2 = 0 THEN now() - interval '1 hour'
                ELSE now() + (n %% 7) * interval '1 day' + interval '1 hour' END,
           now() - interval '30 days', now()
    FROM generate_series(1, %(rewards)s) AS n"""
FIX_SEQUENCES = [
    "SELECT setval(pg_get_serial_sequence('shops', 'id'), 1)",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), %(customers)s)",
]
BATCHES_MATCH = """
    SELECT count(*) FROM customers c
    LEFT JOIN (SELECT customer_id, sum(remaining) AS left_over FROM point_batches
               GROUP BY customer_id) b ON b.customer_id = c.id
    WHERE c.available_points <> COALESCE(b.left_over, 0)"""


def seed(customers: int, rewards: int) -> None:
    dsn = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")
    params = {"customers": customers, "rewards": rewards, "domain": DOMAIN,
              "settings": SETTINGS}
    began = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in [*SEED, *_ledger_and_batches(), REWARDS, *FIX_SEQUENCES]:
            conn.execute(statement, params)  # type: ignore[arg-type]
        conn.execute("VACUUM ANALYZE")
        rows = conn.execute("SELECT count(*) FROM point_transactions").fetchone()
    print(f"seeded {customers} customers, {rows[0] if rows else 0} ledger rows, "
          f"{rewards} rewards in {time.monotonic() - began:.0f} s")


def run_job(db: Database, name: str, trace: bool) -> None:
    gc.collect()
    if trace:
        tracemalloc.start()
    began = time.monotonic()
    report = scheduled.run_now(db, name, utcnow() + timedelta(minutes=1))
    seconds = time.monotonic() - began
    heap = ""
    if trace:
        heap = f", Python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MiB"
        tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name}: {report.handled} handled in {report.batches} batches, {seconds:.1f} s "
          f"({report.handled / seconds:.0f}/s); process peak RSS {rss:.0f} MiB{heap}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--rewards", type=int, default=200_000)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    fresh_database()
    seed(args.customers, args.rewards)
    app = create_app(Settings(database_url=BENCH_DATABASE_URL))
    db: Database = app.extensions["loyalty_db"]
    db.dispatcher = None  # deactivations stay queued in the outbox: no Shopify here
    print(f"before the jobs: process peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for name in ("points-expiry", "expiry-reminders", "rewards-expiry"):
        run_job(db, name, args.tracemalloc)
    with db.engine.connect() as connection:
        wrong = connection.execute(text(BATCHES_MATCH)).scalar()
    print(f"customers whose batches do not add up to their balance: {wrong}")
    db.dispose()


if __name__ == "__main__":
    main()
