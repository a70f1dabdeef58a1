"""Celery beat's schedule (``celery -A workers.celery_app beat``)."""

from __future__ import annotations

from typing import Any

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Approval delays are counted in days: a minute late is nobody's loss, and a frequent
    # run keeps each batch small.
    "approve-pending-points": {
        "task": "loyalty.approve_pending_points",
        "schedule": 60.0,
    },
}
