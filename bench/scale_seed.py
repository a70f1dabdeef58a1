"""Seed a big database: 1M customers, 10M ledger rows, in SQL alone, in minutes.

    python -m bench.scale_seed [--customers 1000000]

Drops and re-migrates BENCH_DATABASE_URL, then loads with ``INSERT … SELECT generate_series``
(the way bench.expiry and bench.dashboard seed), the plain indexes of the four big tables
dropped during the load and built again after it (one sort per index instead of 10M
insertions into each). One shop, ``bench-shop.myshopify.com`` (bench.redeem's shop, so
``bench.redeem --pre-seeded`` redeems among these customers), PER_EARNING expiry after 365
days, reminders 30 and 7 days before. Every customer n has ten ledger rows and books that
``ledger verify`` accepts:

- nine earnings of 100 points (``order`` n:k), a month apart, the newest n % 30 days ago,
  each with its point batch; a redemption of 300 points after the third (its reward, id n),
  which spent the three oldest batches (FIFO): balance 600, credited 900, spent 300;
- one customer in a hundred is 200 days older: its fourth batch is past the 365 days (the
  points-expiry job has 10k customers to expire) and its fifth within 30 days of it (the
  reminders job has them to remind);
- reward n is USED, except one in ten UNUSED (one in a thousand of them past its expiry, for
  the rewards-expiry job; the rest expire in 3 to 40 days, some within the 7-day reminder);
- e-mail ``customer<n>@example.com``, first and last names from small lists (search), a
  birthday on day n % 365 (the birthdays job finds the day's, with no BIRTHDAY rule to pay).
"""

from __future__ import annotations

import argparse
import time

import psycopg

from bench.common import BENCH_DATABASE_URL, fresh_database

DSN = BENCH_DATABASE_URL.replace("postgresql+psycopg", "postgresql")
DOMAIN = "bench-shop.myshopify.com"
TABLES = ("customers", "point_transactions", "point_batches", "rewards")
SETTINGS = ('{"points_expiry": "PER_EARNING", "points_expiry_days": 365, '
            '"expiry_reminder_days": [30, 7], "reward_reminder_days": [7, 1]}')
# Days before now of customer n's k-th earning (k = 1 oldest … 9): a month apart.
AGE = "((9 - k) * 30 + n %% 30 + CASE WHEN n %% 100 = 0 THEN 200 ELSE 0 END)"

