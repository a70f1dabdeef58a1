"""kombu's Redis transport, publishing through one Redis client per channel.

kombu's Redis channel builds a new ``redis.Redis`` for every message it publishes
(``Channel.conn_or_acquire``); building one fills a table of ~170 response callbacks, about a
quarter of what a publish costs (measured: ``bench.profile_redeem``, README *Performance*).
The client is only a thread-safe front of the channel's connection pool, so one per channel
(made again when kombu replaces the pool, after a fork or a reconnection) sends exactly the
same commands. Used for ``redis://`` brokers (jobs.setup); RabbitMQ keeps its own transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):  # type: ignore[misc]
    _publisher: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        publisher = self._publisher
        if publisher is None or publisher.connection_pool is not self.pool:
            publisher = self._publisher = self._create_client()  # type: ignore[no-untyped-call]
        yield publisher


class Transport(kombu_redis.Transport):  # type: ignore[misc]
    Channel = Channel


TRANSPORT = f"{__name__}:Transport"
