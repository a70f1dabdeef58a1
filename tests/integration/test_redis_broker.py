"""The Redis transport that keeps one client per channel: every message still arrives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import redis
from flask import Flask

from shopify_loyalty.config import Settings
from shopify_loyalty.jobs import redis_broker

REDIS_URL = "redis://127.0.0.1:6379/8"


def test_publishes_through_one_client_and_every_message_arrives(
    make_app: Any, settings: Settings, redis_lock: None, monkeypatch: Any
) -> None:
    made: list[Any] = []
    used: list[Any] = []  # every client a publish went through (held: no id is reused)
    real = redis_broker.Channel._create_client
    real_acquire = redis_broker.Channel.conn_or_acquire

    def counted(channel: Any, asynchronous: bool = False) -> Any:
        client = real(channel, asynchronous)
        if not asynchronous:  # the channel's own consuming client is made once anyway
            made.append(client)
        return client

    @contextmanager
    def recorded(channel: Any, client: Any = None) -> Iterator[Any]:
        with real_acquire(channel, client) as acquired:
            used.append(acquired)
            yield acquired

    monkeypatch.setattr(redis_broker.Channel, "_create_client", counted)
    monkeypatch.setattr(redis_broker.Channel, "conn_or_acquire", recorded)
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    app: Flask = make_app(replace(settings, redis_url=REDIS_URL))
    celery = app.extensions["celery"]
    dispatcher = app.extensions["loyalty_dispatcher"]
    assert isinstance(celery.connection_for_write().transport, redis_broker.Transport)
    try:
        for outbox_id in (1, 2, 3):
            assert dispatcher.send("loyalty.fulfil_reward", [outbox_id * 10], outbox_id)
        messages = [json.loads(m) for m in store.lrange("celery", 0, -1)]
        assert sorted(m["headers"]["task"] for m in messages) == ["loyalty.fulfil_reward"] * 3
        assert sorted(m["headers"]["argsrepr"] for m in messages) == ["[10]", "[20]", "[30]"]
        # kombu's own channel builds a client per message: here one serves them all.
        assert len(used) >= 3 and len({id(client) for client in used}) == 1

        # A replaced pool (a reconnection, a fork) gets a client of its own.
        made.clear()
        with celery.connection_for_write() as connection:
            channel = connection.default_channel
            channel._pool = None
            with channel.conn_or_acquire() as client:
                assert client.connection_pool is channel.pool
                assert made and made[-1] is client
    finally:
        store.flushdb()


def test_other_brokers_keep_their_transport(make_app: Any, settings: Settings) -> None:
    app: Flask = make_app(replace(settings, redis_url=None,
                                  celery_broker_url="amqp://guest:guest@127.0.0.1:5672//"))
    transport = app.extensions["celery"].connection_for_write().transport_cls
    assert transport == "amqp"
