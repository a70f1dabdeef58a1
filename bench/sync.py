"""Benchmark: the Shopify customer sync draining 10,000 changed customers into the stand-in.

Seeds shops with customers (a third of them in a VIP tier, each with a referral code), then
changes every customer ``--changes`` times (its balance in SQL, and the mark ``catalog.emit``
upserts in a change's transaction; the ledger's own cost is bench.redeem's), and lets
``--workers`` threads run ``services.events.sync.run.sync_shop`` per shop (what
``loyalty.sync_customers`` does) against ``bench/shopify_standin.py`` (started in-process on
``--port``; Shopify's leaky bucket per shop: 2000 points, 100 a second, 10 a mutation) until
nothing is due. Prints the change rate,
the sync's customers and calls per second, the calls per customer, the throttled answers,
and checks that every customer's balance and tier in the stand-in is the database's.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_sync \\
        .venv/bin/python -m bench.sync [--customers 10000] [--shops 10] [--workers 4] \\
        [--changes 3] [--port 24001]

The bench database is dropped and re-migrated first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import threading
import time
import urllib.request
from datetime import timedelta

from sqlalchemy import text
from werkzeug.serving import make_server

from bench.common import BENCH_DATABASE_URL, fresh_database
from bench.shopify_standin import StandIn
from shopify_loyalty import create_app
from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY, Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.services.events.sync import marks, run
from shopify_loyalty.services.events.sync.marks import SYNC_WINDOW
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.token_cipher import TokenCipher

SEED = """
INSERT INTO shops (id, domain, currency, needs_reauth, installed_at, settings, created_at,
                   access_token_enc)
SELECT s, 'bench-sync-' || s || '.myshopify.com', 'USD', false, now(), '{}', now(), :token
FROM generate_series(1, :shops) AS s;
INSERT INTO vip_tiers (shop_id, name, threshold, earn_multiplier, entry_points, active,
                       created_at)
SELECT s, 'Gold', 100, 1, 0, true, now() FROM generate_series(1, :shops) AS s;
INSERT INTO customers (shop_id, shopify_customer_id, email, tags, status, available_points,
    pending_points, credited_points, spent_points, spent_amount, store_credit_balance,
    vip_tier_id, referral_code, referred_completed, rewarded_for, signup_rewarded,
    lifetime_earned_points, lifetime_orders, address_keys, created_at, updated_at)
SELECT 1 + g % :shops, 20000000 + g, 'c' || g || '@example.com', '[]', 'ACTIVE', 0, 0, 0, 0,
       0, 0, CASE WHEN g % 3 = 0 THEN 1 + g % :shops END, 'R' || g, 0, '{}', false, 0, 0,
       '[]', now(), now()
