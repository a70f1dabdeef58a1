"""The worker's Celery app, built from the Flask factory so tasks run in its app context.

    celery -A workers.celery_app worker
    celery -A workers.celery_app beat
"""

import os
import tempfile
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown

# Before prometheus_client is first imported: the pool's processes count into the folder the
# app's GET /metrics reads on this host (see gunicorn.conf.py).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join(tempfile.gettempdir(), "shopify-loyalty-metrics"))
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from shopify_loyalty import create_app  # noqa: E402
from shopify_loyalty.telemetry.metrics import process_dead  # noqa: E402
from workers.schedule import BEAT_SCHEDULE  # noqa: E402

flask_app = create_app()
celery: Celery = flask_app.extensions["celery"]
celery.conf.beat_schedule = BEAT_SCHEDULE


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _process_shutdown(pid: int | None = None, **_: Any) -> None:
    process_dead(pid or os.getpid())
