"""Birthdays: the date of birth set once, and the ``birthdays`` job paying once a year, on
the shop's own day, with 29 February, the 30-day notice, catching up, and two runs at once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from shopify_loyalty.db import Database
from shopify_loyalty.jobs import scheduled
from shopify_loyalty.models import Customer, EarnRuleKind, LoyaltyEvent, PointTransaction, Shop
from shopify_loyalty.services.customers import actions
from shopify_loyalty.services.program import earn_rules
from tests import factories
from tests.api.test_admin import admin
from tests.conftest import auth

CUSTOMER = 4242
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def birthday_rule(session: Session, shop: Shop, points: int = 200, **fields: Any) -> None:
    earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
        kind=EarnRuleKind.BIRTHDAY, points=points, **fields))
    session.commit()


def born(session: Session, shop: Shop, dob: date, given: datetime = LONG_AGO,
         shopify_id: int = CUSTOMER, **fields: Any) -> Customer:
    customer = factories.customer(session, shop, shopify_id, **fields)
    actions.set_dob(session, customer, dob, given)
    session.commit()
    return customer


def run(app: Flask, at: datetime) -> int:
    result = app.test_cli_runner().invoke(args=["jobs", "run", "birthdays", "--now",
                                                at.isoformat()])
    assert result.exit_code == 0, result.output
    handled: int = json.loads(result.stdout)["handled"]
    return handled


def paid(session: Session, customer: Customer) -> list[tuple[str | None, int]]:
    session.expire_all()
    return [(r.source_id, r.points) for r in session.scalars(
        select(PointTransaction).where(PointTransaction.customer_id == customer.id)
        .order_by(PointTransaction.id))]


def noon(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


def test_the_job_pays_once_a_day_and_again_next_year(app: Flask, session: Session,
                                                     shop: Shop) -> None:
    birthday_rule(session, shop)
    customer = born(session, shop, date(1990, 6, 15))
    assert run(app, noon("2026-06-14")) == 0
    assert run(app, noon("2026-06-15")) == 1
    assert run(app, noon("2026-06-15") + timedelta(hours=6)) == 0
    assert run(app, noon("2026-06-18")) == 0  # the catch-up window sees it done
    assert run(app, noon("2027-06-15")) == 1
    key = customer.shopify_customer_id
    assert paid(session, customer) == [(f"2026:{key}", 200), (f"2027:{key}", 200)]
    event = session.scalars(select(LoyaltyEvent.body).where(
        LoyaltyEvent.type == "points.earned")).first()
    assert event is not None and event["data"]["ruleKind"] == "BIRTHDAY"
    assert customer.available_points == 400 == factories.ledger_sum(session, customer.id)


def test_a_dob_given_29_days_before_waits_a_year_30_days_pays(
    app: Flask, session: Session, shop: Shop
) -> None:
    birthday_rule(session, shop)
    late = born(session, shop, date(1991, 8, 30), given=noon("2026-08-01"))  # 29 days
    early = born(session, shop, date(1992, 8, 30), given=noon("2026-07-31"), shopify_id=4243)
    assert run(app, noon("2026-08-30")) == 2
    assert paid(session, late) == [] and len(paid(session, early)) == 1
    assert run(app, noon("2027-08-30")) == 2
    assert len(paid(session, late)) == 1 and len(paid(session, early)) == 2


def test_29_february_is_the_28th_in_other_years(app: Flask, session: Session,
                                               shop: Shop) -> None:
    birthday_rule(session, shop)
    leapling = born(session, shop, date(2000, 2, 29))
    assert run(app, noon("2027-02-27")) == 0
    assert run(app, noon("2027-02-28")) == 1
    assert run(app, noon("2027-03-01")) == 0
    assert run(app, noon("2028-02-28")) == 0  # 2028 has its own 29th
    assert run(app, noon("2028-02-29")) == 1
    key = leapling.shopify_customer_id
    assert paid(session, leapling) == [(f"2027:{key}", 200), (f"2028:{key}", 200)]


def test_a_missed_day_is_caught_up_within_seven_days(app: Flask, session: Session,
                                                     shop: Shop) -> None:
    birthday_rule(session, shop)
    caught = born(session, shop, date(1990, 12, 30))
    lost = born(session, shop, date(1990, 12, 20), shopify_id=4243)
    # Nothing ran for ten days, across the new year.
    assert run(app, noon("2027-01-05")) == 1
    assert paid(session, caught) == [(f"2026:{caught.shopify_customer_id}", 200)]
    assert paid(session, lost) == []


def test_the_day_is_the_shop_s_own(app: Flask, session: Session) -> None:
    auckland = factories.shop(session, iana_timezone="Pacific/Auckland")
    utc = factories.shop(session)
    broken = factories.shop(session, iana_timezone="Not/AZone")
    for shop in (auckland, utc, broken):
        birthday_rule(session, shop)
    at_auckland = born(session, auckland, date(1990, 12, 10))
    at_utc = born(session, utc, date(1990, 12, 10))
    at_broken = born(session, broken, date(1990, 12, 10))
    # 12:00 UTC on the 9th is 01:00 on the 10th in Auckland (UTC+13 in summer).
    assert run(app, noon("2026-12-09")) == 1
    assert len(paid(session, at_auckland)) == 1 and paid(session, at_utc) == []
    assert run(app, noon("2026-12-10")) == 2  # the UTC shop, and the unknown zone's as UTC
    assert len(paid(session, at_utc)) == 1 and len(paid(session, at_broken)) == 1


def test_no_rule_no_points_and_excluded_customers_are_passed_over(
    app: Flask, session: Session, shop: Shop
) -> None:
    customer = born(session, shop, date(1990, 5, 5))
    assert run(app, noon("2026-05-05")) == 0  # no rule: the shop is not looked at
    birthday_rule(session, shop)
    excluded = born(session, shop, date(1990, 5, 5), shopify_id=4243, status="EXCLUDED")
    assert run(app, noon("2026-05-06")) == 2
    assert len(paid(session, customer)) == 1 and paid(session, excluded) == []
    assert excluded.birthday_year == 2026


def test_two_runs_at_once_pay_each_birthday_once(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.BIRTHDAY, points=50))
        session.add_all(Customer(  # more than two batches; straight rows, for speed
            shop_id=shop.id, shopify_customer_id=9000 + n, referral_code=f"BDAY{n:04d}",
            dob=date(1980 + n % 30, 3, 3), birth_month_day=303, dob_set_at=LONG_AGO,
        ) for n in range(1200))
    at = noon("2026-03-03")
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(
        scheduled.run_now(committed_db, "birthdays", at))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(report.handled for report in reports) == 1200
    with committed_db.unit_of_work() as session:
        sources = session.scalars(select(PointTransaction.source_id)).all()
        assert len(sources) == len(set(sources)) == 1200


def test_ten_runs_at_once_pay_one_birthday_once(committed_db: Database) -> None:
    with committed_db.unit_of_work() as session:
        shop = factories.shop(session)
        earn_rules.create_earn_rule(session, shop, earn_rules.EarnRuleSpec(
            kind=EarnRuleKind.BIRTHDAY, points=50))
        customer = factories.customer(session, shop, CUSTOMER)
        actions.set_dob(session, customer, date(1990, 3, 3), LONG_AGO)
    at = noon("2026-03-03")
    barrier = threading.Barrier(10)
    reports: list[Any] = []

    def run_once() -> None:
        barrier.wait()
        reports.append(scheduled.run_now(committed_db, "birthdays", at))

    threads = [threading.Thread(target=run_once) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(report.handled for report in reports) == [0] * 9 + [1]
    with committed_db.unit_of_work() as session:
        assert session.scalars(select(PointTransaction.points)).all() == [50]


def birthday(client: FlaskClient, shop: Shop, body: Any) -> Any:
    return client.post("/loyalty/cp/api/birthday", json=body, headers=auth(shop.domain, CUSTOMER))


def test_the_storefront_sets_the_dob_once(client: FlaskClient, session: Session,
                                          shop: Shop) -> None:
    first = birthday(client, shop, {"dob": "1990-04-01"})
    assert first.status_code == 200 and first.json["dob"] == "1990-04-01"
    second = birthday(client, shop, {"dob": "1991-04-01"})
    assert (second.status_code, second.json["code"]) == (409, "dob_already_set")
    assert client.get("/loyalty/cp/api/customer-loyalty",
                      headers=auth(shop.domain, CUSTOMER)).json["dob"] == "1990-04-01"


def test_bad_dates_are_422_and_store_nothing(client: FlaskClient, session: Session,
                                             shop: Shop) -> None:
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    for body in ({"dob": "2026-02-30"}, {"dob": "1990-13-01"}, {"dob": "yesterday"},
                 {"dob": tomorrow}, {"dob": "1850-01-01"}, {"dob": 19900101}, {},
                 {"dob": "1990-01-01", "extra": True}, {"dob": None}):
        response = birthday(client, shop, body)
        assert (response.status_code, response.json["code"]) == (422, "validation_error"), body
    row = session.scalars(select(Customer).where(Customer.shop_id == shop.id)).first()
    # Some were refused before the customer was even looked up.
    assert row is None or (row.dob, row.birth_month_day, row.dob_set_at) == (None, None, None)


def test_the_merchant_changes_the_dob_of_their_own_customers_only(
    client: FlaskClient, session: Session
) -> None:
    shop = factories.shop(session, access_token_enc="x", settings={})
    other = factories.shop(session, access_token_enc="x", settings={})
    customer = born(session, shop, date(1990, 4, 1))
    path = f"/api/admin/customers/{CUSTOMER}"
    changed = client.patch(path, json={"dob": "1990-05-02"}, headers=admin(shop.domain))
    assert changed.status_code == 200 and changed.json["dob"] == "1990-05-02"
    session.expire_all()
    assert (customer.birth_month_day, customer.dob_set_at) == (502, LONG_AGO)
    assert client.patch(path, json={"dob": "1990-05-03"},
                        headers=admin(other.domain)).status_code == 404
    assert client.patch(path, json={"dob": "2990-05-03"},
                        headers=admin(shop.domain)).status_code == 422
    erased = client.patch(path, json={"dob": None}, headers=admin(shop.domain))
    assert erased.status_code == 200 and erased.json["dob"] is None
