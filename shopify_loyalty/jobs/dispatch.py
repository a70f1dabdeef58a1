"""Sending outbox rows to the broker: right after their commit, and again when overdue."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Celery

from shopify_loyalty.db import Database, QueuedTask, utcnow
from shopify_loyalty.jobs.batching import Batcher, batch_args
from shopify_loyalty.jobs.lanes import queue_for
from shopify_loyalty.jobs.setup import OUTBOX_ID
from shopify_loyalty.services import outbox
from shopify_loyalty.services.orders.webhooks import PROCESS_WEBHOOK, PROCESS_WEBHOOKS

log = logging.getLogger(__name__)

# Bounded batches keep each relay run short; the next run, seconds later, takes the rest.
RELAY_BATCH = 500
# Tasks sent after their commit in batches (jobs.batching), and the task each batch runs as.
# Only webhook processing: local work, many a second. Shopify work (fulfilment) is not, so
# that a shop's rewards run side by side in the worker's processes, each in its lane.
BATCHED = {PROCESS_WEBHOOK: PROCESS_WEBHOOKS}


@dataclass(frozen=True)
class RelayReport:
    sent: int
    left: int


class OutboxDispatcher:
    """Sends the tasks of a committed transaction, and relays the overdue ones."""

    def __init__(self, celery_app: Celery, db: Database, lease: timedelta) -> None:
        self.celery = celery_app
        self.db = db
        self.lease = lease
        # In-process (eager) tasks run at once, in the committing thread, as ever.
        self.batcher = None if celery_app.conf.task_always_eager else Batcher(self._send_batch)

    def __call__(self, queued: list[QueuedTask]) -> None:
        sent: list[int] = []
        unsent: list[int] = []
        for task in queued:
            if task.leased and task.task_name in BATCHED and self.batcher is not None:
                self.batcher.add(task)
            elif self.send(task.task_name, task.args, task.outbox_id, task.shop_id):
                if not task.leased:
                    sent.append(task.outbox_id)
            elif task.leased:
                unsent.append(task.outbox_id)
        try:
            # Rows written leased (services.outbox.enqueue) need a statement only when their
            # send failed: the common case after a redemption or a webhook costs none.
            if sent:
                self.db.execute_now(outbox.mark_sent_statement(sent, utcnow(),
                                                                 self._lease()))
            if unsent:
                self.db.execute_now(outbox.unsent_statement(unsent, utcnow()))
        except Exception:
            # Sent rows stay due soon, so the relay may send them again (tasks are
            # idempotent, and a completed row is not run twice); unsent ones are sent by the
            # relay when their lease is over.
            log.exception("could not mark outbox rows %s sent, %s unsent", sent, unsent)

    def _lease(self) -> timedelta | None:
        # In-process, a task has run by the time it is marked sent: its row's deadline is
        # its own doing (a RunLater's time must not become a lease from now).
        return None if self.celery.conf.task_always_eager else self.lease

    def flush(self) -> None:
        """Send the batches waiting in this process now (tests; a batch leaves on its own
        within ``jobs.batching.MAX_WAIT``)."""
        if self.batcher is not None:
            self.batcher.flush()

    def send(self, task_name: str, args: Sequence[Any], outbox_id: int,
             shop_id: int | None = None) -> bool:
        return self._publish(task_name, list(args), {OUTBOX_ID: outbox_id}, shop_id)

    def _send_batch(self, task_name: str, tasks: list[QueuedTask]) -> None:
        """One message of the batch task for leased rows of ``task_name``; if it cannot be
        published, the rows are due for the relay at once."""
        if self._publish(BATCHED[task_name], [batch_args(tasks)], {}, None):
            return
        try:
            self.db.execute_now(outbox.unsent_statement([t.outbox_id for t in tasks], utcnow()))
        except Exception:  # due when their lease ends, as any lost task
            log.exception("could not mark a batch of %s unsent", task_name)

    def _publish(self, task_name: str, args: list[Any], kwargs: dict[str, Any],
                 shop_id: int | None) -> bool:
        try:
            if self.celery.conf.task_always_eager:
                self.celery.tasks[task_name].apply_async(args=args, kwargs=kwargs)
            else:
                # The reprs given: Celery's own (saferepr, for its logs) cost a tenth of
                # the publish, and these arguments are a few ids.
                queue = queue_for(self.celery.conf.task_default_queue, task_name, shop_id)
                self.celery.send_task(task_name, args=args, kwargs=kwargs, retry=False,
                                      queue=queue, argsrepr=repr(args),
                                      kwargsrepr=repr(kwargs))
            return True
        except Exception:
            log.warning("could not send %s%s; the outbox relay will", task_name, args,
                        exc_info=True)
            return False

    def relay(self, now: datetime) -> RelayReport:
        """Send again the open rows whose deadline has passed (missed or lost tasks).

        The rows are reserved (a new deadline) and committed before sending, so a relay that
        dies mid-batch only delays them by a lease, and an in-process task can claim its own
        row. Sending stops at the first failure: the broker is down; the rows not sent are
        due again at once, for the next run.
        """
        with self.db.unit_of_work() as session:
            due = outbox.take_due(session, now, RELAY_BATCH, self.lease)
        sent = 0
        for row in due:
            if not self.send(row.task_name, row.args, row.id, row.shop_id):
                break
            sent += 1
        if sent:
            self.db.execute_now(outbox.mark_sent_statement([r.id for r in due[:sent]], now,
                                                           self._lease()))
        if sent < len(due):
            self.db.execute_now(outbox.postpone_statement([r.id for r in due[sent:]], now))
        return RelayReport(sent, len(due) - sent)
