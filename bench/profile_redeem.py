"""Where one redemption (or one webhook acknowledgement) spends its time, in-process.

    python -m bench.profile_redeem [--requests 300] [--what redeem|webhook] [--pyinstrument]

Runs on the bench database that ``bench.redeem`` seeded (run that first, or ``--seed``), in
this process through Flask's test client with REDIS_URL set (tasks are published, not run):
prints the SQL statements and round trips per request (SQLAlchemy events on the engine),
the CPU time per request of this process, and with ``--pyinstrument`` a call tree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import event

from bench.common import (
    BENCH_DATABASE_URL,
    BENCH_REDIS_URL,
    CpuMeter,
    cpu_seconds,
    load_average,
)
from bench.redeem import API_KEY, DOMAIN, SECRET, seed
from shopify_loyalty import create_app
from shopify_loyalty.config import Settings
from shopify_loyalty.shopify.auth import issue_customer_token
from shopify_loyalty.shopify.webhook_hmac import sign_webhook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--customers", type=int, default=3200)
    parser.add_argument("--what", choices=["redeem", "webhook"], default="redeem")
    parser.add_argument("--seed", action="store_true", help="reset and seed the database")
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--callgrind", action="store_true",
                        help="under valgrind --tool=callgrind --instr-atstart=no: count the "
                        "requests' instructions only (repeatable on a noisy machine)")
    parser.add_argument("--in-process", action="store_true",
                        help="no broker: each task runs right after its commit, so a webhook's "
                        "numbers include its processing (the worker's share: subtract)")
    args = parser.parse_args()
    if args.seed:
        from bench.common import fresh_database

        fresh_database()
        seed(args.customers, 10**6)
    redis_url = None if args.in_process else BENCH_REDIS_URL
    settings = Settings(database_url=BENCH_DATABASE_URL, redis_url=redis_url,
                        shopify_api_key=API_KEY, shopify_api_secret=SECRET,
                        ratelimit_enabled=False, log_format="json")
    app = create_app(settings)
    engine = app.extensions["loyalty_db"].engine
    statements: Counter[str] = Counter()

    @event.listens_for(engine, "before_cursor_execute")
    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements[" ".join(statement.split()[:3])] += 1

    @event.listens_for(engine, "commit")
    def commits(_conn: Any) -> None:
        statements["COMMIT"] += 1

    @event.listens_for(engine, "begin")
    def begins(_conn: Any) -> None:
        statements["BEGIN"] += 1

    client = app.test_client()
    rule_id = _rule_id(app)
    tokens = [issue_customer_token(DOMAIN, c, api_key=API_KEY, secret=SECRET)
              for c in range(1, args.customers + 1)]

    def redeem(n: int) -> None:
        response = client.post("/loyalty/cp/api/redeem-points",
                               json={"redeemRuleId": rule_id},
                               headers={"Authorization": f"Bearer {tokens[n % len(tokens)]}",
                                        "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 200, response.get_data(as_text=True)

    def webhook(n: int) -> None:
        from bench.webhooks import order_body

        body = order_body(n + 10**7 + int(time.time()) % 10**6 * 1000)  # orders never seen
        response = client.post("/webhooks", data=body, headers={
            "Content-Type": "application/json", "X-Shopify-Topic": "orders/paid",
            "X-Shopify-Shop-Domain": DOMAIN, "X-Shopify-Webhook-Id": uuid.uuid4().hex,
            "X-Shopify-Hmac-Sha256": sign_webhook(body, SECRET)})
        assert response.status_code == 200, response.get_data(as_text=True)

    one = redeem if args.what == "redeem" else webhook
    for n in range(20):  # warm up: caches, pool, compiled statements
        one(n)
    statements.clear()
    profiler = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
    if args.callgrind:
        subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True,
                       capture_output=True)
    database = CpuMeter(lambda: [], BENCH_DATABASE_URL)
    database.start()
    cpu, wall = cpu_seconds(os.getpid()), time.perf_counter()
    for n in range(args.requests):
        one(n + 20)
    cpu, wall = cpu_seconds(os.getpid()) - cpu, time.perf_counter() - wall
    database_cpu = database.stop()[1]
    if args.callgrind:
        subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True,
                       capture_output=True)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    threads = {}
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/stat") as stat:
            fields = stat.read().rsplit(")", 1)
        name = fields[0].split("(", 1)[1]
        ticks = fields[1].split()
        threads[f"{task} {name}"] = (int(ticks[11]) + int(ticks[12])) / os.sysconf("SC_CLK_TCK")
    print("threads' CPU s:", threads, "process_time", time.process_time(),
          "thread_time", time.thread_time())
    per = {k: round(v / args.requests, 2) for k, v in statements.most_common()}
    print(json.dumps({"what": args.what, "requests": args.requests,
                      "cpu_ms_per_request": round(cpu / args.requests * 1000, 2),
                      "postgresql_cpu_ms_per_request": round(
                          database_cpu / args.requests * 1000, 2),
                      "wall_ms_per_request": round(wall / args.requests * 1000, 2),
                      "round_trips_per_request": round(sum(statements.values())
                                                       / args.requests, 2),
                      "statements": per, "load": load_average()}, indent=1))


def _rule_id(app: Any) -> int:
    from sqlalchemy import select

    from shopify_loyalty.models import RedeemRule

    with app.extensions["loyalty_db"].unit_of_work() as session:
        return int(session.scalars(select(RedeemRule.id)).first() or 0)


if __name__ == "__main__":
    main()