FROM generate_series(1, :n) AS g;
ANALYZE;
"""
# The run's clock is moved past the coalescing window: the bench measures the sync, not the wait.
AHEAD = SYNC_WINDOW + timedelta(seconds=1)


def seed(db: Database, customers: int, shops: int) -> None:
    token = TokenCipher(DEV_TOKEN_ENCRYPTION_KEY).encrypt("shpat_bench_sync")
    with db.engine.begin() as connection:
        for statement in SEED.split(";"):
            if statement.strip():
                connection.execute(text(statement),
                                   {"n": customers, "shops": shops, "token": token})


def change_everyone(db: Database, changes: int) -> tuple[int, float]:
    """Every customer changed ``changes`` times: the balance moved in SQL, and the sync's
    mark upserted as ``catalog.emit`` does in each change's transaction (``marks.mark``),
    500 customers a transaction."""
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT shop_id, id FROM customers ORDER BY id")).all()
    started = time.perf_counter()
    for round_ in range(changes):
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            with db.unit_of_work() as session:
                session.execute(text(
                    "UPDATE customers SET available_points = available_points + :n"
                    " WHERE id = ANY(:ids)"), {"n": round_ + 1, "ids": [c for _s, c in chunk]})
                for shop_id in {s for s, _c in chunk}:
                    marks.mark(session, shop_id, [c for s, c in chunk if s == shop_id],
                               utcnow())
    return changes * len(rows), time.perf_counter() - started


def drain(db: Database, admins: ShopAdmins, shop_ids: list[int], workers: int,
          app_url: str) -> tuple[int, float]:
    todo: queue.Queue[int] = queue.Queue()
    for shop_id in shop_ids:
        todo.put(shop_id)
    written = [0] * workers

    def work(n: int) -> None:
        while True:
            try:
                shop_id = todo.get_nowait()
            except queue.Empty:
                return
            while True:
                report = run.sync_shop(db, admins, app_url, shop_id, utcnow() + AHEAD,
                                       timedelta(seconds=90))
                written[n] += report.written
                if report.retry_at is not None:
                    time.sleep(max(0.0, (report.retry_at - utcnow() - AHEAD).total_seconds()))
                    continue
                if report.written == 0 and report.given_up == 0:
                    break

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(written), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--changes", type=int, default=3)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 24001)))
    args = parser.parse_args()
    for noisy in ("werkzeug", "shopify_loyalty.shopify.admin"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    standin = StandIn()
    server = make_server("127.0.0.1", args.port, standin, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{args.port}"
    fresh_database(BENCH_DATABASE_URL)
    settings = Settings(database_url=BENCH_DATABASE_URL, shopify_admin_base_url=base + "/{shop}",
                        app_url="https://loyalty.example.test", ratelimit_enabled=False,
                        log_format="text")
    app = create_app(settings)
    db: Database = app.extensions["loyalty_db"]
    seed(db, args.customers, args.shops)
    changed, seconds = change_everyone(db, args.changes)
    print(f"changes: {changed} marks (balance update and mark upsert) in {seconds:.1f} s "
          f"→ {changed / seconds:.0f}/s")
    with db.engine.connect() as connection:
        marks = connection.execute(text(
            "SELECT count(*), sum(changes) FROM customer_syncs WHERE due_at IS NOT NULL")).one()
    print(f"marks: {marks[0]} customers due, {marks[1]} changes coalesced into them")

    admins = ShopAdmins.from_settings(settings)
    before = (0, 0)
    for label in ("first write", "balance change"):
        if label == "balance change":
            change_everyone(db, 1)  # tiers and links unchanged: the steady state
        written, seconds = drain(db, admins, list(range(1, args.shops + 1)), args.workers,
                                 settings.app_url)
        stats = json.loads(urllib.request.urlopen(f"{base}/_stats").read())
        calls = sum(s["requests"] for s in stats.values()) - before[0]
        throttled = sum(s["throttled"] for s in stats.values()) - before[1]
        before = (before[0] + calls, before[1] + throttled)
        print(f"sync, {label}: {written} customers written in {seconds:.1f} s → "
              f"{written / seconds:.0f}/s ({args.workers} workers, {args.shops} shops); "
              f"{calls} calls → {calls / seconds:.0f}/s, {calls / max(written, 1):.3f} a "
              f"customer; {throttled} throttled answers")
        check(db, standin)
    server.shutdown()
    db.dispose()


def check(db: Database, standin: StandIn) -> None:
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT s.domain, c.shopify_customer_id, c.available_points, t.name FROM customers c"
            " JOIN shops s ON s.id = c.shop_id LEFT JOIN vip_tiers t ON t.id = c.vip_tier_id"
            )).all()
    wrong = 0
    for domain, customer_id, points, tier in rows:
        shop = standin.shops[domain]
        owner = f"gid://shopify/Customer/{customer_id}"
        tags = shop.tags.get(owner, set())
        if shop.metafields.get((owner, "points_balance")) != str(points) or \
                shop.metafields.get((owner, "vip_tier")) != tier or \
                (tier is not None and tags != {f"Loyalty tier: {tier}"}):
            wrong += 1
    print(f"check: {len(rows) - wrong} of {len(rows)} customers match the database in Shopify")


if __name__ == "__main__":
    main()
