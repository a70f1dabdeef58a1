"""The merchant dashboard's two aggregate queries at a million customers.

    python -m bench.dashboard [--customers 1000000] [--ledger 3000000] [--rewards 300000]
                              [--runs 20] [--without-indexes]

Seeds the ``bench`` database (BENCH_DATABASE_URL; dropped and re-migrated) with one shop of
``--customers`` customers, ``--ledger`` ledger rows over the last year and ``--rewards``
rewards, plus a second shop a tenth its size (so every query must filter by shop), all by
``INSERT … SELECT generate_series`` in PostgreSQL. Then it times ``dashboard.summary`` (the
service behind ``GET /api/admin/dashboard``) ``--runs`` times for each shop and prints the
plans of its two queries (``EXPLAIN (ANALYZE, BUFFERS)``). ``--without-indexes`` drops the covering
indexes of migration 0012 first, to show what they are for.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from bench.common import BENCH_DATABASE_URL, fresh_database, percentile
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Shop
from shopify_loyalty.services.customers import dashboard

DSN = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")
INDEXES = ("ix_customers_shop_id_status", "ix_rewards_shop_id_status_redeem_rule_id",
           "ix_point_transactions_shop_id_created_at")

SEED = """
INSERT INTO shops (id, domain, currency, installed_at, needs_reauth, settings, created_at)
VALUES (1, 'bench-shop.myshopify.com', 'USD', now(), false, '{}', now()),
       (2, 'other-shop.myshopify.com', 'USD', now(), false, '{}', now());
INSERT INTO redeem_rules (id, shop_id, name, kind, points_cost, value, variant_ids, product_ids,
                          collection_ids, combines_with, active, created_at, updated_at)
SELECT r, 1 + (r > 5)::int, 'Reward ' || r, 'FIXED_AMOUNT', 100 * r, r, '[]', '[]', '[]', '[]',
       true, now(), now()
FROM generate_series(1, 10) r;
INSERT INTO customers (shop_id, shopify_customer_id, email, tags, status, available_points,
                       pending_points, credited_points, spent_points, spent_amount,
                       store_credit_balance, referred_completed, rewarded_for, signup_rewarded,
                       created_at, updated_at)
SELECT 1 + (g > %(customers)s)::int, g, 'c' || g || '@example.com', '[]',
       CASE WHEN g %% 50 = 0 THEN 'EXCLUDED' WHEN g %% 7 = 0 THEN 'INACTIVE' ELSE 'ACTIVE' END,
       (g * 7919) %% 5000, (g * 13) %% 200, (g * 7919) %% 5000 + 1000, 1000, 0, 0, 0, '{}', true,
       now() - (g %% 700) * interval '1 day', now()
FROM generate_series(1, (%(customers)s + %(customers)s / 10)::bigint) g;
INSERT INTO point_transactions (shop_id, customer_id, kind, status, points, available_after,
                                source_type, source_id, created_at)
SELECT 1 + (g %% 11 = 0)::int, 1 + (g * 104729) %% %(customers)s,
       CASE WHEN g %% 5 = 0 THEN 'REDEEMED' WHEN g %% 17 = 0 THEN 'ADJUSTED' ELSE 'EARNED' END,
       CASE WHEN g %% 23 = 0 THEN 'PENDING' ELSE 'APPROVED' END,
       CASE WHEN g %% 5 = 0 THEN -500 ELSE 10 + g %% 300 END, NULL, 'bench', g::text,
       now() - (g %% 365) * interval '1 day' - (g %% 86400) * interval '1 second'
FROM generate_series(1, %(ledger)s::bigint) g;
INSERT INTO rewards (shop_id, customer_id, redeem_rule_id, reward_type, points, discount_code,
                     status, fulfillment_status, attempts, created_at, updated_at)
SELECT 1 + (g %% 11 = 0)::int, 1 + (g * 7) %% %(customers)s,
       1 + g %% 5 + 5 * (g %% 11 = 0)::int, 'DISCOUNT_CODE', 100 * (1 + g %% 5), 'B' || g,
       (ARRAY['UNUSED', 'USED', 'USED', 'REFUNDED', 'EXPIRED'])[1 + g %% 5], 'DONE', 0,
       now() - (g %% 365) * interval '1 day', now()
FROM generate_series(1, %(rewards)s::bigint) g;
"""


def seed(customers: int, ledger: int, rewards: int) -> None:
    fresh_database()
    started = time.monotonic()
    with psycopg.connect(DSN, autocommit=True) as conn:
        for statement in SEED.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"customers": customers, "ledger": ledger,
                                         "rewards": rewards})
        conn.execute("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))")
        conn.execute("VACUUM ANALYZE")
    print(f"seeded {customers:,} customers, {ledger:,} ledger rows, {rewards:,} rewards "
          f"in {time.monotonic() - started:.0f} s")


def explain(db: Database, shop_id: int) -> None:
    with db.unit_of_work() as session:
        since = dashboard.first_day(utcnow())
        statements = {"totals": dashboard._totals_query(shop_id),
                      "days": dashboard._days_query(session, shop_id, since)}
        for name, statement in statements.items():
            sql = str(statement.compile(dialect=postgresql.dialect(),
                                        compile_kwargs={"literal_binds": True}))
            plan = session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
            print(f"\n-- {name}, shop {shop_id}\n{sql}\n" + "\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--ledger", type=int, default=3_000_000)
    parser.add_argument("--rewards", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--without-indexes", action="store_true")
    args = parser.parse_args()
    seed(args.customers, args.ledger, args.rewards)
    if args.without_indexes:
        with psycopg.connect(DSN, autocommit=True) as conn:
            for name in INDEXES:
                conn.execute(f"DROP INDEX {name}")
    db = Database(BENCH_DATABASE_URL)
    for shop_id, label in ((1, "1M-customer shop"), (2, "shop a tenth its size")):
        timings = []
        for _ in range(args.runs):
            with db.unit_of_work() as session:
                started = time.perf_counter()
                board = dashboard.summary(session, session.get_one(Shop, shop_id), utcnow())
                timings.append(time.perf_counter() - started)
        print(f"dashboard.summary of the {label} over {args.runs} runs: median "
              f"{statistics.median(timings) * 1000:.0f} ms, p95 "
              f"{percentile(timings, 95) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms; "
              f"members {board.members:,}, outstanding {board.points_outstanding:,} points")
    for shop_id in (1, 2):
        explain(db, shop_id)
    db.dispose()


if __name__ == "__main__":
    main()
