"""The chaos run: the whole stack under faults, then proof that nothing was lost or done twice.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_chaos \\
        .venv/bin/python -m bench.chaos [--operations 10000] [--minutes 30] [--port-base 21000]

Starts its own redis-server (port base+79, keeps nothing on disk), the app under gunicorn (2
workers), two Celery workers (prefork) and beat on the bench database, and the Shopify
stand-in with faults on (5xx, timeouts, THROTTLED, applied-but-lost). It drives the planned
operations (bench.chaos_traffic) and, spread over the run, kills a Celery worker with SIGKILL
mid-task (the whole worker, or one pool process), restarts Redis (queues emptied), terminates
the app's PostgreSQL connections, restarts gunicorn (SIGTERM, and SIGKILL), and runs the
rewards-expiry, expiry-reminders, points-expiry and tiers jobs as of days ahead. Then the
faults stop, the queues drain and bench.chaos_checks reads the end state. The JSON report
(stdout, and --report FILE) counts operations, faults and violations; exit 1 on a violation.
The database is dropped and re-migrated first: never point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine

from bench import chaos_checks, chaos_events
from bench.chaos_setup import POINTS_EXPIRY_DAYS, REWARD_DAYS, set_up
from bench.chaos_stack import ROOT, RUN_FAULTS, Ports, Stack, busy_backends, terminate_app_backends
from bench.chaos_traffic import Results, drive, make_plan
from bench.common import fresh_database
from bench.shopify_standin import Faults

FAULTS = ("kill-worker", "restart-redis", "terminate-connections", "restart-gunicorn",
          "kill-worker-process", "kill-gunicorn")
# Jobs run as of days ahead, at a share of the traffic sent: (share, job, days ahead).
JOBS = ((0.25, "expiry-reminders", REWARD_DAYS - 1), (0.35, "rewards-expiry", REWARD_DAYS + 1),
        (0.55, "points-expiry", POINTS_EXPIRY_DAYS + 1), (0.75, "tiers", 400))
MID_TASK_WAIT = 10.0


@dataclass
class Options:
    operations: int = 10_000
    minutes: float = 10.0
    lanes: int = 8
    seed: int = 1
    customers: int = 40
    port_base: int = 21000
    lease_seconds: int = 12
    drain_seconds: float = 900.0
    cycles: int = 3
    events: bool = True
    database_url: str = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_chaos")


class Chaos:
    """Injects the faults and runs the jobs as the traffic's share sent passes their marks."""

    def __init__(self, stack: Stack, engine: Engine, options: Options) -> None:
        self.stack, self.engine = stack, engine
        faults = [name for _ in range(options.cycles) for name in FAULTS]
        marks = [(n + 1) / (len(faults) + 1) for n in range(len(faults))]
        self.todo: list[tuple[float, str, str, int]] = sorted(
            [(mark, "fault", name, 0) for mark, name in zip(marks, faults, strict=True)]
            + [(share, "job", job, days) for share, job, days in JOBS])
        self.done: Counter[str] = Counter()
        self.failed: list[str] = []
        self.rng = random.Random(options.seed)
        self.share = 0.0
        self.wake = threading.Event()

    def progress(self, share: float) -> None:
        self.share = share
        self.wake.set()

    def run(self, stop: threading.Event) -> None:
        while self.todo and not stop.is_set():
            self.wake.wait(1.0)
            self.wake.clear()
            while self.todo and self.todo[0][0] <= self.share:
                _, what, name, days = self.todo.pop(0)
                try:
                    self.job(name, days) if what == "job" else self.fault(name)
                except Exception as exc:  # reported: the run goes on
                    self.failed.append(f"{name}: {exc!r}")

    def fault(self, name: str) -> None:
        processes = self.stack.processes
        if name in ("kill-worker", "kill-worker-process"):
            worker = processes[self.rng.choice(("worker1", "worker2"))]
            self.done[f"{name}-mid-task" if self.wait_busy((worker.name,)) else name] += 1
            if name == "kill-worker":
                self.stack.restart(worker.name, signal.SIGKILL)
            else:
                for pid in worker.children()[:1]:
                    os.kill(pid, signal.SIGKILL)  # the worker's main process forks another
            return
        self.done[name] += 1
        if name == "restart-redis":
            # While a worker holds a message, so that it has unacknowledged ones to restore.
            self.wait_busy(("worker1", "worker2"))
            self.stack.restart("redis", signal.SIGKILL)
        elif name == "terminate-connections":
            self.done["connections-terminated"] += terminate_app_backends(self.engine)
        else:
            self.stack.restart("gunicorn",
                               signal.SIGKILL if name == "kill-gunicorn" else signal.SIGTERM)

    def wait_busy(self, roles: tuple[str, ...]) -> bool:
        """Wait (a while at most) for one of the roles to be inside a transaction."""
        deadline = time.monotonic() + MID_TASK_WAIT
        while time.monotonic() < deadline:
            if any(busy_backends(self.engine, role) for role in roles):
                return True
            time.sleep(0.05)
        return False

    def job(self, name: str, days: int) -> None:
        now = (datetime.now(UTC) + timedelta(days=days)).isoformat()
        for _ in range(5):  # its connection may be terminated mid-run: run it again
            answer = subprocess.run(
                [sys.executable, "-m", "flask", "--app", "app", "jobs", "run", name,
                 "--now", now], cwd=ROOT, env=self.stack.env("cli"), capture_output=True,
                text=True, timeout=600)
            if answer.returncode == 0:
                self.done[f"job:{name}"] += 1
                return
            self.done[f"job:{name}:failed-run"] += 1
        self.failed.append(f"job {name}: {answer.stderr[-300:]}")


