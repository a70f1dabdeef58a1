"""Every request: its request id (``X-Request-Id`` in and out), its latency in the metrics,
and ``GET /metrics`` for Prometheus."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import Blueprint, Flask, Response, g, request
from sqlalchemy import func, select

from shopify_loyalty.api.context import database, settings
from shopify_loyalty.db import utcnow
from shopify_loyalty.errors import LoyaltyError
from shopify_loyalty.jobs.lanes import worker_queues
from shopify_loyalty.models import OutboxMessage
from shopify_loyalty.telemetry import metrics
from shopify_loyalty.telemetry.context import accepted_or_new, request_id

blp = Blueprint("metrics", __name__)
REQUEST_ID_HEADER = "X-Request-Id"


def install_request_hooks(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.teardown_request(_forget)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id_token = request_id.set(accepted_or_new(request.headers.get(REQUEST_ID_HEADER)))


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id.get() or ""
    started = g.get("request_started")
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


def _forget(_exc: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id.reset(token)


def counted_redemption(channel: str, run: Callable[[], Response]) -> Response:
    """Run a redemption and count its outcome: ok, replayed, or the refusal's code."""
    try:
        response = run()
    except LoyaltyError as exc:
        metrics.REDEMPTIONS.labels(channel, exc.code).inc()
        raise
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    metrics.REDEMPTIONS.labels(channel, "replayed" if replayed else "ok").inc()
    return response


@blp.get("/metrics")
def scrape() -> Response:
    """Prometheus text format: every process's counters, and the backlog as of now."""
    body, content_type = metrics.exposition(
        metrics.BacklogCollector(_outbox_backlog, _queue_depths, utcnow))
    return Response(body, content_type=content_type)


def _outbox_backlog() -> tuple[int, datetime | None]:
    with database().unit_of_work() as session:
        row = session.execute(
            select(func.count(), func.min(OutboxMessage.due_at))
            .where(OutboxMessage.completed_at.is_(None), OutboxMessage.due_at <= utcnow())
        ).one()
        return int(row[0]), row[1]


def _queue_depths() -> Iterable[tuple[str, int]]:
    """The waiting messages of our queues (the main one and the shops' lanes, jobs.lanes),
    from the broker (none in the in-process mode)."""
    from flask import current_app

    config = settings()
    if config.tasks_eager:
        return []
    celery = current_app.extensions["celery"]
    try:
        depths = []
        with celery.connection_for_read() as connection:
            for queue in worker_queues(config.celery_queue):
                declared = connection.default_channel.queue_declare(queue=queue, passive=True)
                depths.append((queue, int(declared.message_count)))
        return depths
    except Exception:
        return []  # the broker's health is /healthz's business; the scrape still answers
