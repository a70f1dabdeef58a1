"""The chaos run's processes: its own Redis, the app under gunicorn, two Celery workers, beat,
and the Shopify stand-in (served from the driver's process so that its state can be read).

Every process is started in a session of its own and stopped by its recorded pid, never by
name: other runs share the machine. Each process's database connections carry an
``application_name`` of ``chaos-<role>``, so that the run can find a worker mid-task and
terminate only its own backends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text
from werkzeug.serving import make_server

from bench.shopify_standin import Faults, StandIn

ROOT = Path(__file__).resolve().parents[1]
SECRET = "chaos-secret-0123456789abcdef0123456789"
API_KEY = "chaos-api-key"
START_TIMEOUT = 60.0
# The faults the stand-in injects while the run drives traffic, per mutation. A hang outlasts
# the Admin client's read timeout (15 s), so it is a timeout as the worker sees it.
RUN_FAULTS = Faults(error=0.06, lost=0.04, throttled=0.06, hang=0.015, hang_seconds=16.0)


@dataclass
class Ports:
    app: int
    redis: int
    standin: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(app=base, redis=base + 79, standin=base + 65)

    @classmethod
    def free(cls, first: int = 21000, last: int = 29000, step: int = 100) -> Ports:
        """The first base whose ports (and the event endpoint's) nobody listens on."""
        for base in range(first, last, step):
            ports = cls.from_base(base)
            if all(_free(port) for port in (ports.app, ports.redis, ports.standin,
                                            ports.standin + 1)):
                return ports
        raise RuntimeError("no free ports for the chaos run")


@dataclass
class Managed:
    """One process (group) of the stack, restartable."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: Path
    ready: Callable[[], bool]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    # Held while the run stops or starts it on purpose; the supervisor leaves it alone then.
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Exits nobody asked for (the supervisor started it again, as systemd would).
    crashes: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.2)

    def signal_group(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signum)

    def stop(self, signum: int = signal.SIGTERM, wait: float = 30.0) -> None:
        if self.process is None:
            return
        self.signal_group(signum)
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait(10)

    def children(self) -> list[int]:
        """The pids of the main process's children (a prefork worker's pool)."""
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except OSError:
            return False
    return check


def _log_says(log: Path, words: str, since: Callable[[], int]) -> Callable[[], bool]:
    def check() -> bool:
        try:
            with log.open("rb") as file:
                file.seek(since())
                return words.encode() in file.read()
        except OSError:
            return False
    return check


@dataclass
class Stack:
    database_url: str
    ports: Ports
    lease_seconds: int
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="chaos-run-")))
    processes: dict[str, Managed] = field(default_factory=dict)
    standin: StandIn = field(default_factory=StandIn)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.ports.redis}/0"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.app}"

    def env(self, role: str) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("REDIS_", "CELERY_", "DATABASE_", "SHOPIFY_"))}
        separator = "&" if "?" in self.database_url else "?"
        env.update(
            DATABASE_URL=f"{self.database_url}{separator}application_name=chaos-{role}",
            REDIS_URL=self.redis_url,
            TASK_LEASE_SECONDS=str(self.lease_seconds),
            SHOPIFY_ADMIN_BASE_URL=f"http://127.0.0.1:{self.ports.standin}/{{shop}}",
            SHOPIFY_API_KEY=API_KEY, SHOPIFY_API_SECRET=SECRET,
            RATELIMIT_ENABLED="0", LOG_FORMAT="json", EVENT_ENDPOINTS_ALLOW_PRIVATE="1",
            PROMETHEUS_MULTIPROC_DIR=str(self.run_dir / "metrics"),
            PYTHONPATH=str(ROOT),
        )
        return env

    def _add(self, name: str, argv: list[str], ready: Callable[[Managed], Callable[[], bool]],
             role: str) -> None:
        log = self.run_dir / f"{name}.log"
        log.touch()
        managed = Managed(name, argv, self.env(role), log, lambda: False)
        managed.ready = ready(managed)
        self.processes[name] = managed

    def define(self) -> None:
        (self.run_dir / "metrics").mkdir(exist_ok=True)
        python = sys.executable
        self._add("redis", ["redis-server", "--port", str(self.ports.redis), "--bind",
                            "127.0.0.1", "--save", "", "--appendonly", "no"],
                  lambda m: _redis_ping(self.ports.redis), "redis")
        self._add("gunicorn", [python, "-m", "gunicorn", "app:app", "--workers", "2",
                               "--bind", f"127.0.0.1:{self.ports.app}", "--log-level",
                               "warning", "--graceful-timeout", "10"],
                  lambda m: _http_ok(f"{self.app_url}/healthz"), "web")
        for n in (1, 2):
            self._add(f"worker{n}", [python, "-m", "celery", "-A", "workers.celery_app",
                                     "worker", "--pool", "prefork", "--concurrency", "2",
                                     "-n", f"chaos{n}@%h", "--without-gossip",
                                     "--without-mingle", "--without-heartbeat",
                                     "--loglevel", "INFO"],
                      lambda m: _log_says(m.log, " ready.", _offset(m)), f"worker{n}")
        # Deliveries to the merchant's endpoints have their own queue and worker, as in
        # production (README, Events out): threads, since they wait on other servers.
        self._add("events-worker", [python, "-m", "celery", "-A", "workers.celery_app",
                                    "worker", "--queues", "events", "--pool", "threads",
                                    "--concurrency", "8", "-n", "chaosevents@%h",
                                    "--without-gossip", "--without-mingle",
                                    "--without-heartbeat", "--loglevel", "INFO"],
                  lambda m: _log_says(m.log, " ready.", _offset(m)), "events-worker")
        self._add("beat", [python, "-m", "celery", "-A", "workers.celery_app", "beat",
                           "-s", str(self.run_dir / "beat-schedule"), "--loglevel", "INFO"],
                  lambda m: _log_says(m.log, "beat: Starting", _offset(m)), "beat")

    def restart(self, name: str, signum: int) -> None:
        managed = self.processes[name]
        with managed.lock:
            managed.stop(signum)
            if name == "redis":
                time.sleep(1.0)  # down for a moment: clients see refused connections
            managed.start()

    def supervise(self, stop: threading.Event) -> None:
        """Start again any process that exited by itself (a deployment's process manager)."""
        while not stop.wait(1.0):
            for managed in self.processes.values():
                if not managed.lock.acquire(blocking=False):
                    continue
                try:
                    if managed.process is not None and managed.process.poll() is not None:
                        managed.crashes += 1
                        managed.start()
                finally:
                    managed.lock.release()

    @contextmanager
    def running(self) -> Iterator[Stack]:
        self.define()
        server = make_server("127.0.0.1", self.ports.standin, self.standin, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        stop = threading.Event()
        supervisor = threading.Thread(target=self.supervise, args=(stop,), daemon=True)
        try:
            for name in ("redis", "gunicorn", "worker1", "worker2", "events-worker", "beat"):
                self.processes[name].start()
            supervisor.start()
            yield self
        finally:
            stop.set()
            if supervisor.is_alive():
                supervisor.join()
            for name in ("beat", "worker1", "worker2", "events-worker", "gunicorn", "redis"):
                if name in self.processes:
                    self.processes[name].stop()
            self.standin.faults = Faults()
            server.shutdown()


def _offset(managed: Managed) -> Callable[[], int]:
    """Where the log stood when this start began: readiness is looked for after it."""
    mark = {"starts": -1, "size": 0}

    def offset() -> int:
        if mark["starts"] != managed.starts:
            mark["starts"], mark["size"] = managed.starts, managed.log.stat().st_size
        return mark["size"]
    return offset


def _redis_ping(port: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            answer = subprocess.run(["redis-cli", "-p", str(port), "ping"],
                                    capture_output=True, timeout=2, text=True)
        except subprocess.TimeoutExpired:
            return False
        return answer.stdout.strip() == "PONG"
    return check


def busy_backends(engine: Engine, role: str) -> int:
    """The role's connections inside a transaction now (a worker mid-task)."""
    with engine.connect() as connection:
        return int(connection.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = :name AND state IN ('active', 'idle in transaction')"),
            {"name": f"chaos-{role}"}) or 0)


def terminate_app_backends(engine: Engine) -> int:
    """pg_terminate_backend on this run's app, worker and beat connections, and no other."""
    with engine.connect() as connection:
        killed = connection.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE 'chaos-%' "
            "AND pid <> pg_backend_pid()")).all()
        connection.commit()
    return sum(1 for (ok,) in killed if ok)
