"""Shared pieces of the benchmarks: a migrated database, gunicorn, latency summaries."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from shopify_loyalty.cli.db import alembic_config

ROOT = Path(__file__).resolve().parents[1]
BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
)
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")


def fresh_database(url: str = BENCH_DATABASE_URL) -> None:
    """Drop everything in the bench database and migrate it to head."""
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    name = url.rsplit("/", 1)[1]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                   {"n": name})
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    command.upgrade(alembic_config(url), "head")


class Server(str):
    """The base URL of a server a bench started, with the process behind it."""

    process: subprocess.Popen[bytes]


@contextmanager
def gunicorn(port: int, env: dict[str, str], workers: int, threads: int,
             worker_class: str | None = None) -> Iterator[Server]:
    """The app under gunicorn on 127.0.0.1:port, stopped on exit."""
    argv = [
        sys.executable, "-m", "gunicorn", "app:app",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", worker_class or ("gthread" if threads > 1 else "sync"),
        "--log-level", "warning",
        "--backlog", "2048",
    ]
    process = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env})
    base = Server(f"http://127.0.0.1:{port}")
    base.process = process
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts workers slowly
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn's workers, Celery's pool)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            return [int(p) for p in found.read().split()]
    except OSError:
        return []


def postgres_backends(dsn: str) -> list[int]:
    """The server processes of every connection to the bench database."""
    import psycopg

    plain = dsn.replace("postgresql+psycopg", "postgresql")
    name = plain.rsplit("/", 1)[1]
    with psycopg.connect(plain, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                            "AND pid <> pg_backend_pid()", (name,)).fetchall()
    return [int(row[0]) for row in rows]


class CpuMeter:
    """CPU seconds spent by the app's processes and the database's backends between
    ``start`` and ``stop`` (less sensitive to a loaded machine than throughput)."""

    def __init__(self, app_pids: Callable[[], list[int]], dsn: str) -> None:
        self.app_pids = app_pids
        self.dsn = dsn
        self.before: dict[int, float] = {}

    def _sample(self) -> dict[int, float]:
        app = {pid: cpu_seconds(pid) for pid in self.app_pids()}
        database = {-pid: cpu_seconds(pid) for pid in postgres_backends(self.dsn)}
        return {**app, **database}

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> tuple[float, float]:
        """(app CPU s, PostgreSQL CPU s) since ``start``."""
        after = self._sample()
        app = sum(v - self.before.get(k, 0.0) for k, v in after.items() if k > 0)
        database = sum(v - self.before.get(k, 0.0) for k, v in after.items() if k < 0)
        return app, database


def cpu_line(name: str, app: float, database: float, requests: int) -> str:
    if not requests:
        return f"{name}: no requests"
    return (f"{name}: CPU per request app {app / requests * 1000:.2f} ms, "
            f"PostgreSQL {database / requests * 1000:.2f} ms "
            f"(total {app:.1f} s + {database:.1f} s for {requests})")


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def summary(name: str, latencies: Sequence[float], seconds: float, errors: int) -> str:
    rate = len(latencies) / seconds if seconds else 0.0
    return (
        f"{name}: {len(latencies)} ok, {errors} errors in {seconds:.1f} s → {rate:.0f}/s; "
        f"latency p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.1f} ms, "
        f"mean {statistics.fmean(latencies) * 1000 if latencies else float('nan'):.1f} ms"
    )
