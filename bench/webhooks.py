"""Benchmark: signed ``orders/paid`` deliveries from concurrent senders, loopback only.

Starts the app under gunicorn and a Celery worker (REDIS_URL set, so processing leaves the
request), sends a bounded number of deliveries from N sender threads, and reports the
acknowledgements per second, the acknowledgement latency (p50, p99), and the worker's
processing rate (orders/s). Every process it starts, it stops.

    PYTHONPATH=. python bench/webhooks.py [--deliveries 4000] [--port 19020]
        [--gunicorn-workers 4] [--gunicorn-threads 8] [--celery-concurrency 4]
        [--worker-after]

With ``--worker-after`` the worker starts once every delivery is acknowledged: the
acknowledgements are measured with the box to themselves, then the worker on the backlog
(a web host and a worker host, on one 2-core machine). Without it they share the cores.

Besides the rates: CPU time per acknowledgement of gunicorn's workers and of PostgreSQL's
backends, and per order of the Celery worker's processes (from /proc), with the load average,
and every customer's balance checked against the ledger afterwards.

The database is migrated and its loyalty tables are emptied first: never point it at data
you want to keep.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import redis
import requests
from alembic import command
from sqlalchemy import create_engine, text

from bench.common import (
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    CpuMeter,
    children,
    load_average,
)
from shopify_loyalty.cli.db import alembic_config
from shopify_loyalty.shopify.webhook_hmac import sign_webhook

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-0123456789abcdef"
SHOP = "bench-shop.myshopify.com"
# Shopify's ids are beyond 2**53: send real-sized ones.
FIRST_ORDER_ID = 820982911946154508
FIRST_CUSTOMER_ID = 115310627314723954
CUSTOMERS = 500
# Limits on every wait, so a broken run ends instead of hanging.
STARTUP_SECONDS = 120  # a loaded machine starts gunicorn's and Celery's workers slowly
PROCESSING_SECONDS = 600
REQUEST_TIMEOUT_SECONDS = 10


def prepare_database(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE shops, outbox RESTART IDENTITY CASCADE"))
        shop_id = connection.execute(text(
            "INSERT INTO shops (domain, currency, needs_reauth, installed_at, settings,"
            " created_at) VALUES (:d, 'USD', false, now(), '{}', now()) RETURNING id"
        ), {"d": SHOP}).scalar_one()
        connection.execute(text(
            "INSERT INTO earn_rules (shop_id, kind, points_per_unit, include_shipping,"
            " include_tax, pending_days, active, created_at, updated_at)"
            " VALUES (:s, 'PURCHASE', 1, false, false, 0, true, now(), now())"
        ), {"s": shop_id})
    engine.dispose()


# Shopify's own sample order (tests/data, ~13 KB with its two lines, addresses, tax lines
# and client details), made paid and given each delivery's ids: real deliveries' size.
SAMPLE_ORDER = json.loads((ROOT / "tests" / "data" / "orders_create_sample.json").read_text())


def order_body(n: int) -> bytes:
    customer_id = FIRST_CUSTOMER_ID + n % CUSTOMERS
    subtotal = f"{20 + n % 180}.{n % 100:02d}"
    order = dict(SAMPLE_ORDER)
    customer = dict(order.get("customer") or {})
    customer.update({"id": customer_id, "email": f"c{customer_id}@example.com",
                     "first_name": "Bench", "last_name": str(n % CUSTOMERS), "tags": ""})
    order.update({
        "id": FIRST_ORDER_ID + n, "name": f"#{1000 + n}", "order_number": 1000 + n,
        "financial_status": "paid", "cancelled_at": None, "cancel_reason": None,
        "created_at": "2026-11-22T10:00:00-05:00", "currency": "USD",
        "taxes_included": False, "discount_codes": [], "refunds": [],
        "subtotal_price": subtotal, "current_subtotal_price": subtotal,
        "subtotal_price_set": {"shop_money": {"amount": subtotal, "currency_code": "USD"},
                               "presentment_money": {"amount": subtotal,
                                                     "currency_code": "USD"}},
        "total_tax": "0.00", "email": customer["email"], "customer": customer,
    })
    return json.dumps(order).encode()


def signed(n: int) -> tuple[bytes, dict[str, str]]:
    """Delivery ``n`` as Shopify sends it: its body and headers (built before the clock runs,
    so the load generator's CPU on this shared box is the sending's alone)."""
    body = order_body(n)
    return body, {
        "Content-Type": "application/json", "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": sign_webhook(body, SECRET),
    }


def send(host: str, port: int, deliveries: list[tuple[bytes, dict[str, str]]],
         latencies: list[float], failures: list[str]) -> None:
    """One sender: its deliveries one after another over a kept-alive connection
    (http.client: a quarter of ``requests``' CPU a request, which this box shares)."""
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        for body, headers in deliveries:
            started = time.perf_counter()
            try:
                connection.request("POST", "/webhooks", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection(host, port,
                                                        timeout=REQUEST_TIMEOUT_SECONDS)
            latencies.append(time.perf_counter() - started)
            if status != "200":
                failures.append(status)
    finally:
        connection.close()


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("the app did not become healthy")


def wait_processed(url: str, expected: int) -> dict[str, Any]:
    engine = create_engine(url)
    deadline = time.monotonic() + PROCESSING_SECONDS
    query = text("SELECT count(*) FILTER (WHERE status = 'PROCESSED'),"
                 " count(*) FILTER (WHERE status = 'FAILED'),"
                 " extract(epoch FROM max(processed_at) - min(processed_at)),"
                 " extract(epoch FROM max(processed_at) - min(received_at))"
                 " FROM webhook_events")
    try:
        while True:
            with engine.connect() as connection:
                done, failed, span, end_to_end = connection.execute(query).one()
                balanced = connection.execute(text(
                    "SELECT count(*) FROM customers c WHERE c.available_points <>"
                    " (SELECT coalesce(sum(points), 0) FROM point_transactions p"
                    "  WHERE p.customer_id = c.id AND p.status = 'APPROVED')")).scalar_one()
            if done + failed >= expected or time.monotonic() > deadline:
                return {"processed": done, "failed": failed,
                        "worker_orders_per_s": round(done / float(span), 1) if span else None,
                        "end_to_end_seconds": round(float(end_to_end or 0), 2),
                        "customers_off_balance": balanced}
            time.sleep(0.5)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=BENCH_DATABASE_URL)
    parser.add_argument("--redis-url", default=BENCH_REDIS_URL)
    parser.add_argument("--port", type=int, default=19020)
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--deliveries", type=int, default=4000)
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    parser.add_argument("--gunicorn-threads", type=int, default=8)
    parser.add_argument("--celery-concurrency", type=int, default=4)
    parser.add_argument("--worker-after", action="store_true",
                        help="start the worker once every delivery is acknowledged: the "
                        "acknowledgements and the worker each measured with the box to itself")
    args = parser.parse_args()

    prepare_database(args.database_url)
    redis.Redis.from_url(args.redis_url).flushdb()  # the bench's own Redis DB: stale tasks
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "RATELIMIT_ENABLED": "0", "SHOPIFY_API_SECRET": SECRET,
           "PYTHONPATH": str(ROOT)}
    bin_dir = Path(sys.executable).parent
    base = f"http://127.0.0.1:{args.port}"
    processes = [
        subprocess.Popen([str(bin_dir / "gunicorn"), "-w", str(args.gunicorn_workers),
                          "--threads", str(args.gunicorn_threads), "-b",
                          f"127.0.0.1:{args.port}", "--log-level", "warning", "app:app"],
                         cwd=ROOT, env=env),
    ]

    def start_worker() -> None:
        processes.append(subprocess.Popen(
            [str(bin_dir / "celery"), "-A", "workers.celery_app", "worker",
             "-c", str(args.celery_concurrency), "--loglevel", "warning"], cwd=ROOT, env=env))
        worker_meter.start()

    web_meter = CpuMeter(lambda: children(processes[0].pid), args.database_url)
    worker_meter = CpuMeter(lambda: [processes[1].pid, *children(processes[1].pid)],
                            args.database_url)
    try:
        wait_healthy(base)
        print(f"before: {load_average()}, body {len(order_body(0))} bytes")
        web_meter.start()
        if not args.worker_after:
            start_worker()
        latencies: list[float] = []
        failures: list[str] = []
        per_sender = args.deliveries // args.senders
        threads = [threading.Thread(target=send, args=(
            "127.0.0.1", args.port,
            [signed(n) for n in range(i * per_sender, (i + 1) * per_sender)], latencies,
            failures)) for i in range(args.senders)]
        senders_cpu = time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        senders_cpu = time.process_time() - senders_cpu
        sent = per_sender * args.senders
        # The web side's CPU, app and PostgreSQL, over the sending (the worker runs meanwhile:
        # its backends count with the worker's below, not here).
        web_app_cpu, _ = web_meter.stop()
        load_after_sending = load_average()
        quantiles = statistics.quantiles(latencies, n=100)
        report = {
            "deliveries": sent, "senders": args.senders, "non_200": len(failures),
            "acks_per_s": round(sent / elapsed, 1),
            "ack_p50_ms": round(quantiles[49] * 1000, 1),
            "ack_p99_ms": round(quantiles[98] * 1000, 1),
            "worker": "started after the sending" if args.worker_after else "alongside",
        }
        if args.worker_after:
            start_worker()
        report.update(wait_processed(args.database_url, sent - len(failures)))
        worker_cpu, database_cpu = worker_meter.stop()
        report.update({
            "web_cpu_ms_per_ack": round(web_app_cpu / sent * 1000, 2),
            # The load generator shares the box: its CPU is what the app could not have.
            "senders_cpu_ms_per_ack": round(senders_cpu / sent * 1000, 2),
            "worker_cpu_ms_per_order": round(worker_cpu / max(1, report["processed"]) * 1000,
                                             2),
            "postgres_cpu_ms_per_order_all_backends": round(
                database_cpu / max(1, report["processed"]) * 1000, 2),
            "load_after_sending": load_after_sending, "load_at_end": load_average(),
        })
        print(json.dumps(report, indent=2))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    main()
