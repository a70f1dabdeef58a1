"""Celery attached to Flask; every task runs in the app context, outbox tasks to their end.

Without a broker (no ``CELERY_BROKER_URL`` nor ``REDIS_URL``) tasks run eagerly, in-process,
right after the commit that queued them, so a first run needs nothing else. With one, they go
to the broker; if it is down the outbox row stays due and the relay sends it later.

Broker choice and the visibility timeout: recovery of lost work never waits on the broker.
Each unit of work is an outbox row with a deadline (services.outbox), and the relay re-sends
what is overdue. Redis's ``visibility_timeout`` (kombu redelivers an unacknowledged message
after it) is therefore kept long, an hour: longer than any countdown a task sets itself
(at most 10 minutes), so that Redis never hands a task that is still waiting for its
countdown to a second worker. RabbitMQ returns an unacknowledged message to the queue as soon
as its consumer's connection dies, and keeps durable queues on disk.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, Task
from celery.exceptions import Retry
from flask import Flask
from kombu.entity import Exchange, Queue

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.jobs.lanes import worker_queues
from shopify_loyalty.jobs.redis_broker import TRANSPORT as REDIS_TRANSPORT
from shopify_loyalty.services import outbox
from shopify_loyalty.telemetry import metrics
from shopify_loyalty.telemetry.context import request_id

log = logging.getLogger(__name__)

TASK_MODULES = ("workers.tasks",)
# The kwarg an outbox row's id travels in; the task's own code never sees it.
OUTBOX_ID = "outbox_id"
# See the module docstring: above every countdown a task sets (Celery holds ETA tasks
# unacknowledged), below nothing that matters, since the relay does the recovering.
REDIS_VISIBILITY_TIMEOUT_SECONDS = 3600


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    lease = timedelta(seconds=settings.task_lease_seconds)

    class FlaskTask(Task):  # type: ignore[misc]
        # The outbox id travels as an extra kwarg that __call__ takes off before the task
        # runs; Celery's check of the arguments against the signature would refuse it.
        typing = False

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            outbox_id = kwargs.pop(OUTBOX_ID, None)
            with app.app_context():
                if outbox_id is None:
                    return self.run(*args, **kwargs)
                db: Database = app.extensions["loyalty_db"]
                return run_unit_of_work(self, db, int(outbox_id), lease, args, kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    broker = settings.broker_url or "memory://localhost/"
    celery_app.conf.update(
        # Redis through our channel that keeps its client (jobs.redis_broker); any other
        # broker (RabbitMQ's amqp://, memory://) through the transport of its URL.
        broker_transport=REDIS_TRANSPORT if broker.startswith("redis://") else None,
        broker_url=broker,
        result_backend=None,
        task_ignore_result=True,
        task_always_eager=settings.tasks_eager,
        task_eager_propagates=False,
        task_default_queue=settings.celery_queue,
        # Deliveries to the merchant's endpoints wait on other people's servers: their own
        # queue and workers, so that they never hold up fulfilment (services.events).
        task_routes={"loyalty.deliver_event": {"queue": settings.events_queue}},
        # The main queue and the shops' lanes (jobs.lanes): a worker consumes them all.
        task_queues=[Queue(name, Exchange(name), routing_key=name)  # type: ignore[no-untyped-call]
                     for name in worker_queues(settings.celery_queue)],
        # A task is acknowledged after it ran, so a worker that dies mid-task leaves it to
        # another; tasks are idempotent, so running twice is safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A request must not hang on a dead broker: fail the publish fast, the relay retries.
        broker_connection_timeout=1,
        broker_transport_options={
            "socket_connect_timeout": 1,
            "socket_timeout": 2,
            "visibility_timeout": REDIS_VISIBILITY_TIMEOUT_SECONDS,
        },
        imports=TASK_MODULES,
        # Our JSON log handler (telemetry.logs) stays; Celery's records go through it.
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule=_beat_schedule(),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _beat_schedule() -> dict[str, Any]:
    # The schedule lives with the worker entry points; only its hookup is here.
    from workers.schedule import BEAT_SCHEDULE

    return dict(BEAT_SCHEDULE)


def run_unit_of_work(task: Task, db: Database, outbox_id: int, lease: timedelta,
                     args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run an outbox row's task, keeping its deadline right, and close the row at the end.

    A duplicate delivery of a completed row does nothing. A run that raises leaves the row
    open: the relay sends it again once its deadline passes (the lease from this start).
    """
    started = db.first_now(*outbox.start(outbox_id, utcnow(), lease))
    if started is None:
        _duplicate(task.name, outbox_id)
        return None
    runs, queued_by = started
    return _run(task.name, db, outbox_id, runs, queued_by, lease,
                lambda: task.run(*args, **kwargs))


