"""The sync under real concurrency on real PostgreSQL: changes of one customer at once make
one mark, and two runs of one shop at once never write a customer twice."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import responses
from sqlalchemy import select

from shopify_loyalty.config import DEV_TOKEN_ENCRYPTION_KEY
from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import CustomerSync, Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.events.sync import run
from shopify_loyalty.services.events.sync.marks import SYNC_WINDOW
from shopify_loyalty.services.shops.admins import ShopAdmins
from shopify_loyalty.token_cipher import TokenCipher
from tests import factories
from tests.fake_shopify_customers import FakeCustomers
from tests.integration.sync_setup import APP_URL, LEASE, after_window

THREADS = 8


def in_threads(count: int, work: Callable[[int], None]) -> None:
    barrier = threading.Barrier(count)
    errors: list[Exception] = []

    def target(n: int) -> None:
        barrier.wait()
        try:
            work(n)
        except Exception as exc:  # collected: the test asserts there were none
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []


@pytest.fixture
def shop_id(committed_db: Database) -> int:
    cipher = TokenCipher(DEV_TOKEN_ENCRYPTION_KEY)
    with committed_db.unit_of_work() as session:
        return factories.shop(session, access_token_enc=cipher.encrypt("shpat_race")).id


@pytest.fixture
def race_fake(committed_db: Database, shop_id: int) -> Iterator[FakeCustomers]:
    with committed_db.unit_of_work() as session:
        domain = session.get_one(Shop, shop_id).domain
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeCustomers(mock).serve(domain)


def test_concurrent_changes_of_one_customer_make_one_mark_counting_each(
    committed_db: Database, shop_id: int
) -> None:
    started = utcnow()
    with committed_db.unit_of_work() as session:
        factories.customer(session, session.get_one(Shop, shop_id), 1001)

    def change(n: int) -> None:
        with committed_db.unit_of_work() as session:
            adjustments.adjust_points(session, session.get_one(Shop, shop_id), 1001, n + 1, "race")

    in_threads(THREADS, change)
    with committed_db.unit_of_work() as session:
        row = session.scalars(select(CustomerSync)).one()
        assert row.changes == 1 + THREADS
        # Due once, a window after the first change: the later ones did not push it back.
        assert row.due_at is not None and row.due_at <= started + SYNC_WINDOW + timedelta(seconds=5)


def test_two_runs_of_one_shop_at_once_write_each_customer_once(
    committed_db: Database, shop_id: int, race_fake: FakeCustomers, admins: ShopAdmins
) -> None:
    with committed_db.unit_of_work() as session:
        shop = session.get_one(Shop, shop_id)
        for n in range(40):
            factories.customer(session, shop, 5000 + n, points=n + 1)
    race_fake.before_apply = lambda operation: time.sleep(0.02)  # the runs overlap
    now = after_window()
    reports: list[run.SyncReport] = []

    def sync(n: int) -> None:
        reports.append(run.sync_shop(committed_db, admins, APP_URL, shop_id, now, LEASE))

    in_threads(2, sync)
    assert sum(r.written for r in reports) == 40
    owners = Counter(m["ownerId"] for name, v in race_fake.calls if name == "MetafieldsSet"
                     for m in v["metafields"] if m["key"] == "points_balance")
    assert len(owners) == 40 and set(owners.values()) == {1}
    with committed_db.unit_of_work() as session:
        assert session.scalars(select(CustomerSync.due_at)).all() == [None] * 40
