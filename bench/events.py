"""Outbound webhooks: 10,000 events to 3 local endpoints, one answering 500 half the time.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_events \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 \\
    PYTHONPATH=. .venv/bin/python bench/events.py [--events 10000] [--port 24600] [--rate N]

Migrates the bench database from scratch, empties its Redis DB (that one only), starts three
HTTP receivers on 127.0.0.1 (--port, +1, +2: two healthy, one answering 500 to half its
requests at random) and a real ``celery worker`` on the ``events`` queue (threads pool,
--threads), and runs the outbox relay every 5 s as beat does. Then two runs, each of
--events events committed one per transaction by --producers threads (as redemptions and
orders commit them):

1. **with** the failing endpoint: a shop with the two healthy endpoints and the failing one;
2. **without** it: a shop with three healthy endpoints (the failing one's place taken by a
   third healthy receiver on --port +3), so both runs ask the worker for the same deliveries.

For each: events committed per second, healthy deliveries per second (from the first commit
to the last healthy receipt), and commit → receipt latency at the healthy endpoints (p50,
p99, max; "commit" is the moment the transaction's block returned, its tasks published). The
failing endpoint's 500s are retried 5 s later (then 5 min: beyond the run), so the first run
also carries its retries; the claim is that the healthy endpoints' numbers do not move.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from sqlalchemy import func, select

from bench.common import BENCH_DATABASE_URL, BENCH_REDIS_URL, fresh_database, percentile
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.models import Customer, DeliveryStatus, EventDelivery, Shop
from shopify_loyalty.services.events import catalog, endpoints
from shopify_loyalty.services.shops import tokens as shop_tokens
from workers.schedule import RELAY_INTERVAL_SECONDS

ROOT = Path(__file__).resolve().parents[1]
EVENTS_QUEUE = "bench-events"


@dataclass
class Receiver:
    name: str
    fail_ratio: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # webhook-id → wall time of the first 2xx answer
    delivered: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    failures: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def answer(self, webhook_id: str) -> int:
        with self.lock:
            self.requests += 1
            if self.rng.random() < self.fail_ratio:
                self.failures += 1
                return 500
            self.delivered.setdefault(webhook_id, time.time())
            return 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.answer(self.headers.get("webhook-id", ""))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(receiver: Receiver, port: int) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    server.daemon_threads = True
    server.request_queue_size = 256
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/hooks"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def relay_beat(dispatcher: OutboxDispatcher) -> Iterator[None]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(RELAY_INTERVAL_SECONDS):
            dispatcher.relay(utcnow())

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(30)


def make_shop(db: Database, domain: str, urls: list[str], customers: int) -> list[int]:
    policy = endpoints.EndpointPolicy(shop_tokens.context_of(db).cipher, allow_private=True)
    with db.unit_of_work() as session:
        shop = Shop(domain=domain, currency="USD")
        session.add(shop)
        session.flush()
        ids = []
        for n in range(customers):
            customer = Customer(shop_id=shop.id, shopify_customer_id=10_000 + n,
                                email=f"c{n}@example.com")
            session.add(customer)
            session.flush()
            ids.append(customer.id)
        for url in urls:
            endpoints.add_endpoint(session, shop, url, None, policy)
    return ids


def produce(db: Database, customer_ids: list[int], events: int, producers: int,
            rate: float | None) -> tuple[dict[str, float], float]:
    """Commit ``events`` events from ``producers`` threads (at most ``rate`` a second in all);
    their commit times by event id."""
    committed: dict[str, float] = {}
    lock = threading.Lock()
    counter = iter(range(events))
    begin = time.monotonic()

    def work() -> None:
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                return
            if rate:
                time.sleep(max(0.0, begin + n / rate - time.monotonic()))
            with db.unit_of_work() as session:
                customer = session.get_one(Customer, customer_ids[n % len(customer_ids)])
                event = catalog.emit(session, customer, catalog.POINTS_ADJUSTED, {"points": 1})
                public_id = event.public_id
            at = time.time()
            with lock:
                committed[public_id] = at

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(producers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return committed, time.monotonic() - started


def run(label: str, db: Database, healthy: list[Receiver], flaky: Receiver | None,
        urls: list[str], events: int, producers: int, timeout: float,
        rate: float | None) -> None:
    customers = make_shop(db, f"bench-{label}.myshopify.com", urls, 100)
    flaky_before = (flaky.requests, flaky.failures) if flaky else (0, 0)
    committed, producing = produce(db, customers, events, producers, rate)
    first_commit = min(committed.values())
    deadline = time.monotonic() + timeout
    while any(len(set(committed) - set(r.delivered)) for r in healthy):
        if time.monotonic() > deadline:
            print(f"{label}: timed out waiting for the healthy endpoints")
            break
        time.sleep(0.2)
    lags = [r.delivered[e] - at for r in healthy for e, at in committed.items()
            if e in r.delivered]
    last = max(r.delivered[e] for r in healthy for e in committed if e in r.delivered)
    span = last - first_commit
    print(f"\n[{label}] {events} events, {len(urls)} endpoints")
    print(f"  committed: {events / producing:.0f} events/s ({producers} producer threads)")
    print(f"  healthy deliveries: {len(lags)} in {span:.1f} s → {len(lags) / span:.0f}/s")
    print(f"  commit → receipt at the healthy endpoints: p50 {percentile(lags, 50) * 1000:.0f}"
          f" ms, p99 {percentile(lags, 99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
    if flaky is not None:
        requests = flaky.requests - flaky_before[0]
        failures = flaky.failures - flaky_before[1]
        got = sum(1 for e in committed if e in flaky.delivered)
        print(f"  failing endpoint: {requests} requests, {failures} answered 500, "
              f"{got} events delivered so far (the rest retry at 5 s, then 5 min)")
    with db.unit_of_work() as session:
        counts = dict(session.execute(
            select(EventDelivery.status, func.count()).group_by(EventDelivery.status)).all())
    print("  deliveries in the database so far: "
          + ", ".join(f"{s.value} {counts.get(s, 0)}" for s in DeliveryStatus))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=32, help="the worker's threads pool")
    parser.add_argument("--per-endpoint", type=int, default=None,
                        help="EVENT_ENDPOINT_CONCURRENCY (default: the app's)")
    parser.add_argument("--port", type=int, default=24600)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--only", choices=("with", "without"))
    parser.add_argument("--rate", type=float, default=None,
                        help="events committed a second at most (default: as fast as they go); "
                             "below the worker's capacity, the latency is the pipeline's, not "
                             "a backlog's")
    args = parser.parse_args()

    fresh_database(BENCH_DATABASE_URL)
    redis.Redis.from_url(BENCH_REDIS_URL).flushdb()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": BENCH_DATABASE_URL,
           "CELERY_BROKER_URL": BENCH_REDIS_URL, "CELERY_QUEUE": "bench-celery",
           "EVENTS_QUEUE": EVENTS_QUEUE, "EVENT_ENDPOINTS_ALLOW_PRIVATE": "1",
           "LOG_FORMAT": "text"}
    if args.per_endpoint:
        env["EVENT_ENDPOINT_CONCURRENCY"] = str(args.per_endpoint)
    settings = Settings(database_url=BENCH_DATABASE_URL, celery_broker_url=BENCH_REDIS_URL,
                        celery_queue="bench-celery", events_queue=EVENTS_QUEUE,
                        event_endpoints_allow_private=True, ratelimit_enabled=False)
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "workers.celery_app", "worker",
         "--pool", "threads", "--concurrency", str(args.threads), "--queues", EVENTS_QUEUE,
         "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        env=env, cwd=ROOT, start_new_session=True,
    )
    healthy = [Receiver("healthy-1"), Receiver("healthy-2")]
    third = Receiver("healthy-3")
    flaky = Receiver("failing", fail_ratio=0.5)
    try:
        time.sleep(5)  # the worker boots and connects
        app = create_app(settings)
        db: Database = app.extensions["loyalty_db"]
        with serving(healthy[0], args.port) as one, serving(healthy[1], args.port + 1) as two, \
                serving(flaky, args.port + 2) as bad, serving(third, args.port + 3) as good, \
                relay_beat(app.extensions["loyalty_dispatcher"]):
            if args.only != "without":
                run("with", db, healthy, flaky, [one, two, bad], args.events, args.producers,
                    args.timeout, args.rate)
            if args.only != "with":
                run("without", db, [*healthy, third], None, [one, two, good], args.events,
                    args.producers, args.timeout, args.rate)
        print(f"\nload average: {os.getloadavg()}")
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
