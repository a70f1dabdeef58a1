"""The dashboard: its figures add up the shop's program, and only that shop's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from shopify_loyalty.db import utcnow
from shopify_loyalty.models import CustomerStatus, LedgerKind, RedeemRuleKind, Shop
from shopify_loyalty.services.customers import dashboard
from shopify_loyalty.services.points import ledger
from shopify_loyalty.services.rewards import admin as rewards_admin
from shopify_loyalty.services.rewards import redemption
from tests import factories
from tests.api.test_admin import admin


@pytest.fixture
def installed(session: Session) -> Shop:
    shop = factories.shop(session, access_token_enc="not-used-here", settings={})
    session.commit()
    return shop


@pytest.fixture
def program(session: Session, installed: Shop) -> dict[str, Any]:
    """Two members and an excluded customer; two redemptions, one refunded; some earning."""
    five_off = factories.rule(session, installed, RedeemRuleKind.FIXED_AMOUNT)  # 0.01 a point
    factories.rule(session, installed, RedeemRuleKind.STORE_CREDIT)  # 0.01 a point
    factories.rule(session, installed, RedeemRuleKind.VARIABLE_AMOUNT, points_per_unit=50)
    factories.rule(session, installed, RedeemRuleKind.PERCENTAGE)  # no fixed worth
    factories.rule(session, installed, RedeemRuleKind.FIXED_AMOUNT, points_cost=1,
                   value=Decimal("5.00"), active=False)  # the best rate, but inactive
    ann = factories.customer(session, installed, 1, points=1000)
    bob = factories.customer(session, installed, 2, points=600)
    factories.customer(session, installed, 3, points=100, status=CustomerStatus.EXCLUDED)
    ledger.post(session, ann, LedgerKind.EARNED, 200, ledger.Source("order", "1"))
    now = utcnow()
    redemption.redeem_points(session, installed, ann, redemption.RedeemCommand(five_off.id), now)
    refunded = redemption.redeem_points(session, installed, bob,
                                        redemption.RedeemCommand(five_off.id), now)
    rewards_admin.refund_reward(session, installed, refunded.id)
    factories.customer(session, factories.shop(session), 1, points=5000)  # another shop's
    session.commit()
    return {"rule": five_off}


def test_the_dashboard_adds_up_the_program(client: FlaskClient, installed: Shop,
                                           program: dict[str, Any]) -> None:
    response = client.get("/api/admin/dashboard", headers=admin(installed.domain))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["currency"] == "USD"
    assert body["members"] == 2
    assert body["customersByStatus"] == {"ACTIVE": 2, "INACTIVE": 0, "EXCLUDED": 1,
                                         "EXCLUDED_BY_CUSTOMER": 0}
    # ann 1000 + 200 - 500, bob 600 - 500 + 500 back, the excluded customer's 100.
    assert body["pointsOutstanding"] == 1400
    assert (body["pointsCredited"], body["pointsSpent"]) == (1900, 500)
    assert body["redemptionRate"] == pytest.approx(0.2632)
    # The variable rule's 50 points a unit beats the 0.01 of the others.
    assert (body["pointValue"], body["pointValueSource"]) == ("0.02", "rules")
    assert body["outstandingValue"] == "28.00"
    assert body["rewardsByStatus"] == {"UNUSED": 1, "USED": 0, "REFUNDED": 1, "EXPIRED": 0}
    assert body["topRewards"] == [{"redeemRuleId": program["rule"].id,
                                   "name": program["rule"].name, "count": 1, "points": 500}]
    assert len(body["days"]) == 30
    assert body["days"][-1] == {"date": utcnow().date().isoformat(), "earned": 200,
                                "redeemed": 1000}
    assert all(d["earned"] == d["redeemed"] == 0 for d in body["days"][:-1])


def test_the_point_value_setting_wins_over_the_rules(client: FlaskClient, installed: Shop,
                                                     program: dict[str, Any]) -> None:
    headers = admin(installed.domain)
    client.patch("/api/admin/settings", headers=headers, json={"pointValue": "0.005"})
    body = client.get("/api/admin/dashboard", headers=headers).json
    assert (body["pointValue"], body["pointValueSource"]) == ("0.005", "setting")
    assert body["outstandingValue"] == "7.00"


def test_the_days_are_the_last_thirty_in_utc(session: Session, installed: Shop,
                                              program: dict[str, Any]) -> None:
    in_three_days = dashboard.summary(session, installed, utcnow() + timedelta(days=3))
    assert [d.earned for d in in_three_days.days][-4:] == [200, 0, 0, 0]
    assert in_three_days.days[-1].day == (utcnow() + timedelta(days=3)).date()
    a_month_on = dashboard.summary(session, installed, utcnow() + timedelta(days=30))
    assert sum(d.earned + d.redeemed for d in a_month_on.days) == 0


def test_an_empty_shop_has_a_dashboard_of_zeros(client: FlaskClient, installed: Shop) -> None:
    body = client.get("/api/admin/dashboard", headers=admin(installed.domain)).json
    assert (body["members"], body["pointsOutstanding"], body["topRewards"]) == (0, 0, [])
    assert (body["pointValue"], body["outstandingValue"], body["redemptionRate"]) == (
        None, None, None)
    assert body["pointValueSource"] == "none"


def test_another_shops_dashboard_shows_none_of_it(client: FlaskClient, session: Session,
                                                  program: dict[str, Any]) -> None:
    other = factories.shop(session, access_token_enc="not-used", settings={})
    session.commit()
    body = client.get("/api/admin/dashboard", headers=admin(other.domain)).json
    assert (body["members"], body["pointsOutstanding"], body["rewardsByStatus"]["UNUSED"]) == (
        0, 0, 0)
    assert client.get("/api/admin/dashboard").status_code == 401


def test_a_customers_whole_ledger_is_paged(client: FlaskClient, session: Session,
                                           installed: Shop, program: dict[str, Any]) -> None:
    headers = admin(installed.domain)
    first = client.get("/api/admin/customers/2/transactions?size=2", headers=headers)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "3"
    assert [(t["kind"], t["points"]) for t in first.json] == [("REFUNDED", 500),
                                                              ("REDEEMED", -500)]
    rest = client.get("/api/admin/customers/2/transactions?size=2&page=1", headers=headers)
    assert [t["kind"] for t in rest.json] == ["ADJUSTED"]
    other = factories.shop(session, access_token_enc="not-used", settings={})
    session.commit()
    hidden = client.get("/api/admin/customers/2/transactions", headers=admin(other.domain))
    assert hidden.status_code == 404
