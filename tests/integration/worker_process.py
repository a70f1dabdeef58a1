"""Real Celery worker processes on a real broker (Redis or RabbitMQ), for recovery tests.

A worker is ``celery -A workers.celery_app worker``, the production entry point, started with
the environment a deployment would give it; it can be killed with SIGKILL mid-task. The
Shopify Admin API is the local stand-in (bench/shopify_standin.py) served from the test
process, so a test can hold a call open.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import redis
from amqp.exceptions import NotFound
from kombu import Connection
from werkzeug.serving import make_server

from bench.shopify_standin import StandIn
from shopify_loyalty.db import utcnow
from shopify_loyalty.jobs.dispatch import OutboxDispatcher
from shopify_loyalty.jobs.lanes import worker_queues

ROOT = Path(__file__).resolve().parents[2]
# Redis DB 8 is these tests' (emptied before and after, under conftest's redis_lock).
# RabbitMQ runs share the vhost: each test has its own queue.
REDIS_BROKER = "redis://127.0.0.1:6379/8"
RABBITMQ_BROKER = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BROKERS = {"redis": REDIS_BROKER, "rabbitmq": RABBITMQ_BROKER}
# Short, so that a lost task is sent again within seconds: the recovery bound is the lease
# plus the relay's interval (90 s + 5 s in production).
LEASE_SECONDS = 4
RELAY_INTERVAL = 0.5
READY_TIMEOUT = 30.0


@dataclass
class Broker:
    name: str
    url: str
    queue: str = field(default_factory=lambda: f"loyalty-test-{uuid.uuid4().hex[:12]}")

    def empty(self) -> None:
        """Everything published and not yet taken is gone (FLUSHDB, a queue purge)."""
        if self.name == "redis":
            redis.Redis.from_url(self.url).flushdb()
            return
        with Connection(self.url) as connection:
            for queue in worker_queues(self.queue):
                # A lane no worker declared yet does not exist: the broker refuses the purge
                # and closes the channel, so each purge has a channel of its own.
                channel = connection.channel()
                try:
                    channel.queue_purge(queue)
                except NotFound:
                    pass
                finally:
                    with suppress(Exception):
                        channel.close()

    def remove(self) -> None:
        if self.name == "redis":
            redis.Redis.from_url(self.url).flushdb()
            return
        with Connection(self.url) as connection:
            for queue in worker_queues(self.queue):
                connection.default_channel.queue_delete(queue)


class Worker:
    """One ``celery worker`` process group (the main process and its one pool child)."""

    def __init__(self, env: Mapping[str, str], queue: str) -> None:
        self.output: list[str] = []
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
             "--pool", "prefork", "--concurrency", "1",
             "--queues", ",".join(worker_queues(queue)),
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel", "INFO"],
            cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(READY_TIMEOUT):
            self.kill()
            raise AssertionError("worker did not start:\n" + "".join(self.output[-40:]))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if " ready." in line:
                self._ready.set()

    def kill(self) -> None:
        """SIGKILL the whole group: no clean shutdown, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close()

    def _close(self) -> None:
        self._reader.join(10)
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.stdout.close()


def worker_env(database_url: str, broker: Broker, admin_base_url: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("REDIS_", "CELERY_", "DATABASE_", "SHOPIFY_"))}
    env.update(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=broker.url,
        CELERY_QUEUE=broker.queue,
        TASK_LEASE_SECONDS=str(LEASE_SECONDS),
        SHOPIFY_ADMIN_BASE_URL=admin_base_url,
        RATELIMIT_ENABLED="0",
        PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="loyalty-test-metrics-"),
    )
    return env


@contextmanager
def standin_server() -> Iterator[tuple[StandIn, str]]:
    """The Admin API stand-in on a free port; yields it and SHOPIFY_ADMIN_BASE_URL."""
    standin = StandIn()
    server = make_server("127.0.0.1", 0, standin, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield standin, f"http://127.0.0.1:{server.server_port}/{{shop}}"
    finally:
        standin.gate.set()
        server.shutdown()


@contextmanager
def relay_beat(dispatcher: OutboxDispatcher) -> Iterator[None]:
    """What beat does for recovery: run the relay every RELAY_INTERVAL seconds."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(RELAY_INTERVAL):
            dispatcher.relay(utcnow())

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll until ``condition()``; the seconds it took. Fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout} s"
        time.sleep(0.05)
    return time.monotonic() - start
