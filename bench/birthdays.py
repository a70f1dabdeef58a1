"""The ``birthdays`` job on a large program: finding a day's birthdays among N customers, and
paying them.

Seeds N customers (default 1,000,000) with random dates of birth over shops in several
time zones, then: the plan and time of one batch's query (the (shop, birth_month_day)
index), a day's run (every due customer paid), the same day again (nothing left), and a
run after a week without one (the catch-up window).

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python -m bench.birthdays [--customers 1000000] [--shops 10]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from bench.common import BENCH_DATABASE_URL, fresh_database
from shopify_loyalty.db import Database
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import Customer, EarnRuleKind, Shop
from shopify_loyalty.services.customers import birthdays
from shopify_loyalty.services.program import earn_rules

ZONES = ("UTC", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
         "Australia/Sydney", "Pacific/Auckland", "Asia/Kolkata", "America/Sao_Paulo",
         "Africa/Johannesburg")
SEED = """
INSERT INTO customers (shop_id, shopify_customer_id, email, dob, tags, status,
    available_points, pending_points, credited_points, spent_points, spent_amount,
    store_credit_balance, referral_code, referred_completed, rewarded_for, signup_rewarded,
    created_at, updated_at, dob_set_at, birth_month_day, address_keys)
SELECT :shop, g, 'c' || g || '@example.org', d, '[]', 'ACTIVE', 0, 0, 0, 0, 0, 0,
    'B' || :shop || 'X' || g, 0, '{}', false, now(), now(), timestamptz '2025-01-01',
    (extract(month FROM d) * 100 + extract(day FROM d))::smallint, '[]'
FROM (SELECT g, date '1950-01-01' + (random() * 20000)::int AS d
      FROM generate_series(:first, :last) g) s
"""


def seed(db: Database, customers: int, shops: int) -> list[int]:
    ids = []
    with db.unit_of_work() as session:
        for n in range(shops):
            shop = Shop(domain=f"bench-{n}.myshopify.com", iana_timezone=ZONES[n % len(ZONES)])
            session.add(shop)
            session.flush()
            earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
                kind=EarnRuleKind.BIRTHDAY, points=100))
            ids.append(shop.id)
    per_shop = customers // shops
    with db.engine.begin() as connection:
        for n, shop_id in enumerate(ids):
            connection.execute(text(SEED), {"shop": shop_id, "first": n * per_shop + 1,
                                            "last": (n + 1) * per_shop})
        connection.execute(text("ANALYZE customers"))
    return ids


def explain(db: Database, shop_ids: list[int], as_of: datetime) -> str:
    days = birthdays.birthday_days(as_of.date())
    query = (select(Customer.id).where(Customer.shop_id.in_(shop_ids), birthdays.due_on(days))
             .limit(birthdays.BIRTHDAY_BATCH).with_for_update(skip_locked=True))
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.begin() as connection:
        plan = connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    return "\n".join(plan)


def timed_run(db: Database, as_of: datetime) -> str:
    started = time.perf_counter()
    report = scheduled.run_now(db, "birthdays", as_of)
    seconds = time.perf_counter() - started
    rate = report.handled / seconds if seconds else 0.0
    return (f"{as_of.date()}: {report.handled} customers in {report.batches} batches, "
            f"{seconds:.2f} s ({rate:.0f}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--shops", type=int, default=10)
    args = parser.parse_args()
    fresh_database()
    db = Database(BENCH_DATABASE_URL)
    started = time.perf_counter()
    shop_ids = seed(db, args.customers, args.shops)
    print(f"seeded {args.customers} customers in {args.shops} shops "
          f"in {time.perf_counter() - started:.1f} s")
    day = datetime(2026, 6, 15, 12, tzinfo=UTC)
    print("one batch's query (every shop, one day's window):")
    print(explain(db, shop_ids, day))
    print("first run (nobody handled yet: the whole catch-up window):", timed_run(db, day))
    print("again the same day:", timed_run(db, day + timedelta(hours=1)))
    print("the next day (steady state: one day's birthdays):",
          timed_run(db, day + timedelta(days=1)))
    print("after a week without a run:", timed_run(db, day + timedelta(days=8)))
    print("the query once the week is paid:")
    print(explain(db, shop_ids, day + timedelta(days=8)))
    db.dispose()


if __name__ == "__main__":
    main()