def run_batch(db: Database, task_name: str, rows: Sequence[Sequence[Any]], lease: timedelta,
              work: Callable[..., Any]) -> None:
    """Run a batch's rows (jobs.batching: each an outbox id, then its task's arguments) one
    after another, each as ``run_unit_of_work`` runs its task, but all started in one
    statement. A row whose run fails is made due at once: the relay sends it as its own
    task, with that task's retries and failure records, and the batch goes on."""
    started = {row.id: row for row in db.all_now(*outbox.start_many(
        [row[0] for row in rows], utcnow(), lease))}
    for outbox_id, *args in rows:
        row = started.get(outbox_id)
        if row is None:
            _duplicate(task_name, outbox_id)
            continue
        try:
            _run(task_name, db, outbox_id, row.attempts, row.request_id, lease,
                 functools.partial(work, *args))
        except Exception:
            log.warning("%s (outbox %s) failed in a batch: it runs again on its own",
                        task_name, outbox_id, exc_info=True)
            db.execute_now(outbox.postpone_statement([outbox_id], utcnow()))


def _duplicate(task_name: str, outbox_id: int) -> None:
    log.info("%s (outbox %s) already completed: duplicate delivery ignored",
             task_name, outbox_id)
    metrics.TASK_RUNS.labels(task_name, "duplicate").inc()


def _run(task_name: str, db: Database, outbox_id: int, runs: int, queued_by: str | None,
         lease: timedelta, call: Callable[[], Any]) -> Any:
    """A started row's run, in the context of the request that queued it."""
    token = request_id.set(queued_by)
    running = outbox.Running(outbox_id)
    row = outbox.RUNNING.set(running)
    try:
        return _run_to_the_end(task_name, db, running, runs, lease, call)
    finally:
        outbox.RUNNING.reset(row)
        request_id.reset(token)


def _run_to_the_end(task_name: str, db: Database, running: outbox.Running, runs: int,
                    lease: timedelta, call: Callable[[], Any]) -> Any:
    outbox_id = running.outbox_id
    if runs > outbox.MAX_RUNS:
        log.error("%s (outbox %s) given up after %d runs", task_name, outbox_id, runs - 1)
        db.execute_now(*outbox.complete(outbox_id, utcnow(), abandoned=True))
        metrics.TASK_RUNS.labels(task_name, "abandoned").inc()
        return None
    try:
        result = call()
    except outbox.RunLater as later:
        log.info("%s (outbox %s): %s", task_name, outbox_id, later)
        db.execute_now(outbox.postpone_statement([outbox_id], later.at))
        metrics.TASK_RUNS.labels(task_name, "later").inc()
        return None
    except Retry as retry:
        db.execute_now(outbox.postpone_statement([outbox_id], _retry_at(retry) + lease))
        metrics.TASK_RUNS.labels(task_name, "retry").inc()
        raise
    except Exception:
        metrics.TASK_RUNS.labels(task_name, "error").inc()
        raise
    if not running.closed:  # else its work closed it (outbox.complete_with)
        db.execute_now(*outbox.complete(outbox_id, utcnow()))
    metrics.TASK_RUNS.labels(task_name, "done").inc()
    return result


def _retry_at(retry: Retry) -> datetime:
    when = retry.when
    if isinstance(when, datetime):
        return when
    return utcnow() + timedelta(seconds=float(when or 0))
