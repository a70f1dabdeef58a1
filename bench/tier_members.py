"""The VIP tiers page's member counts (``GET /api/admin/vip-tiers``) at a million customers.

    python -m bench.tier_members [--customers 1000000] [--in-tiers 0.6] [--runs 20]

Seeds the bench database (BENCH_DATABASE_URL; dropped and re-migrated) with one shop of
``--customers`` customers, ``--in-tiers`` of them holding one of its four tiers, and a second
shop a tenth its size with its own four tiers (so the count must keep to the shop), by
``INSERT … SELECT generate_series``. Then it times ``services.customers.tiers.members`` (the
one grouped count behind the page's Members column) ``--runs`` times for each shop, and
prints its plan (``EXPLAIN (ANALYZE, BUFFERS)``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg
from sqlalchemy import text

from bench.common import BENCH_DATABASE_URL, fresh_database, percentile
from shopify_loyalty.db import Database
from shopify_loyalty.models import Shop
from shopify_loyalty.services.customers import tiers

DSN = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")

SEED = """
INSERT INTO shops (id, domain, currency, installed_at, needs_reauth, settings, created_at)
VALUES (1, 'bench-shop.myshopify.com', 'USD', now(), false, '{}', now()),
       (2, 'other-shop.myshopify.com', 'USD', now(), false, '{}', now());
INSERT INTO vip_tiers (id, shop_id, name, threshold, earn_multiplier, entry_points, active,
                       created_at)
SELECT t, 1 + (t > 4)::int, 'Tier ' || t, 100 * t, 1, 0, true, now()
FROM generate_series(1, 8) t;
INSERT INTO customers (shop_id, shopify_customer_id, email, tags, status, available_points,
                       pending_points, credited_points, spent_points, spent_amount,
                       store_credit_balance, referred_completed, rewarded_for, signup_rewarded,
                       vip_tier_id, created_at, updated_at)
SELECT 1 + (g > %(customers)s)::int, g, 'c' || g || '@example.com', '[]', 'ACTIVE',
       0, 0, 0, 0, 0, 0, 0, '{}', true,
       CASE WHEN (g * 7919) %% 1000 < %(in_tiers)s * 1000
            THEN 1 + g %% 4 + 4 * (g > %(customers)s)::int END,
       now(), now()
FROM generate_series(1, (%(customers)s + %(customers)s / 10)::bigint) g;
"""


def seed(customers: int, in_tiers: float) -> None:
    fresh_database()
    started = time.monotonic()
    with psycopg.connect(DSN, autocommit=True) as conn:
        for statement in SEED.split(";\n"):
            if statement.strip():
                conn.execute(statement, {"customers": customers, "in_tiers": in_tiers})
        conn.execute("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))")
        conn.execute("SELECT setval('vip_tiers_id_seq', 8)")
        conn.execute("VACUUM ANALYZE")
    print(f"seeded {customers:,} customers (+{customers // 10:,} in a second shop), "
          f"{in_tiers:.0%} in tiers, in {time.monotonic() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--in-tiers", type=float, default=0.6)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    seed(args.customers, args.in_tiers)
    db = Database(BENCH_DATABASE_URL)
    for shop_id, label in ((1, "big shop"), (2, "shop a tenth its size")):
        timings = []
        for _ in range(args.runs):
            with db.unit_of_work() as session:
                shop = session.get_one(Shop, shop_id)
                started = time.perf_counter()
                counts = tiers.members(session, shop)
                timings.append(time.perf_counter() - started)
        print(f"members of the {label} over {args.runs} runs: median "
              f"{statistics.median(timings) * 1000:.0f} ms, p95 "
              f"{percentile(timings, 95) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms; "
              f"{sum(counts.values()):,} members in {len(counts)} tiers")
    with db.unit_of_work() as session:
        # The shop a tenth the size: its tiers' ids come after the big shop's.
        plan = session.execute(text(
            "EXPLAIN (ANALYZE, BUFFERS) SELECT vip_tier_id, count(*) FROM customers "
            "WHERE vip_tier_id IN (5, 6, 7, 8) "
            "GROUP BY vip_tier_id")).scalars().all()
        print("\n".join(plan))
    db.dispose()


if __name__ == "__main__":
    main()
