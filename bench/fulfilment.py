"""Fulfilment throughput against Shopify's leaky bucket, with real Celery workers on Redis.

    PYTHONPATH=. python bench/fulfilment.py [--rewards 2000] [--shops 10 --per-shop 200]

Starts the Shopify stand-in (bench/shopify_standin.py: bucket 2000 points, 100 restored a
second, 10 a mutation, so one shop's ceiling is a 200-code burst then 10 codes/s) and a
`celery worker` (prefork, --concurrency slots) on Redis DB 9, migrates the PostgreSQL database
`bench` from scratch, then runs two scenarios and prints their numbers:

1. one shop, --rewards rewards queued at once: codes/s against the ceiling, THROTTLED answers
   as a share of requests, rewards refunded (throttling must refund none);
2. --shops shops of --per-shop rewards each, all queued (--order: shops' redemptions
   interleaved as they would arrive, or in blocks, one shop's whole batch after another's)
   before the worker starts: total rate against the sum of their ceilings, and per shop the
   time from the worker being ready to its first and last code, its THROTTLED answers and its
   bucket use: codes made over what its bucket allowed between its first and last code
   (200-code burst + 10 codes/s; 100 % when a shop's codes all fit in its burst).

--port, --database-url and --redis-url keep concurrent runs apart (BENCH_DATABASE_URL and
BENCH_REDIS_URL are the defaults of the last two).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import redis
from alembic import command
from sqlalchemy import create_engine, select, text

from shopify_loyalty import create_app
from shopify_loyalty.cli.db import alembic_config
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Customer, RedeemRule, RedeemRuleKind, Reward, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.customers.enrolment import enrol
from shopify_loyalty.services.program import redeem_rules
from shopify_loyalty.services.rewards import redemption
from shopify_loyalty.token_cipher import TokenCipher

ROOT = Path(__file__).resolve().parents[1]
BUCKET, RESTORE, MUTATION = 2000.0, 100.0, 10.0
BURST_CODES, STEADY_CODES_PER_S = BUCKET / MUTATION, RESTORE / MUTATION


@dataclass
class Run:
    label: str
    domains: list[str]
    started: datetime
    samples: list[tuple[float, int]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewards", type=int, default=2000)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--per-shop", type=int, default=200)
    parser.add_argument("--order", choices=("interleaved", "blocks"), default="interleaved")
    parser.add_argument("--only", choices=("one", "many"), help="run one scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"))
    parser.add_argument("--redis-url",
                        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--timeout", type=float, default=400.0)
    args = parser.parse_args()

    settings = Settings(database_url=args.database_url, redis_url=args.redis_url,
                        shopify_admin_base_url=f"http://127.0.0.1:{args.port}/{{shop}}",
                        ratelimit_enabled=False)
    reset(settings)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": settings.database_url,
           "REDIS_URL": args.redis_url, "SHOPIFY_ADMIN_BASE_URL": settings.shopify_admin_base_url,
           "TOKEN_ENCRYPTION_KEY": settings.token_encryption_key}
    standin = subprocess.Popen([sys.executable, str(ROOT / "bench/shopify_standin.py"),
                                "--port", str(args.port)], env=env, stderr=subprocess.DEVNULL)
    worker: subprocess.Popen[str] | None = None
    try:
        app = create_app(settings)
        db: Database = app.extensions["loyalty_db"]
        port = args.port
        if args.only != "many":
            worker, _ = start_worker(env, args.concurrency)
            one = queue(db, settings, "one", 1, args.rewards, "blocks")
            wait(db, one, port, args.timeout)
            report_one_shop(db, one, port, args.rewards)
            stop_worker(worker)
        if args.only != "one":
            many = queue(db, settings, "many", args.shops, args.per_shop, args.order)
            worker, ready = start_worker(env, args.concurrency)
            many.started = ready
            wait(db, many, port, args.timeout)
            report_many_shops(db, many, port, args.order, args.per_shop)
    finally:
        if worker is not None:
            stop_worker(worker)
        standin.terminate()
        standin.wait(10)


def start_worker(env: dict[str, str], concurrency: int) -> tuple[subprocess.Popen[str], datetime]:
    """A `celery worker` (prefork) and the instant it said it was ready to take tasks."""
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "workers.celery_app", "worker",
         "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "INFO",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    ready = threading.Event()
    at: list[datetime] = []

    def read() -> None:
        assert worker.stdout is not None
        for line in worker.stdout:  # read to the end, so the worker never blocks on a pipe
            if not ready.is_set() and " ready." in line:
                at.append(utcnow())
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(120):
        stop_worker(worker)
        raise RuntimeError("the worker did not start")
    return worker, at[0]


def stop_worker(worker: subprocess.Popen[str]) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(30)


def reset(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    command.upgrade(alembic_config(settings.database_url), "head")
    assert settings.redis_url is not None
    redis.Redis.from_url(settings.redis_url).flushdb()


def queue(db: Database, settings: Settings, label: str, shops: int, per_shop: int,
          order: str) -> Run:
    """Redeem the rewards in one transaction; its commit sends every task at once."""
    cipher = TokenCipher(settings.token_encryption_key)
    with db.unit_of_work() as session:
        setup = []
        for n in range(shops):
            shop = Shop(domain=f"{label}-{n}.myshopify.com", currency="USD",
                        access_token_enc=cipher.encrypt("shpat_bench"))
            session.add(shop)
            session.flush()
            enrol(session, shop, 1)
            adjustments.adjust_points(session, shop, 1, per_shop * 100, "bench")
            rule = redeem_rules.create_redeem_rule(session, shop, redeem_rules.RedeemRuleSpec(
                name="1 off", kind=RedeemRuleKind.FIXED_AMOUNT, points_cost=100,
                value=Decimal("1.00")))
            customer = session.scalars(select(Customer).where(Customer.shop_id == shop.id)).one()
            setup.append((shop, customer, rule))
    pairs: list[tuple[Shop, Customer, RedeemRule]] = (
        [entry for _ in range(per_shop) for entry in setup] if order == "interleaved"
        else [entry for entry in setup for _ in range(per_shop)]
    )
    with db.unit_of_work() as session:
        for shop, customer, rule in pairs:
            redemption.redeem_points(session, session.merge(shop), session.merge(customer),
                                     redemption.RedeemCommand(rule.id), utcnow())
        started = utcnow()
    return Run(label, [s.domain for s, _, _ in setup], started, [])


def stats(port: int, domains: list[str]) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats") as answer:
        every = json.load(answer)
    totals = {"requests": 0, "throttled": 0, "codes": 0}
    for domain in domains:
        for key in totals:
            totals[key] += every.get(domain, {}).get(key, 0)
    return totals


def wait(db: Database, run: Run, port: int, timeout: float) -> None:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        run.samples.append((time.monotonic(), stats(port, run.domains)["codes"]))
        with db.unit_of_work() as session:
            pending = session.scalar(text(
                "SELECT count(*) FROM rewards r JOIN shops s ON s.id = r.shop_id "
                "WHERE s.domain LIKE :label AND r.fulfillment_status = 'PENDING'"
            ), {"label": f"{run.label}-%"})
        if not pending:
            return
        time.sleep(0.25)
    print(f"[{run.label}] timed out with rewards still pending")


def done_times(db: Database, run: Run) -> dict[str, list[float]]:
    with db.unit_of_work() as session:
        rows = session.execute(
            select(Shop.domain, Reward.fulfillment_status, Reward.status, Reward.updated_at)
            .join(Shop, Shop.id == Reward.shop_id).where(Shop.domain.in_(run.domains))
        ).all()
    outcome: dict[str, list[float]] = {"DONE": [], "REFUNDED": [], "PENDING": []}
    per_shop: dict[str, list[float]] = {}
    for domain, fulfilment, status, updated in rows:
        seconds = (updated - run.started).total_seconds()
        key = "REFUNDED" if status.value == "REFUNDED" else fulfilment.value
        outcome.setdefault(key, []).append(seconds)
        if fulfilment.value == "DONE":
            per_shop.setdefault(domain, []).append(seconds)
    return {**outcome, **{f"shop:{d}": v for d, v in per_shop.items()}}


def steady_rate(samples: list[tuple[float, int]], total: int) -> float | None:
    """Codes a second once the burst is spent and before the tail."""
    window = [(t, c) for t, c in samples if BURST_CODES * 1.5 <= c <= total * 0.95]
    if len(window) < 2 or window[-1][0] == window[0][0]:
        return None
    return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])


def report_one_shop(db: Database, run: Run, port: int, total: int) -> None:
    times = done_times(db, run)
    counts = stats(port, run.domains)
    elapsed = max(times["DONE"] or [0.0])
    ideal = max(0.0, (total - BURST_CODES) / STEADY_CODES_PER_S)
    rate = steady_rate(run.samples, total)
    print(f"== one shop, {total} rewards ==")
    print(f"done {len(times['DONE'])}, refunded {len(times['REFUNDED'])}, "
          f"pending {len(times['PENDING'])}; codes in Shopify {counts['codes']}")
    print(f"elapsed {elapsed:.1f} s; ceiling allows {ideal:.1f} s "
          f"({BURST_CODES:.0f}-code burst + {STEADY_CODES_PER_S:.0f} codes/s): "
          f"{100 * ideal / elapsed if elapsed else 0:.1f} % of ceiling")
    if rate is not None:
        print(f"steady rate {rate:.2f} codes/s = {100 * rate / STEADY_CODES_PER_S:.1f} % "
              f"of {STEADY_CODES_PER_S:.0f} codes/s")
    print(f"requests {counts['requests']}, THROTTLED {counts['throttled']} "
          f"({100 * counts['throttled'] / max(1, counts['requests']):.2f} %)")


def report_many_shops(db: Database, run: Run, port: int, order: str, per_shop: int) -> None:
    times = done_times(db, run)
    counts = stats(port, run.domains)
    total = len(times["DONE"]) + len(times["REFUNDED"]) + len(times["PENDING"])
    elapsed = max(times["DONE"] or [0.0])
    firsts = [min(v) for k, v in times.items() if k.startswith("shop:")]
    shops = len(run.domains)
    ceiling_codes = min(total, shops * (BURST_CODES + STEADY_CODES_PER_S * elapsed))
    print(f"== {shops} shops, {total // max(1, shops)} rewards each, queued {order} ==")
    print(f"done {len(times['DONE'])}, refunded {len(times['REFUNDED'])}, "
          f"pending {len(times['PENDING'])}; codes in Shopify {counts['codes']}")
    print(f"elapsed {elapsed:.1f} s, {len(times['DONE']) / elapsed if elapsed else 0:.1f} codes/s; "
          f"the shops' ceilings allowed {ceiling_codes:.0f} codes in that time "
          f"({shops} x ({BURST_CODES:.0f} burst + {STEADY_CODES_PER_S:.0f}/s)), "
          f"{100 * len(times['DONE']) / ceiling_codes if ceiling_codes else 0:.1f} % reached")
    print(f"first code per shop after the worker was ready: longest wait "
          f"{max(firsts or [0.0]):.2f} s, shortest {min(firsts or [0.0]):.2f} s")
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stats") as answer:
        every = json.load(answer)
    uses = []
    for domain in run.domains:
        done = sorted(times.get(f"shop:{domain}", []))
        if not done:
            print(f"  {domain}: no code")
            continue
        span = done[-1] - done[0]
        allowed = min(per_shop, BURST_CODES + STEADY_CODES_PER_S * span)
        use = min(1.0, len(done) / allowed)
        uses.append(use)
        print(f"  {domain}: first {done[0]:6.2f} s, last {done[-1]:6.2f} s, codes {len(done)}, "
              f"THROTTLED {every.get(domain, {}).get('throttled', 0)}, "
              f"bucket use {100 * use:.1f} %")
    print(f"bucket use: lowest {100 * min(uses or [0.0]):.1f} %")
    print(f"requests {counts['requests']}, THROTTLED {counts['throttled']} "
          f"({100 * counts['throttled'] / max(1, counts['requests']):.2f} %)")


if __name__ == "__main__":
    main()
