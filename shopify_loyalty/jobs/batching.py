"""After-commit sends of one kind, gathered for a few milliseconds and sent as one message.

Each webhook acknowledgement commits its event and its outbox row, and then sent one Celery
message for it: kombu builds a message, its headers and properties for every publish, about
0.55 ms of the web worker's CPU, a quarter of the acknowledgement's, and the worker paid
its own overhead (receiving, acknowledging, the prefork pipe) once per event. Under load,
deliveries come hundreds a second, so a process lets the rows of a batched task wait up to
``MAX_WAIT`` and sends up to ``MAX_ROWS`` of them as one message of the batch task, whose run
takes them one by one (jobs.setup.run_batch).

Nothing about recovery changes: each row is still its own outbox row, written leased (as
sent, due when the lease ends) in its delivery's own statement. A batch that cannot be
published makes its rows due at once for the relay; a process that dies with rows waiting
here leaves them to the relay when their lease is over, as any task lost after its send.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from shopify_loyalty.db import QueuedTask

log = logging.getLogger(__name__)

# A delivery waits at most this long in its process before its batch leaves: far below
# anything Shopify or a merchant notices, long enough to gather many at load.
MAX_WAIT = 0.01
# A batch's rows run one after another in one worker process: this many keep a batch's run
# well under a second, so the worker's other processes share a burst.
MAX_ROWS = 50

SendBatch = Callable[[str, list[QueuedTask]], None]


class Batcher:
    """Gathers queued tasks by name and hands them, ``max_rows`` at most, to ``send``.

    One thread a process sends; it is started on first use, and again in a forked child
    (gunicorn's workers), whose copy of the parent's thread does not run.
    """

    def __init__(self, send: SendBatch, max_wait: float = MAX_WAIT,
                 max_rows: int = MAX_ROWS) -> None:
        self._send = send
        self.max_wait = max_wait
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._waiting: dict[str, list[QueuedTask]] = {}
        self._wake = threading.Event()
        self._pid: int | None = None

    def add(self, task: QueuedTask) -> None:
        with self._lock:
            if self._pid != os.getpid():
                self._start()
            self._waiting.setdefault(task.task_name, []).append(task)
        self._wake.set()

    def flush(self) -> None:
        """Send everything waiting now (the sending thread's work; at exit; in tests)."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for task_name, tasks in waiting.items():
            for start in range(0, len(tasks), self.max_rows):
                try:
                    self._send(task_name, tasks[start:start + self.max_rows])
                except Exception:  # the rows are leased: the relay sends them after it
                    log.exception("could not send a batch of %s", task_name)

    def _start(self) -> None:
        if self._pid is None:
            atexit.register(self.flush)
        self._pid = os.getpid()
        self._waiting = {}
        self._wake = threading.Event()
        threading.Thread(target=self._run, args=(self._wake,), name="outbox-batcher",
                         daemon=True).start()

    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait()
            # Let the batch gather; what arrives while it is sent waits for the next one.
            time.sleep(self.max_wait)
            wake.clear()
            self.flush()


def batch_args(tasks: list[QueuedTask]) -> list[list[Any]]:
    """The batch task's one argument: each row's outbox id followed by its task's arguments."""
    return [[task.outbox_id, *task.args] for task in tasks]