SEED = [
    """INSERT INTO shops (id, domain, needs_reauth, currency, installed_at, settings, created_at,
                          points_expiry_since)
       VALUES (1, %(domain)s, false, 'USD', now(), %(settings)s, now(),
               now() - interval '10 years')""",
    """INSERT INTO customers (id, shop_id, shopify_customer_id, email, first_name, last_name,
           dob, birth_month_day, dob_set_at, tags, status, available_points, pending_points,
           credited_points, spent_points, spent_amount, store_credit_balance,
           lifetime_earned_points, lifetime_orders, referred_completed, rewarded_for,
           signup_rewarded, address_keys, created_at, updated_at, last_activity_at)
       SELECT n, 1, n, 'customer' || n || '@example.com',
              (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','Ken'])
                  [1 + n %% 8] || (n %% 1000),
              (ARRAY['Lovelace','Hopper','Turing','Dijkstra','Liskov','Knuth','Allen',
                     'Thompson'])[1 + (n / 8) %% 8] || (n %% 997),
              d, (extract(month FROM d) * 100 + extract(day FROM d))::smallint,
              now() - interval '2 years', '[]', 'ACTIVE', 600, 0, 900, 300, 0, 0, 900, 9, 0,
              '{}', false, '[]', now() - interval '3 years', now(),
              now() - (n %% 30) * interval '1 day'
       FROM generate_series(1, %(customers)s) AS n,
            LATERAL (SELECT date '1980-01-01' + (n %% 365) AS d) AS b""",
    # Rows in id order per customer: E1, E2, E3, the redemption, E4 … E9.
    f"""INSERT INTO point_transactions (shop_id, customer_id, kind, status, points,
            available_after, source_type, source_id, created_at)
        SELECT 1, n, CASE WHEN k = 0 THEN 'REDEEMED' ELSE 'EARNED' END, 'APPROVED',
               CASE WHEN k = 0 THEN -300 ELSE 100 END,
               CASE WHEN k = 0 THEN 0 WHEN k <= 3 THEN 100 * k ELSE 100 * (k - 3) END,
               CASE WHEN k = 0 THEN 'reward' ELSE 'order' END,
               CASE WHEN k = 0 THEN n::text ELSE n || ':' || k END,
               now() - (CASE WHEN k = 0 THEN {AGE.replace("k)", "3)")} - 1 ELSE {AGE} END)
                       * interval '1 day'
        FROM generate_series(1, %(customers)s) AS n,
             unnest(ARRAY[1, 2, 3, 0, 4, 5, 6, 7, 8, 9]) AS k
        ORDER BY n""",
    """INSERT INTO point_batches (shop_id, customer_id, transaction_id, points, remaining,
                                  earned_at)
       SELECT 1, customer_id, id, 100,
              CASE WHEN split_part(source_id, ':', 2)::int <= 3 THEN 0 ELSE 100 END,
              created_at
       FROM point_transactions WHERE kind = 'EARNED'""",
    """INSERT INTO rewards (id, shop_id, customer_id, reward_type, description, points,
           discount_code, discount_code_id, amount, status, fulfillment_status, attempts,
           expires_at, used_at, created_at, updated_at)
       SELECT n, 1, n, 'DISCOUNT_CODE', '$3 off', 300, 'LOY-S' || n,
              'gid://shopify/DiscountCodeNode/' || n, 3.00,
              CASE WHEN n %% 10 = 0 THEN 'UNUSED' ELSE 'USED' END, 'DONE', 0,
              CASE WHEN n %% 10000 = 0 THEN now() - interval '1 hour'
                   ELSE now() + (3 + n %% 37) * interval '1 day' END,
              CASE WHEN n %% 10 = 0 THEN NULL ELSE now() - interval '100 days' END,
              now() - interval '180 days', now()
       FROM generate_series(1, %(customers)s) AS n""",
    "SELECT setval(pg_get_serial_sequence('shops', 'id'), 1)",
    "SELECT setval(pg_get_serial_sequence('customers', 'id'), %(customers)s)",
    "SELECT setval(pg_get_serial_sequence('rewards', 'id'), %(customers)s)",
]
# Plain indexes only: those behind a primary key or unique constraint stay (the load checks
# them, as the app would).
PLAIN_INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = ANY(%s)
      AND indexname NOT IN (SELECT conname FROM pg_constraint)"""


def seed(customers: int) -> None:
    fresh_database()
    params = {"customers": customers, "domain": DOMAIN, "settings": SETTINGS}
    began = time.monotonic()
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '256MB'")
        conn.execute("SET synchronous_commit = off")
        indexes = conn.execute(PLAIN_INDEXES, (list(TABLES),)).fetchall()
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        for statement in SEED:
            step = time.monotonic()
            conn.execute(statement, params)  # type: ignore[arg-type]
            label = " ".join(statement.split()[:3])
            print(f"  {label:<40} {time.monotonic() - step:6.0f} s", flush=True)
        step = time.monotonic()
        for _, definition in indexes:
            conn.execute(definition)  # type: ignore[arg-type]
        print(f"  {len(indexes)} indexes built again in {time.monotonic() - step:.0f} s")
        conn.execute("VACUUM ANALYZE")
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone() for t in TABLES]
    print(f"seeded in {time.monotonic() - began:.0f} s: " + ", ".join(
        f"{t} {c[0] if c else 0:,}" for t, c in zip(TABLES, counts, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    seed(args.customers)


if __name__ == "__main__":
    main()
