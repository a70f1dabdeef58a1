"""Prometheus metrics (prometheus_client), counted in every process.

Under gunicorn and Celery prefork each process counts for itself; with
``PROMETHEUS_MULTIPROC_DIR`` set (before the first import of prometheus_client, which
gunicorn.conf.py and the worker's environment take care of) the processes share files in that
folder and ``GET /metrics`` adds them up. Without it (a first run, the tests) one process's
registry is served.

Labels stay bounded: routes are URL rules, not paths; topics, outcomes and task names are
fixed sets; shops are the installed shops; no customer id ever becomes a label.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds; from a cache hit to a Shopify round trip.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Histogram(
    "loyalty_http_request_duration_seconds", "HTTP requests by route, method and status.",
    ["route", "method", "status"], buckets=LATENCY_BUCKETS)
REDEMPTIONS = Counter(
    "loyalty_redemptions_total", "Redemptions by outcome (ok or the error code).",
    ["channel", "outcome"])
WEBHOOKS_RECEIVED = Counter(
    "loyalty_webhooks_received_total", "Shopify webhook deliveries received, by topic and result.",
    ["topic", "result"])
WEBHOOKS_PROCESSED = Counter(
    "loyalty_webhooks_processed_total", "Webhook events processed, by topic and final status.",
    ["topic", "status"])
WEBHOOK_LAG = Histogram(
    "loyalty_webhook_processing_lag_seconds", "From a webhook's receipt to its processing.",
    buckets=LAG_BUCKETS)
FULFILMENTS = Counter(
    "loyalty_fulfilment_outcomes_total", "Reward fulfilment runs by outcome.", ["outcome"])
TASK_RUNS = Counter(
    "loyalty_task_runs_total", "Outbox task runs by task and result.", ["task", "result"])
SHOPIFY_THROTTLES = Counter(
    "loyalty_shopify_throttles_total", "Admin API calls Shopify (or our bucket) held back.",
    ["shop"])
SHOPIFY_BUCKET = Gauge(
    "loyalty_shopify_bucket_available", "Cost points left in a shop's Admin API bucket.",
    ["shop"], multiprocess_mode="mostrecent")
EVENT_DELIVERY_FAILURES = Counter(
    "loyalty_event_delivery_failures_total", "Failed event delivery attempts, by reason.",
    ["reason"])
EVENT_DELIVERIES = Counter(
    "loyalty_event_deliveries_total",
    "Event delivery runs by outcome (DELIVERED, RETRY, FAILED, BUSY: the endpoint had its "
    "bound of attempts in flight).", ["outcome"])
EVENT_DELIVERY_SECONDS = Histogram(
    "loyalty_event_delivery_attempt_seconds", "One HTTP attempt to an endpoint, by result.",
    ["result"], buckets=LATENCY_BUCKETS)
EVENT_DELIVERY_LAG = Histogram(
    "loyalty_event_delivery_lag_seconds", "From an event's commit to its delivery (2xx).",
    buckets=LAG_BUCKETS)
PROCESS = Gauge("loyalty_process_up", "One per live process that counts.", ["pid"],
                multiprocess_mode="liveall")

KNOWN_TOPICS = frozenset({
    "orders/create", "orders/updated", "orders/paid", "orders/fulfilled", "orders/cancelled",
    "refunds/create", "customers/create", "customers/update", "app/uninstalled",
    "customers/data_request", "customers/redact", "shop/redact",
    "customers_email_marketing_consent/update", "customers_marketing_consent/update",
    "customer.tags_added", "customer.tags_removed",
})


def topic_label(topic: str) -> str:
    return topic if topic in KNOWN_TOPICS else "other"


def mark_process_up() -> None:
    PROCESS.labels(pid=str(os.getpid())).set(1)


class BacklogCollector(Collector):
    """Gauges read at scrape time: the outbox backlog and the broker queues' depth."""

    def __init__(self, outbox_backlog: Callable[[], tuple[int, datetime | None]],
                 queue_depths: Callable[[], Iterable[tuple[str, int]]],
                 now: Callable[[], datetime]) -> None:
        self._backlog = outbox_backlog
        self._depths = queue_depths
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        overdue, oldest = self._backlog()
        yield GaugeMetricFamily("loyalty_outbox_overdue", "Open outbox rows past their deadline.",
                                value=overdue)
        age = (self._now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily("loyalty_outbox_oldest_overdue_seconds",
                                "How long the most overdue open outbox row has waited.",
                                value=max(age, 0.0))
        depth = GaugeMetricFamily("loyalty_celery_queue_depth", "Messages waiting in a queue.",
                                  labels=["queue"])
        for queue, count in self._depths():
            depth.add_metric([queue], count)
        yield depth


def exposition(extra: Collector | None) -> tuple[bytes, str]:
    """The text format of every process's metrics (one registry without multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry()
        registry.register(_Everything())
    if extra is not None:
        registry.register(extra)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Everything(Collector):
    """The process's default registry, served beside scrape-time collectors."""

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        yield from REGISTRY.collect()


def process_dead(pid: int) -> None:
    """Called when a gunicorn or Celery child exits: its live gauges stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
