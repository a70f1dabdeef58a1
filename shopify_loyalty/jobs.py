"""Celery, attached to the Flask app (Flask's *Background Tasks with Celery* pattern).

Without ``REDIS_URL`` tasks run eagerly, in-process, right after the commit that queued
them, so a first run needs no broker. With it, they go to the broker; if the broker is down
the outbox row stays unsent and the relay sends it later, and the request still succeeds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask

from shopify_loyalty.config import Settings
from shopify_loyalty.db import Database, QueuedTask
from shopify_loyalty.services import outbox
from shopify_loyalty.services.rewards.stale import take_stale_rewards

log = logging.getLogger(__name__)

TASK_MODULES = ("workers.tasks",)
# The after-commit send normally happens within milliseconds of the commit; a row still unsent
# after this long was missed (a crash or a broker outage), not merely in flight.
RELAY_MIN_AGE = timedelta(seconds=5)
# Bounded batches keep each relay run short; the next run, seconds later, takes the rest.
RELAY_BATCH = 500
STALE_REWARDS_BATCH = 100


def celery_init_app(app: Flask, settings: Settings) -> Celery:
    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=settings.redis_url or "memory://localhost/",
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
        beat_schedule=_beat_schedule(),
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _beat_schedule() -> dict[str, Any]:
    # The schedule lives with the worker entry points; only its hookup is here.
    from workers.schedule import BEAT_SCHEDULE

    return dict(BEAT_SCHEDULE)


@dataclass(frozen=True)
class RelayReport:
    outbox_sent: int
    outbox_left: int
    rewards_resent: int


class OutboxDispatcher:
    """Sends the tasks of a committed transaction, and marks their outbox rows sent."""

    def __init__(self, celery_app: Celery, db: Database) -> None:
        self.celery = celery_app
        self.db = db

    def __call__(self, queued: list[QueuedTask]) -> None:
        sent = [task.outbox_id for task in queued if self.send(task.task_name, task.args)]
        if not sent:
            return
        try:
            # One round trip, no unit of work: this runs after every redemption.
            self.db.execute_now(outbox.mark_sent_statement(sent))
        except Exception:
            # The tasks went out; the relay may send them again, and they are idempotent.
            log.exception("could not mark outbox rows %s sent", sent)

    def send(self, task_name: str, args: Sequence[Any]) -> bool:
        try:
            if self.celery.conf.task_always_eager:
                self.celery.tasks[task_name].apply_async(args=list(args))
            else:
                self.celery.send_task(task_name, args=list(args), retry=False)
            return True
        except Exception:
            log.warning("could not send %s%s; the outbox relay will", task_name, list(args),
                        exc_info=True)
            return False

    def relay(self, now: datetime) -> RelayReport:
        """Send the outbox rows the after-commit dispatch missed, then re-send stale rewards.

        The outbox rows stay locked until their batch is marked sent, so a relay that dies
        mid-batch leaves them for the next one (a task may then go twice; tasks are
        idempotent). Sending stops at the first failure: the broker is down, and the next run
        tries again.
        """
        sent: list[int] = []
        left = 0
        with self.db.unit_of_work() as session:
            rows = outbox.claim_unsent(session, now - RELAY_MIN_AGE, RELAY_BATCH)
            for row in rows:
                if not self.send(row.task_name, row.args):
                    break
                sent.append(row.id)
            left = len(rows) - len(sent)
            if sent:
                session.execute(outbox.mark_sent_statement(sent))
        if left:
            return RelayReport(len(sent), left, 0)
        # Taken and committed before sending: in the in-process mode the task runs inside
        # send() and must not wait for our lock on its reward. A send lost to a crash here
        # only means the reward is taken again once it is stale again.
        with self.db.unit_of_work() as session:
            stale = take_stale_rewards(session, now, STALE_REWARDS_BATCH)
        resent = 0
        for reward_id in stale:
            if not self.send(outbox.FULFIL_REWARD, [reward_id]):
                break
            resent += 1
        return RelayReport(len(sent), 0, resent)
