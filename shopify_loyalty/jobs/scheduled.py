"""The scheduled jobs: what beat runs, in bounded batches, each batch one unit of work.

Beat starts a job (``loyalty.run_job``), which writes the job's first batch to the outbox.
A batch runs in one transaction that holds its effects and, while there is work left, the
outbox row of the next batch: a worker killed mid-batch rolls the batch back, and its row,
still open, is sent again by the relay within the recovery bound. Batches take their rows
with ``FOR UPDATE SKIP LOCKED`` and are idempotent, so two beats (two chains of batches at
once) never do anything twice: they share the work.

``flask --app app jobs run NAME [--now ISO]`` runs a job's batches one after the other in
the calling process, as of ``--now``, and reports what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.schedules import crontab
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.errors import NotFoundError
from shopify_loyalty.services import outbox
from shopify_loyalty.services.customers import birthdays, tier_review
from shopify_loyalty.services.points import expiry as points_expiry
from shopify_loyalty.services.points import pending
from shopify_loyalty.services.rewards import expiry as rewards_expiry
from shopify_loyalty.services.rewards import reminders

JOB_BATCH = "loyalty.job_batch"
# A job whose batches never run dry is a bug; stop a synchronous run instead of looping.
MAX_BATCHES_PER_RUN = 100_000

# One bounded batch: handle up to ``limit`` rows as of ``now``; return how many it handled.
# Rows it handled no longer match (that is how a job ends), rows another batch holds are
# skipped.
Batch = Callable[[Session, datetime, int], int]


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    description: str
    # Celery beat's schedule: seconds between runs, or a crontab.
    schedule: float | crontab
    batch: Batch
    batch_size: int


@dataclass(frozen=True)
class JobReport:
    job: str
    as_of: datetime
    batches: int
    handled: int

    def to_dict(self) -> dict[str, Any]:
        return {"job": self.job, "asOf": self.as_of.isoformat(), "batches": self.batches,
                "handled": self.handled}


JOBS: dict[str, ScheduledJob] = {
    job.name: job
    for job in (
        ScheduledJob(
            "approve-pending",
            "Approve pending points whose approval delay has passed.",
            # Delays are counted in days: a minute late is nobody's loss, and a frequent run
            # keeps each batch small.
            60.0, pending.approve_batch, pending.APPROVAL_BATCH,
        ),
        ScheduledJob(
            "birthdays",
            "Pay the BIRTHDAY rule to customers whose birthday it is in their shop's time zone.",
            # Hourly, not daily: each shop's day starts at its own midnight, so every shop is
            # paid within the hour its day begins (a daily run would pay shops west of UTC
            # in their afternoon). A run after the day's payments finds nothing to do.
            crontab(minute=5), birthdays.birthday_batch, birthdays.BIRTHDAY_BATCH,
        ),
        ScheduledJob(
            "tiers",
            "Re-evaluate the VIP tiers that expired (or were deactivated) by progress.",
            # Daily, just after midnight UTC: CALENDAR_YEAR tiers expire at 00:00 on 1 January.
            crontab(hour=0, minute=10), tier_review.review_batch, tier_review.REVIEW_BATCH,
        ),
        # Daily, at a quiet hour: deadlines are exact instants, and points stay spendable
        # until the first run after their deadline.
        ScheduledJob(
            "points-expiry",
            "Expire points past their deadline (the shop's points expiry policy).",
            crontab(hour=2, minute=0), points_expiry.expire_batch, points_expiry.EXPIRY_BATCH,
        ),
        ScheduledJob(
            "rewards-expiry",
            "Expire unused rewards past their expiry date; deactivate their codes.",
            crontab(hour=2, minute=15), rewards_expiry.expire_batch,
            rewards_expiry.EXPIRY_BATCH,
        ),
        # Reminders are emails (through the merchant's tools): sent at a waking hour across
        # the Americas and Europe rather than at night.
        ScheduledJob(
            "expiry-reminders",
            "Remind customers of points and rewards about to expire (points.expiring, "
            "reward.expiring).",
            crontab(hour=14, minute=0), reminders.remind_batch, reminders.REMINDER_BATCH,
        ),
    )
}


def job_named(name: str) -> ScheduledJob:
    """Raises NotFoundError."""
    job = JOBS.get(name)
    if job is None:
        raise NotFoundError(f"No job {name!r}; jobs: {', '.join(sorted(JOBS))}.")
    return job


def start(db: Database, name: str, as_of: datetime) -> None:
    """Queue the job's first batch (beat's entry point)."""
    job_named(name)
    with db.unit_of_work() as session:
        outbox.enqueue(session, None, JOB_BATCH, name, as_of.isoformat())


def run_batch(db: Database, name: str, as_of: datetime) -> int:
    """One batch in one transaction; while it found work, the next batch is queued with it."""
    job = job_named(name)
    with db.unit_of_work() as session:
        handled = job.batch(session, as_of, job.batch_size)
        if handled:
            outbox.enqueue(session, None, JOB_BATCH, name, as_of.isoformat())
    return handled


def run_now(db: Database, name: str, as_of: datetime) -> JobReport:
    """Every batch of the job, one after another, in this process. Raises NotFoundError."""
    job = job_named(name)
    batches = handled = 0
    while batches < MAX_BATCHES_PER_RUN:
        with db.unit_of_work() as session:
            found = job.batch(session, as_of, job.batch_size)
        batches += 1
        handled += found
        if not found:
            break
    return JobReport(name, as_of, batches, handled)
