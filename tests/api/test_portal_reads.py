"""The storefront's read endpoints: loyalty info, redeem options, ledger and rewards pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.models import (
    Customer,
    CustomerStatus,
    LimitInterval,
    RedeemRuleKind,
    Reward,
    RewardStatus,
    RewardType,
    Shop,
    VipTier,
)
from shopify_loyalty.services.rewards.codes import generate_code
from tests import factories
from tests.conftest import auth


def get(client: FlaskClient, shop: Shop, path: str, customer: int = 1001, **query: object):  # type: ignore[no-untyped-def]
    return client.get(f"/loyalty/cp/api/{path}", query_string=query,
                      headers=auth(shop.domain, customer))


def add_rewards(session: Session, shop: Shop, customer: Customer, status: RewardStatus,
                n: int) -> list[Reward]:
    rows = [
        Reward(shop_id=shop.id, customer_id=customer.id, reward_type=RewardType.DISCOUNT_CODE,
               points=10, status=status, discount_code=generate_code("T-"))
        for _ in range(n)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def test_first_contact_enrols_the_customer(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    response = get(client, shop, "customer-loyalty", customer=555)
    assert response.status_code == 200
    body = response.json
    assert body["customerId"] == 555
    assert body["availablePoints"] == 0 and body["customerStatus"] == "ACTIVE"
    assert body["rewards"] == []
    assert isinstance(body["createAt"], str)
    again = get(client, shop, "customer-loyalty", customer=555)
    assert again.json["createAt"] == body["createAt"]
    assert len(session.scalars(select(Customer).where(Customer.shop_id == shop.id)).all()) == 1


def test_loyalty_info_has_every_unused_reward_and_twenty_recent_others(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    customer = factories.customer(session, shop, 1001)
    unused = add_rewards(session, shop, customer, RewardStatus.UNUSED, 25)
    used = add_rewards(session, shop, customer, RewardStatus.USED, 30)
    later_unused = add_rewards(session, shop, customer, RewardStatus.UNUSED, 2)
    session.commit()
    rewards = get(client, shop, "customer-loyalty").json["rewards"]
    ids = [r["id"] for r in rewards]
    assert ids == sorted(ids, reverse=True)
    expected = {r.id for r in unused + later_unused} | {r.id for r in used[-20:]}
    assert set(ids) == expected and len(ids) == 47


def test_loyalty_info_fields_follow_appstle(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    bronze = VipTier(shop_id=shop.id, name="Bronze", threshold=Decimal("0"))
    silver = VipTier(shop_id=shop.id, name="Silver", threshold=Decimal("200"))
    session.add_all([bronze, silver])
    session.flush()
    factories.customer(session, shop, 1001, points=40, vip_tier_id=bronze.id,
                       rewarded_for={"facebook": True}, spent_amount=Decimal("12.50"))
    session.commit()
    body = get(client, shop, "customer-loyalty").json
    assert body["currentVipTier"] == "Bronze"
    assert body["achievableTierId"] == silver.id
    assert body["spentAmount"] == 12.5
    assert body["rewardedForFacebook"] is True and body["rewardedForSms"] is False
    for name in ("availablePoints", "pendingPoints", "creditedPoints", "storeCreditBalance",
                 "vipTierExpiredAt", "dob", "referredCompleted", "referralLink"):
        assert name in body


def test_transactions_are_paged_newest_first(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    for points in (10, 20, 30, 40, 50):
        factories.customer(session, shop, 1001, points=points)
    session.commit()
    first = get(client, shop, "transactions", page=0, size=2)
    assert first.headers["X-Total-Count"] == "5"
    assert [t["points"] for t in first.json] == [50, 40]
    assert first.json[0]["availableAfter"] == 150
    assert first.json[0]["kind"] == "ADJUSTED" and first.json[0]["status"] == "APPROVED"
    last = get(client, shop, "transactions", page=2, size=2)
    assert [t["points"] for t in last.json] == [10]
    assert get(client, shop, "transactions", page=9).json == []


def test_rewards_are_paged_and_filtered_by_status(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    customer = factories.customer(session, shop, 1001)
    add_rewards(session, shop, customer, RewardStatus.USED, 3)
    add_rewards(session, shop, customer, RewardStatus.UNUSED, 2)
    someone_else = factories.customer(session, shop, 2002)
    add_rewards(session, shop, someone_else, RewardStatus.UNUSED, 4)
    session.commit()
    everything = get(client, shop, "rewards", size=100)
    assert everything.headers["X-Total-Count"] == "5"
    used = get(client, shop, "rewards", status="USED")
    assert used.headers["X-Total-Count"] == "3"
    assert {r["status"] for r in used.json} == {"USED"}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("transactions", {"size": 101}),
        ("transactions", {"size": 0}),
        ("transactions", {"page": -1}),
        ("transactions", {"page": "abc"}),
        ("rewards", {"status": "LOST"}),
        ("rewards", {"size": "1e9"}),
    ],
)
def test_bad_paging_is_a_validation_error(
    client: FlaskClient, shop: Shop, path: str, query: dict[str, object]
) -> None:
    response = get(client, shop, path, **query)
    assert (response.status_code, response.json["code"]) == (422, "validation_error")


def test_redeem_options_say_what_can_be_redeemed_now(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    customer = factories.customer(session, shop, 1001, points=600)
    cheap = factories.rule(session, shop, points_cost=500)
    dear = factories.rule(session, shop, points_cost=5000)
    variable = factories.rule(session, shop, RedeemRuleKind.VARIABLE_AMOUNT)
    once = factories.rule(session, shop, points_cost=100, limit_count=1,
                          limit_interval=LimitInterval.LIFETIME)
    factories.rule(session, shop, active=False)
    add_rewards(session, shop, customer, RewardStatus.USED, 1)[0].redeem_rule_id = once.id
    session.commit()
    options = {o["id"]: o for o in get(client, shop, "point-redeem-rules").json}
    assert set(options) == {cheap.id, dear.id, variable.id, once.id}
    assert options[cheap.id]["canRedeem"] is True
    assert options[dear.id]["unavailableReason"] == "insufficient_points"
    assert options[variable.id]["pointsCost"] == 100 and options[variable.id]["canRedeem"]
    assert options[once.id]["unavailableReason"] == "redeem_limit_reached"
    assert options[cheap.id]["value"] == 5.0 and options[cheap.id]["kind"] == "FIXED_AMOUNT"

    customer.status = CustomerStatus.EXCLUDED
    session.commit()
    reasons = {o["unavailableReason"] for o in get(client, shop, "point-redeem-rules").json}
    assert reasons == {"customer_not_eligible"}


def test_a_customer_sees_only_their_own_shop(
    client: FlaskClient, session: Session, shop: Shop
) -> None:
    other = factories.shop(session)
    theirs = factories.customer(session, other, 1001, points=900)
    add_rewards(session, other, theirs, RewardStatus.UNUSED, 2)
    factories.rule(session, other)
    session.commit()
    mine = get(client, shop, "customer-loyalty").json
    assert mine["availablePoints"] == 0 and mine["rewards"] == []
    assert get(client, shop, "point-redeem-rules").json == []
    assert get(client, shop, "transactions").json == []
