"""The big database (``bench.scale_seed``): query plans, the scheduled jobs, ``ledger verify``.

    python -m bench.scale explain [--customer 4242] [--search "ada4" …]
    python -m bench.scale jobs [--only NAME …] [--skip-verify]

On BENCH_DATABASE_URL as seeded (never reset here):

- ``explain`` serves ``GET /loyalty/cp/api/customer-loyalty`` for one customer through the app
  (Flask's test client, the real view) and the admin customer search
  (``services.customers.admin.search``, as ``GET /api/admin/customers?q=`` runs it), records
  every SELECT they send and prints its ``EXPLAIN (ANALYZE, BUFFERS)`` (in a transaction
  rolled back), then the time of each call;
- ``jobs`` runs ``flask --app app jobs run NAME --now …`` for every scheduled job (and the
  outbox relay), then ``flask --app app ledger verify``, each in a process of its own, and
  prints its wall time, peak RSS (``wait4``'s ``ru_maxrss``) and output. The jobs' tasks are
  published to BENCH_REDIS_URL's Redis (no worker runs them; the DB is flushed at the end).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from sqlalchemy import event, select, text

from bench.common import BENCH_DATABASE_URL, BENCH_REDIS_URL, ROOT
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.scheduled import JOBS
from shopify_loyalty.models import Shop
from shopify_loyalty.services.customers import admin
from shopify_loyalty.shopify.auth import issue_customer_token

DOMAIN = "bench-shop.myshopify.com"
API_KEY, SECRET = "bench-api-key", "shpss_bench_secret_0123456789abcdef0123"
SEARCHES = ("ada42", "customer4242@", "lovelace9", "4242")


@contextmanager
def recorded(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent to the database meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def explain_all(db: Database, title: str, statements: list[tuple[str, Any]]) -> None:
    for n, (statement, parameters) in enumerate(statements, start=1):
        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        with db.engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement,
                                        parameters).scalars().all()
            conn.rollback()
        print(f"\n-- {title}, statement {n}: {' '.join(statement.split())[:300]}\n"
              f"-- parameters {parameters}")
        print("\n".join(plan))


def explain(customer: int, searches: list[str]) -> None:
    app = create_app(Settings(database_url=BENCH_DATABASE_URL, shopify_api_key=API_KEY,
                              shopify_api_secret=SECRET, ratelimit_enabled=False))
    db: Database = app.extensions["loyalty_db"]
    client = app.test_client()
    token = issue_customer_token(DOMAIN, customer, api_key=API_KEY, secret=SECRET, ttl=600)
    headers = {"Authorization": f"Bearer {token}"}
    client.get("/loyalty/cp/api/customer-loyalty", headers=headers)  # warm: caches, pools
    with recorded(db) as statements:
        began = time.perf_counter()
        answer = client.get("/loyalty/cp/api/customer-loyalty", headers=headers)
        took = time.perf_counter() - began
    assert answer.status_code == 200, answer.json
    explain_all(db, f"customer-loyalty of customer {customer}", statements)
    timings = [f"customer-loyalty: HTTP {answer.status_code} in {took * 1000:.1f} ms, "
               f"{len(statements)} statements"]
    for q in searches:
        with db.unit_of_work() as session:
            shop = session.scalars(select(Shop).where(Shop.domain == DOMAIN)).one()
            with recorded(db) as statements:
                began = time.perf_counter()
                page = admin.search(session, shop, None, q, 0, 20)
                took = time.perf_counter() - began
        explain_all(db, f"admin search q={q!r}", statements)
        timings.append(f"admin search q={q!r}: {page.total} found in {took * 1000:.1f} ms")
    print("\n" + "\n".join(timings))
    db.dispose()


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str, int]:
    """Wall seconds, peak RSS (MiB), the last of stdout, exit status of one process."""
    began = time.monotonic()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return time.monotonic() - began, usage.ru_maxrss / 1024, out.strip()[-400:], \
        process.returncode


def jobs(only: list[str], verify: bool) -> None:
    env = {**os.environ, "DATABASE_URL": BENCH_DATABASE_URL, "REDIS_URL": BENCH_REDIS_URL,
           "RATELIMIT_ENABLED": "0", "LOG_FORMAT": "text"}
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    now = utcnow().isoformat()
    names = only or ["outbox-relay", *JOBS]
    try:
        for name in names:
            seconds, rss, out, code = timed([*flask, "jobs", "run", name, "--now", now], env)
            print(f"jobs run {name}: {seconds:.1f} s, peak RSS {rss:.0f} MiB, exit {code}: "
                  f"{out}", flush=True)
        if verify:
            seconds, rss, out, code = timed([*flask, "ledger", "verify"], env)
            print(f"ledger verify: {seconds:.1f} s, peak RSS {rss:.0f} MiB, exit {code}: "
                  f"{out[:300]}", flush=True)
    finally:
        redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    db = Database(BENCH_DATABASE_URL)
    with db.engine.connect() as conn:
        print("rows: " + ", ".join(
            f"{t} {conn.execute(text(f'SELECT count(*) FROM {t}')).scalar():,}"
            for t in ("customers", "point_transactions", "point_batches", "rewards", "outbox")))
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    plans = commands.add_parser("explain")
    plans.add_argument("--customer", type=int, default=4242)
    plans.add_argument("--search", action="append")
    run = commands.add_parser("jobs")
    run.add_argument("--only", action="append", default=[])
    run.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()
    if args.command == "explain":
        explain(args.customer, args.search or list(SEARCHES))
    else:
        jobs(args.only, not args.skip_verify)


if __name__ == "__main__":
    main()
