"""A process's copies of a shop's program (services.program_cache) are used while the shop's
version is unchanged, and never after a change, whoever makes it: through the ORM, by a plain
UPDATE, by hand in SQL; on PostgreSQL and on SQLite (migration 0019's triggers on both)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event, select, text, update
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.errors import RedeemRuleNotFoundError
from shopify_loyalty.models import EarnRuleKind, EventEndpoint, RedeemRule, Shop, VipTier
from shopify_loyalty.services import program_cache
from shopify_loyalty.services.events.fanout import _enabled_endpoints
from shopify_loyalty.services.program import earn_rules, tiers
from shopify_loyalty.services.program.tiers import TierSpec
from shopify_loyalty.services.rewards import redemption
from tests import factories


class Reads:
    """The statements a database was asked, by table read."""

    def __init__(self, db: Database) -> None:
        self.tables: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            for table in ("vip_tiers", "earn_rules", "event_endpoints"):
                if f"FROM {table}" in statement:
                    self.tables.append(table)

    def take(self) -> list[str]:
        taken, self.tables = self.tables, []
        return taken


def _read(db: Database, shop_id: int) -> tuple[list[str], Decimal | None, list[int]]:
    """Each request reads its shop, then the program: tiers, purchase rule, endpoints."""
    with db.unit_of_work() as session:
        shop = session.get_one(Shop, shop_id)
        rule = earn_rules.active_rule(session, shop, EarnRuleKind.PURCHASE)
        return ([t.name for t in tiers.tiers(session, shop)],
                rule.points_per_unit if rule else None,
                [endpoint_id for endpoint_id, _types in _enabled_endpoints(session, shop.id)])


def test_copies_serve_until_the_program_changes_however_it_changes(
    both_backends_db: Database,
) -> None:
    db = both_backends_db
    with db.unit_of_work() as session:
        shop_id = factories.shop(session).id
        other_id = factories.shop(session, domain="other.myshopify.com").id
        tiers.create_tier(session, session.get_one(Shop, shop_id), TierSpec(
            name="Silver", threshold=Decimal("100")))
    reads = Reads(db)

    assert _read(db, shop_id) == (["Silver"], None, [])
    assert sorted(reads.take()) == ["earn_rules", "event_endpoints", "vip_tiers"]
    assert _read(db, shop_id) == (["Silver"], None, [])
    assert reads.take() == []  # all three from the copies
    assert _read(db, other_id) == ([], None, [])  # another shop: its own copies
    assert len(reads.take()) == 3

    with db.unit_of_work() as session:  # through the ORM
        earn_rules.create_earn_rule(session, session.get_one(Shop, shop_id),
                                    earn_rules.EarnRuleSpec(kind=EarnRuleKind.PURCHASE,
                                                            points_per_unit=3))
    assert _read(db, shop_id) == (["Silver"], Decimal("3"), [])
    assert len(reads.take()) == 3
    assert _read(db, other_id) == ([], None, [])
    assert reads.take() == []  # the other shop's copies are still good

    with db.unit_of_work() as session:  # a plain UPDATE
        session.execute(update(VipTier).values(name="Gold"))
    assert _read(db, shop_id)[0] == ["Gold"]

    with db.engine.begin() as connection:  # by hand, in SQL
        connection.execute(text(
            "INSERT INTO event_endpoints (shop_id, url, secret_enc, enabled, created_at)"
            " VALUES (:shop, 'https://hooks.example.com/x', 'x', true, CURRENT_TIMESTAMP)"),
            {"shop": shop_id})
    [endpoint] = _read(db, shop_id)[2]
    reads.take()
    with db.engine.begin() as connection:  # a column the fan-out does not read
        connection.execute(update(EventEndpoint).values(failing_since=None))
    assert _read(db, shop_id)[2] == [endpoint] and reads.take() == []
    with db.engine.begin() as connection:
        connection.execute(update(EventEndpoint).values(enabled=False))
    assert _read(db, shop_id)[2] == []


def test_a_transaction_that_changed_the_program_reads_its_own_change(
    both_backends_db: Database,
) -> None:
    with both_backends_db.unit_of_work() as session:
        shop_id = factories.shop(session).id
    assert _read(both_backends_db, shop_id)[0] == []  # a copy of no tiers, at the shop's version
    with both_backends_db.unit_of_work() as session:
        shop = session.get_one(Shop, shop_id)
        assert tiers.tiers(session, shop) == []
        tiers.create_tier(session, shop, TierSpec(name="Silver", threshold=Decimal("100")))
        # The shop in memory still has the version it was read with; the copy is not used.
        assert [t.name for t in tiers.tiers(session, shop)] == ["Silver"]
        savepoint = session.begin_nested()  # one rolled back (an enrolment's insert, say)
        savepoint.rollback()
        assert [t.name for t in tiers.tiers(session, shop)] == ["Silver"]


def test_copies_are_apart_from_every_session(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        tiers.create_tier(session, shop, TierSpec(name="Silver", threshold=Decimal("100")))
        shop_id = shop.id
    _read(committed_db, shop_id)
    with committed_db.unit_of_work() as session:
        [copy] = tiers.tiers(session, session.get_one(Shop, shop_id))
        assert copy not in session
        session.flush()
        # The session's own row is another object, and the one its changes go through.
        row = session.scalars(select(VipTier)).one()
        assert row is not copy
    assert isinstance(session, Session)


def test_reward_rules_are_one_copy_a_shop_whatever_ids_are_asked_for(
    committed_db: Database,
) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        other = factories.shop(session, domain="other.myshopify.com")
        mine, theirs = factories.rule(session, shop).id, factories.rule(session, other).id
        shop_id = shop.id

    def ask(rule_id: int) -> int | None:
        with committed_db.unit_of_work() as session:
            try:
                return redemption.active_rule(session, session.get_one(Shop, shop_id),
                                              rule_id).id
            except RedeemRuleNotFoundError:
                return None

    assert ask(mine) == mine
    kept = program_cache.copies()
    # Another shop's rule and ids that exist nowhere: refused, and the copies do not grow.
    assert [ask(rule_id) for rule_id in (theirs, *range(10**6, 10**6 + 50))] == [None] * 51
    assert program_cache.copies() == kept
    with committed_db.unit_of_work() as session:
        session.get_one(RedeemRule, mine).active = False
    assert ask(mine) is None