def run(options: Options) -> dict[str, Any]:
    load_before = os.getloadavg()
    fresh_database(options.database_url)
    engine = create_engine(options.database_url, pool_pre_ping=True,
                           connect_args={"application_name": "chaosrun-driver"})
    ports = Ports.from_base(options.port_base) if options.port_base else Ports.free()
    stack = Stack(options.database_url, ports, options.lease_seconds)
    results = Results()
    with stack.running():
        shops = set_up(options.database_url, stack.redis_url, options.customers)
        endpoints = chaos_events.start(stack, shops) if options.events else None
        plan = make_plan(shops, options.operations, options.lanes, options.seed)
        chaos = Chaos(stack, engine, options)
        stop = threading.Event()
        injector = threading.Thread(target=chaos.run, args=(stop,), daemon=True)
        stack.standin.faults = RUN_FAULTS
        started = time.monotonic()
        # The traffic is spread over --minutes; a slower machine may take longer, up to this.
        timer = threading.Timer(options.minutes * 120 + 120, stop.set)
        timer.start()
        injector.start()
        drive(stack.app_url, plan, results, stop, chaos.progress, options.minutes * 60)
        traffic_seconds = time.monotonic() - started
        stop.set()
        timer.cancel()
        injector.join()
        load_during = os.getloadavg()
        stack.standin.faults = Faults()
        if endpoints is not None:
            endpoints.calm()
        drain_seconds, left = chaos_checks.wait_drained(engine, options.drain_seconds)
        verify, violations = chaos_checks.ledger_verify(stack)
        outcomes, found = chaos_checks.reward_checks(engine, stack.standin)
        violations += found
        violations += chaos_checks.failed_rewards_refunded(engine)
        violations += chaos_checks.idempotency_checks(engine, results)
        violations += chaos_checks.order_checks(engine, results)
        violations += chaos_checks.webhook_and_outbox_checks(engine)
        if endpoints is not None:
            violations += chaos_events.check(engine, endpoints)
        if any(left.values()):
            violations.append({"check": "not_drained", "detail": json.dumps(left)})
        violations += [{"check": "driver_error", "detail": line}
                       for line in results.driver_errors]
        if results.sent < plan.total:
            violations.append({"check": "traffic_cut_short",
                               "detail": f"{results.sent} of {plan.total} within --minutes"})
        standin_faults: Counter[str] = Counter()
        for shop in stack.standin.shops.values():
            standin_faults.update(shop.faults_injected)
        report = {
            "operations": results.sent, "planned": plan.total,
            "operationsByKind": dict(results.operations),
            "answers": dict(sorted(results.answers.items())),
            "resends": results.resends, "serverErrors": len(results.server_errors),
            "serverErrorSamples": results.server_errors[:5],
            "unanswered": len(results.unanswered),
            "faults": {**dict(chaos.done), **{f"shopify:{k}": v
                                              for k, v in standin_faults.items()}},
            "faultsNotRun": [entry[2] for entry in chaos.todo], "faultErrors": chaos.failed,
            "crashes": {name: p.crashes for name, p in stack.processes.items() if p.crashes},
            "rewards": dict(outcomes), "customers": verify.get("customers"),
            "trafficSeconds": round(traffic_seconds, 1),
            "operationsPerSecond": round(results.sent / traffic_seconds, 1),
            "drainSeconds": round(drain_seconds, 1),
            "loadAverage": {"before": load_before, "endOfTraffic": load_during,
                            "end": os.getloadavg()},
            "events": "checked" if endpoints is not None else "off (--events)",
            "eventDeliveries": chaos_events.summary(engine) if endpoints is not None else {},
            "violationCounts": dict(Counter(v["check"] for v in violations)),
            "violations": violations[:100], "violationCount": len(violations),
            "logs": str(stack.run_dir),
        }
    engine.dispose()
    return report


def main() -> None:
    defaults = Options()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=defaults.operations)
    parser.add_argument("--minutes", type=float, default=defaults.minutes,
                        help="the traffic is spread over this long at least (twice it, and "
                             "two minutes, at most)")
    parser.add_argument("--lanes", type=int, default=defaults.lanes)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--customers", type=int, default=defaults.customers,
                        help="customers per shop at the start")
    parser.add_argument("--port-base", type=int, default=defaults.port_base,
                        help="app on it, stand-in on +65, Redis on +79; 0: the first free")
    parser.add_argument("--lease-seconds", type=int, default=defaults.lease_seconds)
    parser.add_argument("--drain-seconds", type=float, default=defaults.drain_seconds)
    parser.add_argument("--cycles", type=int, default=defaults.cycles,
                        help="rounds of the six faults")
    parser.add_argument("--no-events", dest="events", action="store_false",
                        help="leave out the event endpoint (deliveries failing half the time)")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()
    report = run(Options(**{k: v for k, v in vars(args).items() if k != "report"}))
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.report:
        args.report.write_text(text)
    sys.exit(1 if report["violationCount"] else 0)


if __name__ == "__main__":
    main()
