"""Shared pieces of the benchmarks: a migrated database, gunicorn, latency summaries."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
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


@contextmanager
def gunicorn(port: int, env: dict[str, str], workers: int, threads: int) -> Iterator[str]:
    """The app under gunicorn on 127.0.0.1:port, stopped on exit."""
    argv = [
        sys.executable, "-m", "gunicorn", "app:app",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-class", "gthread" if threads > 1 else "sync",
        "--log-level", "warning",
        "--backlog", "2048",
    ]
    process = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        # Four workers importing the app take seconds; many on a loaded machine.
        deadline = time.monotonic() + 120
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
