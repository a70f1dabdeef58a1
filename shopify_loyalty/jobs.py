"""Celery, attached to the Flask app (Flask's *Background Tasks with Celery* pattern).

Without ``REDIS_URL`` tasks run eagerly, in-process, right after the commit that queued
them, so a first run needs no broker. With it, they go to the broker; if the broker is down
the outbox row stays unsent and the relay sends it later, and the request still succeeds.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, QueuedTask
from shopify_loyalty.services import outbox

log = logging.getLogger(__name__)

TASK_MODULES = ("workers.tasks",)


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=settings.redis_url or "memory://",
        result_backend=None,
        task_ignore_result=True,
        task_always_eager=settings.tasks_eager,
        task_eager_propagates=False,
        # A task is acknowledged after it ran, so a worker that dies mid-task leaves it to
        # another; tasks are idempotent, so running twice is safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A request must not hang on a dead broker: fail the publish fast, the relay retries.
        broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 2},
        imports=TASK_MODULES,
        timezone="UTC",
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


class OutboxDispatcher:
    """Sends the tasks of a committed transaction, and marks their outbox rows sent."""

    def __init__(self, celery_app: Celery, db: Database) -> None:
        self.celery = celery_app
        self.db = db

    def __call__(self, queued: list[QueuedTask]) -> None:
        sent = [task.outbox_id for task in queued if self.send(task)]
        if not sent:
            return
        try:
            # One Core statement, no unit of work: this runs after every redemption.
            with self.db.sessions() as session, session.begin():
                session.execute(outbox.mark_sent_statement(sent))
        except Exception:
            # The tasks went out; the relay may send them again, and they are idempotent.
            log.exception("could not mark outbox rows %s sent", sent)

    def send(self, task: QueuedTask) -> bool:
        try:
            if self.celery.conf.task_always_eager:
                self.celery.tasks[task.task_name].apply_async(args=task.args)
            else:
                self.celery.send_task(task.task_name, args=task.args, retry=False)
            return True
        except Exception:
            log.warning("could not send %s%s; the outbox relay will", task.task_name, task.args,
                        exc_info=True)
            return False
