"""The Shopify customer sync: what is written, coalescing, batching, tags and the switch."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database, utcnow
from shopify_loyalty.models import Shop
from shopify_loyalty.services.customers import adjustments
from shopify_loyalty.services.customers import tiers as customer_tiers
from shopify_loyalty.services.program import settings as shop_settings
from shopify_loyalty.services.program import tiers
from shopify_loyalty.services.shops.admins import ShopAdmins
from tests import factories
from tests.fake_shopify_customers import FakeCustomers, gid
from tests.integration.sync_setup import fake, link, mark_of, sync

__all__ = ["fake"]


def test_twenty_changes_within_the_window_make_one_write_of_the_last_balance(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    customer = factories.customer(session, token_shop, 1001)
    for points in range(1, 21):
        adjustments.adjust_points(session, token_shop, 1001, points, "burst")
        session.commit()
    row = mark_of(session, customer)
    # One count a transaction: enrolled with the first adjustment, then 19 more.
    assert row is not None and row.changes == 20

    assert sync(db, admins, token_shop, utcnow()).written == 0  # still within the window
    assert fake.calls == []
    assert sync(db, admins, token_shop).written == 1
    assert fake.names().count("MetafieldsSet") == 1
    assert fake.of(1001) == {"points_balance": "210", "referral_url": link(token_shop, customer)}
    assert fake.metafields[(gid(1001), "points_balance")][0] == "number_integer"
    row = mark_of(session, customer)
    assert row is not None and row.due_at is None and row.synced_at is not None
    calls = len(fake.calls)
    assert sync(db, admins, token_shop).written == 0 and len(fake.calls) == calls


def test_a_change_during_the_write_is_written_again_never_lost(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    customer = factories.customer(session, token_shop, 1001, points=100)
    session.commit()
    written: list[str] = []

    def meanwhile(operation: str) -> None:
        if operation == "MetafieldsSet":
            written.append(fake.of(1001).get("points_balance", "-"))
        if len(written) == 1 and operation == "MetafieldsSet":
            with db.unit_of_work() as other:
                adjustments.adjust_points(other, other.get_one(Shop, token_shop.id), 1001, 5,
                                          "while the write is under way")

    fake.before_apply = meanwhile
    # The mark is not cleared by the first write (its count moved): it is due at once, and
    # the run's next claim writes the new state.
    assert sync(db, admins, token_shop).written == 2
    assert fake.of(1001)["points_balance"] == "105"
    assert fake.names().count("MetafieldsSet") == 2
    row = mark_of(session, customer)
    # Enrolled with its points (one transaction), then the adjustment.
    assert row is not None and row.due_at is None and row.changes == 2


def test_twenty_customers_are_written_in_three_calls_of_at_most_25_metafields(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    for n in range(20):
        factories.customer(session, token_shop, 2000 + n, points=10 * n + 1)
    session.commit()

    assert sync(db, admins, token_shop).written == 20
    sizes = [len(v["metafields"]) for name, v in fake.calls if name == "MetafieldsSet"]
    assert sizes == [16, 16, 8]  # eight customers a call; no tier: two metafields each
    assert {fake.of(2000 + n)["points_balance"] for n in range(20)} == {
        str(10 * n + 1) for n in range(20)}
    # No tier: nothing written for it, and the first write deletes any a former install left.
    assert all("vip_tier" not in fake.of(2000 + n) for n in range(20))
    assert fake.names().count("MetafieldsDelete") == 3
    assert "TagsAdd" not in fake.names() and "TagsRemove" not in fake.names()


def test_a_tier_change_replaces_the_tier_tag_and_no_tier_removes_it(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    silver, gold = (tiers.create_tier(session, token_shop, tiers.TierSpec(
        name=name, threshold=Decimal(t))) for name, t in (("Silver", "100"), ("Gold", "500")))
    customer = factories.customer(session, token_shop, 1001, points=50)
    fake.tags[gid(1001)] = {"newsletter", "Loyalty tier: Bronze"}
    customer_tiers.assign(session, token_shop, customer, silver.id, None, utcnow())
    session.commit()

    factories.customer(session, token_shop, 1002)  # no tier: its first write has no tag call
    session.commit()
    sync(db, admins, token_shop)
    assert fake.of(1001)["vip_tier"] == "Silver"
    assert [v["id"] for name, v in fake.calls if name.startswith("Tags")] == [gid(1001)] * 2
    assert next(v for n, v in fake.calls if n == "TagsRemove")["tags"] == ["Loyalty tier: Gold"]
    # A tag of a tier the shop no longer has stays: only the shop's tiers' tags are ours.
    assert fake.tags[gid(1001)] == {"newsletter", "Loyalty tier: Bronze", "Loyalty tier: Silver"}

    customer_tiers.assign(session, token_shop, customer, gold.id, None, utcnow())
    session.commit()
    fake.calls.clear()
    sync(db, admins, token_shop)
    assert fake.names() == ["MetafieldsSet", "TagsAdd", "TagsRemove"]
    assert fake.calls[1][1]["tags"] == ["Loyalty tier: Gold"]
    assert fake.calls[2][1]["tags"] == ["Loyalty tier: Silver"]
    assert fake.tags[gid(1001)] == {"newsletter", "Loyalty tier: Bronze", "Loyalty tier: Gold"}
    assert fake.of(1001)["vip_tier"] == "Gold"

    customer_tiers.assign(session, token_shop, customer, None, None, utcnow())
    session.commit()
    sync(db, admins, token_shop)
    assert fake.tags[gid(1001)] == {"newsletter", "Loyalty tier: Bronze"}
    assert "vip_tier" not in fake.of(1001)

    # A balance change alone costs no tag call, and no delete once none is left to delete.
    adjustments.adjust_points(session, token_shop, 1001, 7, "more")
    session.commit()
    fake.calls.clear()
    sync(db, admins, token_shop)
    assert fake.names() == ["MetafieldsSet"]
    assert fake.of(1001)["points_balance"] == "57"


def test_renaming_a_tier_writes_its_members_again(
    session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers, token_shop: Shop
) -> None:
    silver = tiers.create_tier(session, token_shop,
                               tiers.TierSpec(name="Silver", threshold=Decimal(100)))
    customer = factories.customer(session, token_shop, 1001)
    factories.customer(session, token_shop, 1002)
    customer_tiers.assign(session, token_shop, customer, silver.id, None, utcnow())
    session.commit()
    sync(db, admins, token_shop)

    tiers.update_tier(session, token_shop, silver.id, {"name": "Argent"})
    session.commit()
    fake.calls.clear()
    assert sync(db, admins, token_shop).written == 1  # its member only
    assert fake.of(1001)["vip_tier"] == "Argent"
    assert fake.tags[gid(1001)] == {"Loyalty tier: Argent"}


def test_a_shop_that_turns_the_sync_off_has_nothing_marked_nor_written(
    app: Flask, session: Session, db: Database, admins: ShopAdmins, fake: FakeCustomers,
    token_shop: Shop
) -> None:
    customer = factories.customer(session, token_shop, 1001, points=10)
    session.commit()
    result = app.test_cli_runner().invoke(
        args=["shops", "set", token_shop.domain, "--shopify-sync", "off"])
    assert result.exit_code == 0, result.output
    assert '"shopify_sync": false' in result.output

    # Marked before the switch: the run clears it without a call.
    assert sync(db, admins, token_shop).written == 0
    row = mark_of(session, customer)
    assert row is not None and row.due_at is None and fake.calls == []
    adjustments.adjust_points(session, token_shop, 1001, 5, "off")
    session.commit()
    row = mark_of(session, customer)
    # Enrolled with its points (one count): the adjustment with the sync off counts none.
    assert row is not None and row.due_at is None and row.changes == 1

    session.refresh(token_shop)
    shop_settings.update_settings(token_shop, shopify_sync=True)
    adjustments.adjust_points(session, token_shop, 1001, 5, "on")
    session.commit()
    assert sync(db, admins, token_shop).written == 1
    assert fake.of(1001)["points_balance"] == "20"


def test_the_admin_api_and_cli_refuse_a_bad_switch_value(app: Flask, token_shop: Shop) -> None:
    result = app.test_cli_runner().invoke(
        args=["shops", "set", token_shop.domain, "--shopify-sync", "maybe"])
    assert result.exit_code != 0 and "on or off" in result.output
