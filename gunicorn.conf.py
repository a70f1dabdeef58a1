"""gunicorn's settings for the app (read from the working directory; flags override them).

    gunicorn app:app

Metrics: every worker process counts its own, in prometheus_client's multiprocess mode, in
PROMETHEUS_MULTIPROC_DIR (set here before any worker imports prometheus_client; give the Celery
worker on the same host the same folder, and empty it when the host boots). GET /metrics on
any worker then serves the sum of all of them.
"""

import os
import tempfile

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Threads share a worker's connection pool and its warm caches; the count follows the cores.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = 8

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join(tempfile.gettempdir(), "shopify-loyalty-metrics"))
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    from shopify_loyalty.telemetry.metrics import process_dead

    process_dead(worker.pid)  # type: ignore[attr-defined]
