"""The after-commit batcher: every task sent once, grouped by name, at most max_rows a batch."""

from __future__ import annotations

import threading

import pytest

from shopify_loyalty.db import QueuedTask
from shopify_loyalty.jobs.batching import Batcher, batch_args


def _task(n: int, name: str = "loyalty.a") -> QueuedTask:
    return QueuedTask(n, name, [n * 10], shop_id=1, leased=True)


def test_tasks_added_from_many_threads_are_each_sent_once_grouped_and_bounded() -> None:
    sent: list[tuple[str, list[int]]] = []
    batcher = Batcher(lambda name, tasks: sent.append((name, [t.outbox_id for t in tasks])),
                      max_wait=3600, max_rows=7)  # only flush() sends, in this test

    def add(first: int) -> None:
        for n in range(first, first + 25):
            batcher.add(_task(n, "loyalty.a" if n % 3 else "loyalty.b"))

    threads = [threading.Thread(target=add, args=(k * 100,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batcher.flush()

    assert all(len(ids) <= 7 for _name, ids in sent)
    by_name = {name: sorted(i for n, ids in sent if n == name for i in ids)
               for name in ("loyalty.a", "loyalty.b")}
    everything = [k * 100 + n for k in range(8) for n in range(25)]
    assert by_name["loyalty.a"] == [i for i in everything if i % 3]
    assert by_name["loyalty.b"] == [i for i in everything if not i % 3]
    batcher.flush()  # nothing is left to send twice
    assert sum(len(ids) for _name, ids in sent) == 200


def test_the_batchers_thread_sends_what_waits_without_being_asked() -> None:
    sent: list[list[int]] = []
    done = threading.Event()

    def send(_name: str, tasks: list[QueuedTask]) -> None:
        sent.append([t.outbox_id for t in tasks])
        if sum(map(len, sent)) == 3:
            done.set()

    batcher = Batcher(send, max_wait=0.005)
    for n in range(3):
        batcher.add(_task(n))
    assert done.wait(30), sent
    assert sorted(i for ids in sent for i in ids) == [0, 1, 2]


def test_a_batch_that_cannot_be_sent_is_logged_and_the_others_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[str] = []

    def send(name: str, tasks: list[QueuedTask]) -> None:
        if name == "loyalty.broken":
            raise ConnectionError("broker down")
        sent.append(name)

    batcher = Batcher(send, max_wait=3600)
    batcher.add(_task(1, "loyalty.broken"))
    batcher.add(_task(2, "loyalty.fine"))
    batcher.flush()
    assert sent == ["loyalty.fine"]
    assert "could not send a batch of loyalty.broken" in caplog.text


def test_a_forked_child_starts_its_own_thread_and_does_not_send_its_parents_tasks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[int] = []
    batcher = Batcher(lambda _n, tasks: sent.extend(t.outbox_id for t in tasks),
                      max_wait=3600)
    batcher.add(_task(1))  # waits in the "parent"
    threads = threading.active_count()
    monkeypatch.setattr("os.getpid", lambda: -1)  # now in a child
    batcher.add(_task(2))
    assert threading.active_count() == threads + 1
    batcher.flush()
    assert sent == [2]  # the parent's task is the parent's to send


def test_batch_args_put_each_rows_outbox_id_before_its_arguments() -> None:
    assert batch_args([_task(1), _task(2)]) == [[1, 10], [2, 20]]
